package nsxapi_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/nsxclient"
)

// Faults without an HTTP answer: the connection drops or times out. Whether NSX applied the
// request is then unknown, so only requests that are harmless to repeat are sent again; a create
// comes back as a *TransportError with MayHaveBeenApplied, and the caller must look before it
// creates again.

// TestFaultDroppedConnectionOnReplaySafeCalls: reads and state-setting writes complete.
func TestFaultDroppedConnectionOnReplaySafeCalls(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		g := try(h.c.CreateNSGroup(ctx, namedGroup("g"))).must(t)
		set := try(h.c.CreateIPSet(ctx, namedIPSet("s", "10.0.0.1"))).must(t)
		for _, endpoint := range []string{
			"GET /api/v1/ns-groups/{ns-group-id}",
			"PUT /api/v1/ns-groups/{ns-group-id}",
			"POST /api/v1/ns-groups/{ns-group-id}?action=ADD_MEMBERS",
			"POST /api/v1/ip-sets/{ip-set-id}?action=add_ip",
			"DELETE /api/v1/ip-sets/{ip-set-id}",
		} {
			h.sim.InjectFault(nsxsim.FaultRule{Kind: nsxsim.FaultDrop, Endpoint: endpoint, Count: 1})
		}

		got := try(h.c.GetNSGroup(ctx, g.ID)).must(t)
		got.Description = "after a dropped PUT"
		if updated := try(h.c.UpdateNSGroup(ctx, *got)).must(t); updated.Revision != 1 {
			t.Errorf("revision %d", updated.Revision)
		}
		try(h.c.AddNSGroupMembers(ctx, g.ID, []nsxclient.NSGroupExpression{nsxclient.StaticMember(nsxclient.TargetIPSet, set.ID)})).must(t)
		mustOK(t, h.c.AddIPSetAddress(ctx, set.ID, "10.0.0.2"))
		mustOK(t, h.c.DeleteNSGroup(ctx, g.ID, true))
		mustOK(t, h.c.DeleteIPSet(ctx, set.ID, true))

		stats := h.sim.Stats()
		for _, r := range h.sim.CurrentFaults().Rules {
			if e := stats.Endpoints[r.Endpoint]; e.Errors < 1 || e.Calls < 2 {
				t.Errorf("%s: %d calls, %d errors: the drop did not happen or was not retried", r.Endpoint, e.Calls, e.Errors)
			}
		}
	})
}

// TestFaultDroppedConnectionOnCreate: every create whose connection drops after it was sent
// reports MayHaveBeenApplied instead of guessing, and the manager holds at most one object.
func TestFaultDroppedConnectionOnCreate(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		sec := try(h.c.CreateSection(ctx, layer3Section("holder"), nsxclient.Top())).must(t)
		countSections := func(name string) int {
			return countWhere(try(h.c.ListSections(ctx, nsxclient.ListSectionsOptions{})).must(t),
				func(s nsxclient.FirewallSection) bool { return s.DisplayName == name })
		}
		countRules := func(name string) int {
			return countWhere(try(h.c.ListRules(ctx, sec.ID)).must(t), func(r nsxclient.FirewallRule) bool { return r.DisplayName == name })
		}
		creates := []struct {
			endpoint string
			create   func() error
			count    func() int
		}{
			{"POST /api/v1/ns-groups",
				func() error { _, err := h.c.CreateNSGroup(ctx, namedGroup("new-group")); return err },
				func() int {
					return countWhere(try(h.c.ListNSGroups(ctx, nsxclient.ListNSGroupsOptions{})).must(t), groupNamed("new-group"))
				}},
			{"POST /api/v1/ip-sets",
				func() error { _, err := h.c.CreateIPSet(ctx, namedIPSet("new-set", "10.0.0.1")); return err },
				func() int {
					return countWhere(try(h.c.ListIPSets(ctx)).must(t), func(s nsxclient.IPSet) bool { return s.DisplayName == "new-set" })
				}},
			{"POST /api/v1/logical-ports",
				func() error { _, err := h.c.CreateLogicalPort(ctx, podPort("new-port", "ls", "10.0.0.2")); return err },
				func() int {
					return countWhere(try(h.c.ListLogicalPorts(ctx, nsxclient.ListLogicalPortsOptions{})).must(t),
						func(p nsxclient.LogicalPort) bool { return p.DisplayName == "new-port" })
				}},
			{"POST /api/v1/firewall/sections",
				func() error {
					_, err := h.c.CreateSection(ctx, layer3Section("new-section"), nsxclient.Top())
					return err
				},
				func() int { return countSections("new-section") }},
			{"POST /api/v1/firewall/sections?action=create_with_rules",
				func() error {
					_, err := h.c.CreateSectionWithRules(ctx, withRules(layer3Section("new-bulk"), allowRule("r")), nsxclient.Top())
					return err
				},
				func() int { return countSections("new-bulk") }},
			{"POST /api/v1/firewall/sections/{section-id}/rules",
				func() error {
					_, err := h.c.CreateRuleAtLatestRevision(ctx, sec.ID, allowRule("new-rule"), nsxclient.Top())
					return err
				},
				func() int { return countRules("new-rule") }},
			{"POST /api/v1/firewall/sections/{section-id}/rules?action=create_multiple",
				func() error {
					_, err := h.c.CreateRulesAtLatestRevision(ctx, sec.ID, []nsxclient.FirewallRule{allowRule("new-rules")}, nsxclient.Top())
					return err
				},
				func() int { return countRules("new-rules") }},
		}
		for _, c := range creates {
			h.sim.InjectFault(nsxsim.FaultRule{Kind: nsxsim.FaultDrop, Endpoint: c.endpoint, Count: 1})
			err := c.create()
			var te *nsxclient.TransportError
			if !errors.As(err, &te) || !te.MayHaveBeenApplied || te.Attempts != 1 {
				t.Errorf("%s with a dropped connection: want a single-attempt *TransportError with MayHaveBeenApplied, got %v", c.endpoint, err)
				continue
			}
			if !strings.Contains(err.Error(), "list the objects before creating them again") {
				t.Errorf("%s: the error does not say what to do: %v", c.endpoint, err)
			}
			// What the error asks for: look, and create only if it is not there.
			n := c.count()
			if n > 1 {
				t.Errorf("%s: %d objects after one create", c.endpoint, n)
			}
			if n == 0 {
				mustOK(t, c.create())
			}
			if n := c.count(); n != 1 {
				t.Errorf("%s: %d objects after list-then-create, want 1", c.endpoint, n)
			}
		}
	})
}

