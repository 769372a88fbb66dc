package nsxclient

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// failFirst answers the first n requests with fail and the rest with a section.
func failFirst(n int32, fail func(w http.ResponseWriter)) func(http.ResponseWriter, *http.Request, []byte) {
	var count atomic.Int32
	return func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		if count.Add(1) <= n {
			fail(w)
			return
		}
		writeJSON(w, 200, FirewallSection{ManagedResource: ManagedResource{ID: "sec-1"}})
	}
}

func TestRetriesTransientStatusesUntilSuccess(t *testing.T) {
	tests := []struct {
		name string
		fail func(w http.ResponseWriter)
	}{
		{"503 burst", func(w http.ResponseWriter) { writeNSXError(w, 503, 0, "Service Unavailable") }},
		{"429", func(w http.ResponseWriter) {
			writeNSXError(w, 429, 0, "Client 'admin' exceeded request rate of 100 per second.")
		}},
		{"500 with error_code 607", func(w http.ResponseWriter) {
			writeNSXError(w, 500, ErrCodeReconfiguring, "API transaction aborted as MP cluster is reconfiguring.")
		}},
		{"500 with 607 only in related_errors", func(w http.ResponseWriter) {
			writeJSON(w, 500, APIErrorBody{ErrorCode: 1, ErrorMessage: "failed", RelatedErrors: []RelatedAPIError{{ErrorCode: ErrCodeReconfiguring}}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeNSX(t, failFirst(3, tt.fail))
			var obs observerLog
			// A create is not replay-safe, yet these statuses mean NSX did not apply it.
			c := f.client(func(c *Config) { c.Observer = obs.observe })
			got, err := c.CreateSection(context.Background(), FirewallSection{}, Top())
			if err != nil {
				t.Fatalf("want success after retries, got %v", err)
			}
			if got.ID != "sec-1" {
				t.Errorf("result = %+v", got)
			}
			if n := len(f.requests()); n != 4 {
				t.Errorf("%d requests, want 4", n)
			}
			calls := obs.all()
			if len(calls) != 4 {
				t.Fatalf("observer saw %d attempts, want 4", len(calls))
			}
			for i, ci := range calls {
				if ci.Attempt != i+1 || ci.Endpoint != "POST /firewall/sections" || ci.Method != "POST" {
					t.Errorf("call %d = %+v", i, ci)
				}
				if i < 3 && (ci.StatusCode < 429 || ci.Err == nil) {
					t.Errorf("failed attempt %d not reported as failed: %+v", i, ci)
				}
			}
			if last := calls[3]; last.StatusCode != 200 || last.Err != nil || last.ErrorCode != 0 {
				t.Errorf("successful attempt reported as %+v", last)
			}
		})
	}
}

func TestRetryExhaustionReportsAttempts(t *testing.T) {
	f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeNSXError(w, 503, 0, "busy") })
	c := f.client(func(c *Config) { c.MaxRetries = 2 })
	_, err := c.GetSection(context.Background(), "sec-1")
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("want *APIError, got %T %v", err, err)
	}
	if apiErr.Attempts != 3 || apiErr.StatusCode != 503 {
		t.Errorf("Attempts = %d, status = %d", apiErr.Attempts, apiErr.StatusCode)
	}
	if n := len(f.requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	for _, want := range []string{"after 3 attempts", "HTTP 503", "GET /firewall/sections/sec-1", "retry later"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestNegativeMaxRetriesDisablesRetries(t *testing.T) {
	f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeNSXError(w, 503, 0, "busy") })
	_, err := f.client(func(c *Config) { c.MaxRetries = -1 }).GetSection(context.Background(), "sec-1")
	if err == nil || len(f.requests()) != 1 {
		t.Fatalf("err = %v, requests = %d; want one failed attempt", err, len(f.requests()))
	}
}

