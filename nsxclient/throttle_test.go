package nsxclient

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a manually advanced clock for the throttle.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestAdaptiveRateHalvesOnThrottlingAndRecoversSlowly(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	th := newThrottle(Config{RateLimit: 40, Burst: 1, MaxConcurrentRequests: 4})
	th.now = clock.now
	rate := func() float64 { return float64(th.limiter.Limit()) }

	clock.advance(time.Minute)
	th.throttled(0)
	if rate() != 20 {
		t.Fatalf("after one 429: rate %v, want 20", rate())
	}
	// The answers to requests already in flight are one signal, not many.
	for range 10 {
		th.throttled(0)
	}
	if rate() != 20 {
		t.Fatalf("after a burst of 429s within a second: rate %v, want 20", rate())
	}
	for range 10 {
		clock.advance(decreaseEvery)
		th.throttled(0)
	}
	if rate() != minRateFloor {
		t.Fatalf("after ten more seconds of 429s: rate %v, want the floor %v", rate(), minRateFloor)
	}
	// Recovery: a twentieth of the ceiling (2 req/s) per second of answers without throttling.
	th.succeeded() // too soon after the last decrease
	if rate() != minRateFloor {
		t.Fatalf("success right after a decrease raised the rate to %v", rate())
	}
	for i := 1; i <= 5; i++ {
		clock.advance(increaseEvery)
		th.succeeded()
		th.succeeded() // several answers in one second count once
		if want := float64(minRateFloor) + 2*float64(i); rate() != want {
			t.Fatalf("after %d s of successes: rate %v, want %v", i, rate(), want)
		}
	}
	for range 100 {
		clock.advance(increaseEvery)
		th.succeeded()
	}
	if rate() != 40 {
		t.Fatalf("after a long quiet time: rate %v, want the configured 40", rate())
	}
}

func TestUnlimitedRateStaysUnlimited(t *testing.T) {
	th := newThrottle(Config{RateLimit: -1, Burst: 1})
	th.throttled(0)
	th.succeeded()
	if th.limiter.Limit() < 1e9 {
		t.Fatalf("an unlimited client got a rate of %v after a 429", th.limiter.Limit())
	}
}

// A Retry-After holds back every request of the client, not only the one that got it, and is not
// waited for twice by the request that got it.
func TestRetryAfterPausesTheWholeClient(t *testing.T) {
	var answered atomic.Int32
	f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		if answered.Add(1) == 1 {
			w.Header().Set("Retry-After", "3")
			writeNSXError(w, 429, 0, "slow down")
			return
		}
		writeJSON(w, 200, map[string]any{"id": "x"})
	})
	c := f.client(func(c *Config) { c.RateLimit = 1000 })
	var sleeps sleepRecorder
	c.sleep = sleeps.sleep
	if _, err := c.GetSection(context.Background(), "sec-1"); err != nil {
		t.Fatal(err)
	}
	if waits := sleeps.recorded(); len(waits) != 1 || waits[0] < 3*time.Second {
		t.Fatalf("the throttled request waited %v; want one wait of at least 3s", waits)
	}
	// Another request right after (the fake sleep did not let real time pass) waits for the pause.
	if _, err := c.GetSection(context.Background(), "sec-2"); err != nil {
		t.Fatal(err)
	}
	waits := sleeps.recorded()
	if len(waits) != 2 || waits[1] <= 2*time.Second || waits[1] > 3*time.Second {
		t.Fatalf("the next request waited %v; want the rest of the 3s pause", waits)
	}
	if th := c.Throttling(); th.Throttled != 1 || th.Rate >= th.Ceiling {
		t.Fatalf("Throttling() = %+v; want one throttled answer and a lowered rate", th)
	}
}

func TestConcurrentRequestsAreCapped(t *testing.T) {
	var inFlight, peak atomic.Int32
	f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		inFlight.Add(-1)
		writeJSON(w, 200, map[string]any{"id": "x"})
	})
	c := f.client(func(c *Config) { c.MaxConcurrentRequests = 3; c.RateLimit = -1 })
	var wg sync.WaitGroup
	for range 24 {
		wg.Go(func() {
			if _, err := c.GetSection(context.Background(), "s"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 3 || p < 2 {
		t.Fatalf("peak requests in flight %d; want at most the cap of 3 (and more than one)", p)
	}
	if th := c.Throttling(); th.InFlight != 0 || th.MaxInFlight != 3 {
		t.Fatalf("Throttling() = %+v after the calls", th)
	}
}

func TestWaitingForASlotHonoursTheContext(t *testing.T) {
	release := make(chan struct{})
	f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		<-release
		writeJSON(w, 200, map[string]any{"id": "x"})
	})
	t.Cleanup(func() { close(release) })
	c := f.client(func(c *Config) { c.MaxConcurrentRequests = 1 })
	go func() { _, _ = c.GetSection(context.Background(), "holds-the-slot") }()
	for c.Throttling().InFlight == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.GetSection(ctx, "waits"); err == nil {
		t.Fatal("a request waiting for a slot ignored its context")
	}
}