// TestFaultTimeoutAfterTheManagerAppliedACreate: the manager is slow, the client gives up on the
// attempt, and the manager applies the create anyway, the case MayHaveBeenApplied exists for. A
// read that times out the same way is simply retried.
func TestFaultTimeoutAfterTheManagerAppliedACreate(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	// The injected latency ends early when the client hangs up, so a long one costs nothing and
	// leaves a wide margin over the client's timeout on a busy machine.
	impatient := h.newClient(withConfig(func(c *nsxclient.Config) { c.Timeout = 250 * time.Millisecond }))
	h.sim.InjectFault(nsxsim.FaultRule{Kind: nsxsim.FaultLatency, Endpoint: "POST /api/v1/ns-groups", Count: 1, Latency: 5 * time.Second})
	h.sim.InjectFault(nsxsim.FaultRule{Kind: nsxsim.FaultLatency, Endpoint: "GET /api/v1/ns-groups", Count: 1, Latency: 5 * time.Second})

	_, err := impatient.CreateNSGroup(ctx, namedGroup("slow"))
	var te *nsxclient.TransportError
	if !errors.As(err, &te) || !te.MayHaveBeenApplied || !strings.Contains(err.Error(), "Config.Timeout") {
		t.Fatalf("create that timed out: want a *TransportError with MayHaveBeenApplied naming the timeout, got %v", err)
	}
	h.calls.reset()
	try(impatient.ListNSGroups(ctx, nsxclient.ListNSGroupsOptions{})).must(t)
	if got := h.calls.statuses("GET /ns-groups"); len(got) < 2 || got[0] != 0 {
		t.Errorf("list attempts %v: want a timed-out attempt (status 0), then a retry", got)
	}

	// Look before creating again: the manager holds the group once, never twice.
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := countWhere(try(h.c.ListNSGroups(ctx, nsxclient.ListNSGroupsOptions{})).must(t), groupNamed("slow"))
		if n > 1 {
			t.Fatalf("%d groups after one create", n)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the slow create never landed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFaultPersistentDropExhaustsRetries: a manager that never answers ends a read with a
// *TransportError that names the attempts.
func TestFaultPersistentDropExhaustsRetries(t *testing.T) {
	h := newHarness(t, withClient(withConfig(func(c *nsxclient.Config) { c.MaxRetries = 2 })))
	h.sim.InjectFault(nsxsim.FaultRule{Kind: nsxsim.FaultDrop, Method: "GET"})
	_, err := h.c.ListIPSets(t.Context())
	var te *nsxclient.TransportError
	if !errors.As(err, &te) || te.Attempts != 3 || te.MayHaveBeenApplied || !strings.Contains(err.Error(), "[after 3 attempts]") {
		t.Errorf("want a *TransportError after 3 attempts, got %v", err)
	}
}