func TestNonTransientErrorsAreNotRetried(t *testing.T) {
	for _, status := range []int{400, 403, 404, 409, 412, 500} {
		f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeNSXError(w, status, 1, "no") })
		_, err := f.client().GetSection(context.Background(), "sec-1")
		if err == nil {
			t.Fatalf("%d: expected an error", status)
		}
		if n := len(f.requests()); n != 1 {
			t.Errorf("HTTP %d was sent %d times, want once", status, n)
		}
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter string
		maxAfter   time.Duration
		want       time.Duration
	}{
		{"seconds", "2", 0, 2 * time.Second},
		{"capped by MaxRetryAfter", "3600", 10 * time.Second, 10 * time.Second},
		{"HTTP date", time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat), 0, 25 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeNSX(t, failFirst(1, func(w http.ResponseWriter) {
				w.Header().Set("Retry-After", tt.retryAfter)
				writeNSXError(w, 429, 0, "slow down")
			}))
			c := f.client(func(c *Config) { c.MaxRetryAfter = tt.maxAfter })
			var sleeps sleepRecorder
			c.sleep = sleeps.sleep
			if _, err := c.GetSection(context.Background(), "sec-1"); err != nil {
				t.Fatal(err)
			}
			waits := sleeps.recorded()
			if len(waits) != 1 {
				t.Fatalf("waits = %v, want one", waits)
			}
			if tt.maxAfter > 0 && waits[0] != tt.maxAfter {
				t.Errorf("waited %v, want the cap %v", waits[0], tt.maxAfter)
			}
			if waits[0] < tt.want {
				t.Errorf("waited %v, Retry-After asked for at least %v", waits[0], tt.want)
			}
		})
	}
}

func TestBackoffGrowsWithJitterAndCap(t *testing.T) {
	f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeNSXError(w, 503, 0, "busy") })
	c := f.client(func(c *Config) {
		c.RetryBaseDelay = 500 * time.Millisecond
		c.RetryMaxDelay = 5 * time.Second
		c.MaxRetries = 6
	})
	var sleeps sleepRecorder
	c.sleep = sleeps.sleep
	if _, err := c.GetSection(context.Background(), "x"); err == nil {
		t.Fatal("expected exhaustion")
	}
	waits := sleeps.recorded()
	ceilings := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	if len(waits) != len(ceilings) {
		t.Fatalf("waits = %v", waits)
	}
	for i, w := range waits {
		if w < ceilings[i]/2 || w > ceilings[i] {
			t.Errorf("wait %d = %v, want within [%v, %v]", i, w, ceilings[i]/2, ceilings[i])
		}
	}
	// The jitter source decides where in the window a wait falls.
	c.jitter = func(time.Duration) time.Duration { return 0 }
	if got := c.backoff(2); got != time.Second {
		t.Errorf("backoff(2) with no jitter = %v, want 1s (half of 2s)", got)
	}
}

