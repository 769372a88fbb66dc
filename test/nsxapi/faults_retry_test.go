package nsxapi_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/nsxclient"
)

// Faults NSX answers with an HTTP status: 503, 429 and 500/607 mean "not applied, try again";
// the client retries them for every request, creates included.

// TestFaultBurstOf503sThenSuccess: a read and a create each meet three 503s and then succeed;
// the create is applied exactly once.
func TestFaultBurstOf503sThenSuccess(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		sec := try(h.c.CreateSection(ctx, layer3Section("s"), nsxclient.Top())).must(t)
		h.sim.InjectFault(nsxsim.FaultRule{Kind: nsxsim.FaultUnavailable, Endpoint: "GET /api/v1/firewall/sections/{section-id}", Count: 3})
		h.sim.InjectFault(nsxsim.FaultRule{Kind: nsxsim.FaultUnavailable, Endpoint: "POST /api/v1/firewall/sections?action=create_with_rules", Count: 3})
		h.calls.reset()

		if got := try(h.c.GetSection(ctx, sec.ID)).must(t); got.ID != sec.ID {
			t.Errorf("got section %s", got.ID)
		}
		created := try(h.c.CreateSectionWithRules(ctx, withRules(layer3Section("bulk"), allowRule("r")), nsxclient.Top())).must(t)
		for endpoint, success := range map[string]string{
			"GET /firewall/sections/{id}":                      "4:200",
			"POST /firewall/sections?action=create_with_rules": "4:201",
		} {
			var attempts []string
			for _, c := range h.calls.to(endpoint) {
				attempts = append(attempts, fmt.Sprintf("%d:%d", c.Attempt, c.StatusCode))
			}
			equalStrings(t, endpoint+" attempts", attempts, []string{"1:503", "2:503", "3:503", success})
		}
		equalStrings(t, "sections", sectionNames(try(h.c.ListSections(ctx, nsxclient.ListSectionsOptions{})).must(t)),
			[]string{"bulk", "s", defaultL3Section})
		if n := len(try(h.c.ListRules(ctx, created.ID)).must(t)); n != 1 {
			t.Errorf("the retried create_with_rules made %d rules", n)
		}
	})
}

// TestFault429RetryAfterIsHonoured: the client waits at least as long as Retry-After says (1 s
// here, while its own backoff is a few milliseconds).
func TestFault429RetryAfterIsHonoured(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	patient := h.newClient(withConfig(func(c *nsxclient.Config) { c.MaxRetryAfter = time.Minute }))
	h.sim.InjectFault(nsxsim.FaultRule{Kind: nsxsim.FaultTooManyRequests, Endpoint: "GET /api/v1/ip-sets", Count: 1, RetryAfter: 1})
	h.calls.reset()

	try(patient.ListIPSets(ctx)).must(t)
	attempts := h.calls.to("GET /ip-sets")
	if len(attempts) != 2 || attempts[0].StatusCode != 429 || attempts[1].StatusCode != 200 {
		t.Fatalf("attempts %v, want a 429 then a 200", h.calls.statuses("GET /ip-sets"))
	}
	if waited := attempts[1].start().Sub(attempts[0].end); waited < time.Second-10*time.Millisecond {
		t.Errorf("the client retried %s after a 429 with Retry-After: 1", waited)
	}
}

// TestFaultRetryAfterIsCappedByMaxRetryAfter: a manager asking for a long wait cannot stall the
// client beyond Config.MaxRetryAfter (10 ms in the harness).
func TestFaultRetryAfterIsCappedByMaxRetryAfter(t *testing.T) {
	h := newHarness(t)
	h.sim.InjectFault(nsxsim.FaultRule{Kind: nsxsim.FaultTooManyRequests, Method: "GET", Count: 2, RetryAfter: 30})
	start := time.Now()
	try(h.c.ListIPSets(t.Context())).must(t)
	if elapsed := time.Since(start); elapsed > 15*time.Second {
		t.Errorf("two Retry-After: 30 took %s despite MaxRetryAfter", elapsed)
	}
}

// TestFaultReconfiguring607IsRetried: 500 with error_code 607 means the transaction was rolled
// back, so writes and creates are retried and applied once.
func TestFaultReconfiguring607IsRetried(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	g := try(h.c.CreateNSGroup(ctx, namedGroup("g"))).must(t)
	h.sim.InjectFault(nsxsim.FaultRule{Kind: nsxsim.FaultReconfiguring, Endpoint: "PUT /api/v1/ns-groups/{ns-group-id}", Count: 2})
	h.sim.InjectFault(nsxsim.FaultRule{Kind: nsxsim.FaultReconfiguring, Endpoint: "POST /api/v1/ip-sets", Count: 2})
	h.calls.reset()

	g.Description = "changed"
	if updated := try(h.c.UpdateNSGroup(ctx, *g)).must(t); updated.Revision != 1 {
		t.Errorf("revision %d after a PUT retried twice; the aborted attempts must not count", updated.Revision)
	}
	try(h.c.CreateIPSet(ctx, namedIPSet("once", "10.0.0.1"))).must(t)
	if n := len(try(h.c.ListIPSets(ctx)).must(t)); n != 1 {
		t.Errorf("%d IP sets after a create retried through 607s, want 1", n)
	}
	for _, c := range h.calls.to("PUT /ns-groups/{id}") {
		if c.StatusCode == 500 && c.ErrorCode != nsxclient.ErrCodeReconfiguring {
			t.Errorf("500 with error_code %d", c.ErrorCode)
		}
	}
	if got := h.calls.statuses("POST /ip-sets"); fmt.Sprint(got) != "[500 500 201]" {
		t.Errorf("create attempts %v", got)
	}
}

// TestFaultPersistentErrorsExhaustRetries: when NSX never recovers, the call ends with a typed
// error that names the attempts, after MaxRetries+1 of them.
func TestFaultPersistentErrorsExhaustRetries(t *testing.T) {
	kinds := []struct {
		kind   nsxsim.FaultKind
		status int
		hint   string
	}{
		{nsxsim.FaultUnavailable, 503, "overloaded or unavailable"},
		{nsxsim.FaultTooManyRequests, 429, "rate-limiting"},
		{nsxsim.FaultReconfiguring, 500, "reconfiguring"},
	}
	for _, k := range kinds {
		t.Run(string(k.kind), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withClient(withConfig(func(c *nsxclient.Config) { c.MaxRetries = 3 })))
			h.sim.InjectFault(nsxsim.FaultRule{Kind: k.kind, Method: "GET"})
			_, err := h.c.ListNSGroups(t.Context(), nsxclient.ListNSGroupsOptions{})
			e := apiError(t, err)
			if e.StatusCode != k.status || e.Attempts != 4 {
				t.Errorf("status %d after %d attempts, want %d after 4", e.StatusCode, e.Attempts, k.status)
			}
			if !strings.Contains(err.Error(), "[after 4 attempts]") || !strings.Contains(err.Error(), k.hint) {
				t.Errorf("the error does not explain itself: %v", err)
			}
			if n := len(h.calls.to("GET /ns-groups")); n != 4 {
				t.Errorf("%d attempts observed, want 4", n)
			}
		})
	}
}
