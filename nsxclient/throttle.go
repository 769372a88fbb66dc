package nsxclient

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// throttle is the client's side of NSX's API limits, shared by every request of one Client (both
// APIs, logins included):
//
//   - A rate that adapts to NSX's answers (additive increase, multiplicative decrease, as
//     nsx-operator does): a 429 or 503 halves the rate (at most once per decreaseEvery, so that
//     the answers to requests already in flight count as one signal) down to a floor, and keeps
//     every request of the client waiting until the Retry-After NSX gave has passed; each
//     increaseEvery without throttling gives back a twentieth of the configured rate, so that
//     a manager that was busy for a minute is not hit at full rate at once.
//   - A cap on requests in flight (NSX refuses a client's 41st concurrent request with 429 and
//     the manager's 200th with 503; other tools share both budgets).
//
// A negative Config.RateLimit disables the rate (tests, in-process simulators) but not the cap.
type throttle struct {
	limiter *rate.Limiter
	// ceiling is the configured rate; floor the lowest the rate goes.
	ceiling, floor rate.Limit
	adaptive       bool

	mu           sync.Mutex
	lastChange   time.Time // last decrease or increase
	pausedUntil  time.Time // Retry-After: no request starts before
	throttleHits int64     // 429/503 answers seen

	slots chan struct{} // one per request in flight; nil: no cap
	now   func() time.Time
}

// Adaptive rate constants.
const (
	decreaseFactor = 0.5
	decreaseEvery  = time.Second
	increaseEvery  = time.Second
	increaseShare  = 20 // each step gives back ceiling/increaseShare
	minRateFloor   = 1  // requests/s
)

func newThrottle(cfg Config) *throttle {
	t := &throttle{now: time.Now}
	if cfg.RateLimit < 0 {
		t.limiter = rate.NewLimiter(rate.Inf, cfg.Burst)
	} else {
		t.ceiling = rate.Limit(cfg.RateLimit)
		t.floor = min(t.ceiling, minRateFloor)
		t.adaptive = true
		t.limiter = rate.NewLimiter(t.ceiling, cfg.Burst)
	}
	if cfg.MaxConcurrentRequests > 0 {
		t.slots = make(chan struct{}, cfg.MaxConcurrentRequests)
	}
	return t
}

// acquire waits for any pause NSX asked for (unless waitedUntil shows the caller's own retry wait
// already covered it), a free slot and the rate; release must follow. sleep is the client's.
func (t *throttle) acquire(ctx context.Context, sleep func(context.Context, time.Duration) error, waitedUntil time.Time) error {
	t.mu.Lock()
	paused := t.pausedUntil
	t.mu.Unlock()
	if wait := paused.Sub(t.now()); wait > 0 && paused.After(waitedUntil) {
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
	if t.slots != nil {
		select {
		case t.slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := t.limiter.Wait(ctx); err != nil {
		t.release()
		return err
	}
	return nil
}

func (t *throttle) release() {
	if t.slots != nil {
		<-t.slots
	}
}

// throttled records a 429 or 503: the rate drops (once per decreaseEvery) and, with a
// Retry-After, every request waits that long.
func (t *throttle) throttled(retryAfter time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.throttleHits++
	if until := now.Add(retryAfter); retryAfter > 0 && until.After(t.pausedUntil) {
		t.pausedUntil = until
	}
	if !t.adaptive || now.Sub(t.lastChange) < decreaseEvery {
		return
	}
	t.lastChange = now
	t.limiter.SetLimitAt(now, max(t.floor, t.limiter.Limit()*decreaseFactor))
}

// succeeded records an answer that was not a throttling one: the rate creeps back up.
func (t *throttle) succeeded() {
	if !t.adaptive {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.limiter.Limit()
	now := t.now()
	if cur >= t.ceiling || now.Sub(t.lastChange) < increaseEvery {
		return
	}
	t.lastChange = now
	t.limiter.SetLimitAt(now, min(t.ceiling, cur+t.ceiling/increaseShare))
}

// Throttling is the state of the client's adaptive rate, for metrics and logs.
type Throttling struct {
	// Rate is the current client-side rate in requests per second (0: unlimited); Ceiling the
	// configured one.
	Rate, Ceiling float64
	// Throttled counts the 429 and 503 answers NSX gave this client.
	Throttled int64
	// InFlight and MaxInFlight are the requests in flight and the cap (0: no cap).
	InFlight, MaxInFlight int
}

func (t Throttling) String() string {
	return fmt.Sprintf("rate %.1f/%.1f req/s, %d throttled, %d/%d in flight", t.Rate, t.Ceiling, t.Throttled, t.InFlight, t.MaxInFlight)
}

// Throttling reports the adaptive rate and the requests in flight.
func (c *Client) Throttling() Throttling {
	t := c.throttle
	t.mu.Lock()
	defer t.mu.Unlock()
	out := Throttling{Ceiling: float64(t.ceiling), Throttled: t.throttleHits}
	if t.adaptive {
		out.Rate = float64(t.limiter.Limit())
	}
	if t.slots != nil {
		out.InFlight, out.MaxInFlight = len(t.slots), cap(t.slots)
	}
	return out
}