func TestDroppedConnectionRetriesOnlyReplaySafeRequests(t *testing.T) {
	dropFirst := func(n int32) (*fakeNSX, *atomic.Int32) {
		var count atomic.Int32
		f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			if count.Add(1) <= n {
				dropConnection(t, w)
				return
			}
			writeJSON(w, 200, map[string]any{"id": "x", "rules": []any{}})
		})
		return f, &count
	}

	t.Run("GET is retried", func(t *testing.T) {
		f, count := dropFirst(2)
		if _, err := f.client().GetSection(context.Background(), "sec-1"); err != nil {
			t.Fatalf("want success, got %v", err)
		}
		if count.Load() != 3 {
			t.Errorf("%d attempts, want 3", count.Load())
		}
	})
	t.Run("update_with_rules is retried", func(t *testing.T) {
		f, count := dropFirst(1)
		if _, err := f.client().UpdateSectionWithRules(context.Background(), FirewallSectionRuleList{FirewallSection: FirewallSection{ManagedResource: ManagedResource{ID: "sec-1"}}}); err != nil {
			t.Fatalf("want success, got %v", err)
		}
		if count.Load() != 2 {
			t.Errorf("%d attempts, want 2", count.Load())
		}
	})
	for name, create := range map[string]func(c *Client) error{
		"CreateNSGroup": func(c *Client) error { _, err := c.CreateNSGroup(context.Background(), NSGroup{}); return err },
		"CreateRule": func(c *Client) error {
			_, err := c.CreateRule(context.Background(), "sec-1", FirewallRule{}, Top())
			return err
		},
		"CreateSectionWithRules": func(c *Client) error {
			_, err := c.CreateSectionWithRules(context.Background(), FirewallSectionRuleList{}, Top())
			return err
		},
	} {
		t.Run(name+" is not retried once sent", func(t *testing.T) {
			f, count := dropFirst(1)
			err := create(f.client())
			var te *TransportError
			if !errors.As(err, &te) {
				t.Fatalf("want *TransportError, got %T %v", err, err)
			}
			if !te.MayHaveBeenApplied || te.Attempts != 1 {
				t.Errorf("MayHaveBeenApplied = %v, Attempts = %d", te.MayHaveBeenApplied, te.Attempts)
			}
			if !strings.Contains(err.Error(), "NSX may have applied it") {
				t.Errorf("error does not warn about a possible duplicate: %v", err)
			}
			if count.Load() != 1 {
				t.Errorf("create sent %d times, want once", count.Load())
			}
		})
	}
}

// TestUnsentRequestsAreRetriedEvenForCreates: when the connection cannot even be made, NSX never
// saw the request, so a create is retried too; exhaustion reports the attempts.
func TestUnsentRequestsAreRetriedEvenForCreates(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens there any more: connections are refused

	var obs observerLog
	c, err := New(Config{
		Host: "https://" + addr, Credentials: StaticCredentials(testUser, testPassword),
		RateLimit: -1, MaxRetries: 3, RetryBaseDelay: time.Millisecond, RetryMaxDelay: time.Millisecond,
		Observer: obs.observe,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateNSGroup(context.Background(), NSGroup{})
	var te *TransportError
	if !errors.As(err, &te) {
		t.Fatalf("want *TransportError, got %T %v", err, err)
	}
	if te.Attempts != 4 || te.MayHaveBeenApplied {
		t.Errorf("Attempts = %d, MayHaveBeenApplied = %v; want 4, false", te.Attempts, te.MayHaveBeenApplied)
	}
	for _, want := range []string{"after 4 attempts", "POST /ns-groups", "Config.Host"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if calls := obs.all(); len(calls) != 4 || calls[0].StatusCode != 0 || calls[0].Err == nil {
		t.Errorf("observer calls = %+v", calls)
	}
}

func TestAttemptTimeoutIsRetriedForReadsOnly(t *testing.T) {
	slowFirst := func() (*fakeNSX, *atomic.Int32) {
		var count atomic.Int32
		release := make(chan struct{})
		f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			if count.Add(1) == 1 {
				// Hang without ever answering, even after the client gave up on this attempt:
				// returning early would send an empty 200 that a slow client could still read.
				select {
				case <-release:
				case <-time.After(5 * time.Second):
				}
				return
			}
			writeJSON(w, 200, map[string]any{"id": "x"})
		})
		t.Cleanup(func() { close(release) }) // runs before the server's own cleanup closes it
		return f, &count
	}
	short := func(c *Config) { c.Timeout = 100 * time.Millisecond }

	f, count := slowFirst()
	if _, err := f.client(short).GetIPSet(context.Background(), "x"); err != nil {
		t.Fatalf("GET: want success after a timed-out attempt, got %v", err)
	}
	if count.Load() != 2 {
		t.Errorf("GET: %d attempts, want 2", count.Load())
	}

	f, count = slowFirst()
	_, err := f.client(short).CreateIPSet(context.Background(), IPSet{})
	var te *TransportError
	if !errors.As(err, &te) || !te.MayHaveBeenApplied {
		t.Fatalf("create: want a MayHaveBeenApplied *TransportError, got %v", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("an attempt timeout must not look like the caller's context deadline: %v", err)
	}
	if !strings.Contains(err.Error(), "Config.Timeout") {
		t.Errorf("error does not name the timeout setting: %v", err)
	}
	if count.Load() != 1 {
		t.Errorf("create: %d attempts, want 1", count.Load())
	}
}

func TestGatewayErrorsRetryOnlyReplaySafeRequests(t *testing.T) {
	f := newFakeNSX(t, failFirst(1, func(w http.ResponseWriter) { w.WriteHeader(http.StatusBadGateway) }))
	if _, err := f.client().GetSection(context.Background(), "sec-1"); err != nil {
		t.Fatalf("GET after 502: %v", err)
	}
	f = newFakeNSX(t, failFirst(1, func(w http.ResponseWriter) { w.WriteHeader(http.StatusBadGateway) }))
	_, err := f.client().CreateSection(context.Background(), FirewallSection{}, Top())
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadGateway {
		t.Fatalf("create after 502: want the 502 *APIError, got %v", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("create sent %d times after a 502, want once", n)
	}
}

func TestContextCancellationDuringBackoffReturnsPromptly(t *testing.T) {
	f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeNSXError(w, 503, 0, "busy") })
	c := f.client(func(c *Config) {
		c.RetryBaseDelay = time.Minute // the real sleeper: only cancellation can end the wait
		c.RetryMaxDelay = time.Minute
	})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.GetSection(ctx, "sec-1")
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("returned after %v", elapsed)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("want context.Canceled, got %v", err)
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
		t.Errorf("the last NSX error is not kept: %v", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestContextAlreadyCancelledSendsNothing(t *testing.T) {
	f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 200, map[string]any{}) })
	var obs observerLog
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.client(func(c *Config) { c.RateLimit = 1; c.Burst = 1; c.Observer = obs.observe }).GetSection(ctx, "x")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("want context.Canceled, got %v", err)
	}
	if len(f.requests()) != 0 || len(obs.all()) != 0 {
		t.Errorf("requests = %d, observed = %d; want none", len(f.requests()), len(obs.all()))
	}
}

func TestClientSideRateLimit(t *testing.T) {
	f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 200, map[string]any{}) })
	c := f.client(func(c *Config) { c.RateLimit = 20; c.Burst = 1 })
	start := time.Now()
	for range 5 {
		if _, err := c.GetIPSet(context.Background(), "x"); err != nil {
			t.Fatal(err)
		}
	}
	// 5 requests at 20/s with burst 1: the last leaves at least 4 x 50ms after the first.
	if elapsed := time.Since(start); elapsed < 180*time.Millisecond {
		t.Errorf("5 requests took %v; the 20/s limit was not applied", elapsed)
	}
}

func TestObserverEndpointTemplatesHaveNoIDs(t *testing.T) {
	f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 200, map[string]any{"rules": []any{}})
	})
	var obs observerLog
	c := f.client(func(c *Config) { c.Observer = obs.observe })
	ctx := context.Background()
	_, _ = c.UpdateSectionWithRules(ctx, FirewallSectionRuleList{FirewallSection: FirewallSection{ManagedResource: ManagedResource{ID: "6c2f-uuid"}}})
	_, _ = c.GetRule(ctx, "6c2f-uuid", "1234")
	_ = c.DeleteNSGroup(ctx, "g-77", true)
	want := []string{
		"POST /firewall/sections/{id}?action=update_with_rules",
		"GET /firewall/sections/{id}/rules/{rule}",
		"DELETE /ns-groups/{id}",
	}
	calls := obs.all()
	if len(calls) != len(want) {
		t.Fatalf("calls = %+v", calls)
	}
	for i, ci := range calls {
		if ci.Endpoint != want[i] {
			t.Errorf("endpoint %d = %q, want %q", i, ci.Endpoint, want[i])
		}
		if ci.Duration <= 0 || ci.StatusCode != 200 {
			t.Errorf("call %d = %+v", i, ci)
		}
	}
}
