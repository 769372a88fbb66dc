package policyapi_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/nsxclient"
)

// TestPolicyCallsRideOutTransientFaults: throttling, overload, cluster reconfiguration, dropped
// connections and latency on Policy endpoints are retried by the shared core, and the writes
// land once.
func TestPolicyCallsRideOutTransientFaults(t *testing.T) {
	infra := "PATCH /policy/api/v1/infra"
	cases := []struct {
		name  string
		fault nsxsim.FaultRule
	}{
		{"429 with Retry-After", nsxsim.FaultRule{Kind: nsxsim.FaultTooManyRequests, Endpoint: infra, Count: 2, RetryAfter: 1}},
		{"503", nsxsim.FaultRule{Kind: nsxsim.FaultUnavailable, Endpoint: infra, Count: 2}},
		{"500/607", nsxsim.FaultRule{Kind: nsxsim.FaultReconfiguring, Endpoint: infra, Count: 2}},
		{"dropped connection", nsxsim.FaultRule{Kind: nsxsim.FaultDrop, Endpoint: infra, Count: 2}},
		{"latency", nsxsim.FaultRule{Kind: nsxsim.FaultLatency, Endpoint: infra, Count: 1, Latency: 20 * time.Millisecond}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			ctx := t.Context()
			h.sim.InjectFault(tc.fault)
			must(t, h.p.PatchInfra(ctx, nsxclient.NewInfra(nsxclient.DomainRef(dom,
				nsxclient.ChildGroup(group("web", portTag("app", "web"))),
				nsxclient.ChildPolicy(policy("p", nsxclient.CategoryApplication, 1), rule("r", nsxclient.ActionAllow, 1, to(gpath("web"))))),
			), nsxclient.PatchInfraOptions{}))
			g := get[*nsxclient.PolicyGroup](t)(h.p.GetGroup(ctx, dom, "web"))
			if *g.Revision != 0 {
				t.Errorf("the retried PATCH was applied %d times", *g.Revision+1)
			}
			want := int64(tc.fault.Count) + 1
			if tc.fault.Kind == nsxsim.FaultLatency {
				want = 1
			}
			if got := h.sim.Stats().Endpoints[infra].Calls; got != want {
				t.Errorf("%d calls, want %d", got, want)
			}
		})
	}
}

// TestPolicyGiveUpAfterRetries: a fault that never clears ends in a typed error.
func TestPolicyGiveUpAfterRetries(t *testing.T) {
	h := newHarness(t, withClient(func(c *nsxclient.Config) { c.MaxRetries = 2 }))
	h.sim.InjectFault(nsxsim.FaultRule{Kind: nsxsim.FaultUnavailable, PathPrefix: "/policy/"})
	err := h.p.PatchGroup(t.Context(), dom, group("web", portTag("app", "web")))
	var apiErr *nsxclient.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || apiErr.Attempts != 3 {
		t.Errorf("err = %v", err)
	}
}

// TestPolicyConcurrentEdit: an administrator changes the group between the client's read and
// its PUT; the PUT is stale, and re-reading makes it through.
func TestPolicyConcurrentEdit(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	must(t, h.p.PatchGroup(ctx, dom, group("web", portTag("app", "web"))))
	h.sim.InjectConcurrentEdit(nsxsim.ConcurrentEdit{Kind: nsxsim.KindPolicyGroup, ID: gpath("web")})
	tries := 0
	for ; tries < 3; tries++ {
		g := get[*nsxclient.PolicyGroup](t)(h.p.GetGroup(ctx, dom, "web"))
		g.Expression = append(g.Expression, nsxclient.Conjunction(nsxclient.ConjunctionOr), portTag("app", "www"))
		_, err := h.p.PutGroup(ctx, dom, *g)
		if nsxclient.IsStaleRevision(err) {
			continue
		}
		must(t, err)
		break
	}
	if tries != 1 {
		t.Errorf("succeeded after %d stale tries, want 1", tries)
	}
	g := get[*nsxclient.PolicyGroup](t)(h.p.GetGroup(ctx, dom, "web"))
	if len(g.Expression) != 3 || *g.Revision != 2 {
		t.Errorf("group = %+v (revision 0, the admin's edit, then ours)", g)
	}
}

// TestPolicyPendingDeleteIsRetried: writing a path whose deletion NSX has not finished gets
// 400/500045; the client waits and retries, and the write lands once the path is free.
func TestPolicyPendingDeleteIsRetried(t *testing.T) {
	var clock *nsxsim.FakeClock
	var pending atomic.Int32
	h := newHarness(t, withFakeClock(), withSim(func(o *nsxsim.Options) { o.PolicyDeleteDelay = time.Minute }),
		withClient(func(c *nsxclient.Config) {
			c.Observer = func(ci nsxclient.CallInfo) {
				if ci.ErrorCode == nsxclient.ErrCodePendingDelete && pending.Add(1) == 2 {
					clock.Advance(time.Minute) // NSX finishes the delete while the client waits
				}
			}
		}))
	clock = h.clock
	ctx := t.Context()
	must(t, h.p.PatchGroup(ctx, dom, group("web", portTag("app", "web"))))
	must(t, h.p.DeleteGroup(ctx, dom, "web"))
	gs := get[[]nsxclient.PolicyGroup](t)(h.p.ListGroups(ctx, dom, nsxclient.ListGroupsOptions{
		PolicyListOptions: nsxclient.PolicyListOptions{IncludeMarkedForDelete: true}}))
	if len(gs) != 1 || !gs[0].MarkedForDelete {
		t.Fatalf("deleted group listed as %+v", gs)
	}
	must(t, h.p.PatchGroup(ctx, dom, group("web", portTag("app", "web2"))))
	if n := pending.Load(); n != 2 {
		t.Errorf("%d pending-delete answers, want 2", n)
	}
	// Without NSX finishing, the retries run out and the caller learns why.
	must(t, h.p.DeleteGroup(ctx, dom, "web"))
	err := h.p.PatchGroup(ctx, dom, group("web", portTag("app", "web3")))
	if !nsxclient.IsPendingDelete(err) {
		t.Errorf("err = %v", err)
	}
}

// TestPolicyRealizationWait: WaitForRealization follows the simulator's realization delay and
// reports a realization error with NSX's alarm.
func TestPolicyRealizationWait(t *testing.T) {
	var clock *nsxsim.FakeClock
	var polls atomic.Int32
	h := newHarness(t, withFakeClock(), withSim(func(o *nsxsim.Options) { o.PolicyRealizationDelay = 3 * time.Second }),
		withClient(func(c *nsxclient.Config) {
			c.Observer = func(ci nsxclient.CallInfo) {
				if ci.Endpoint == "GET /policy/api/v1/infra/realized-state/realized-entities" {
					polls.Add(1)
					clock.Advance(time.Second)
				}
			}
		}))
	clock = h.clock
	ctx := t.Context()
	seedPolicy(ctx, t, h.p)
	path := nsxclient.SecurityPolicyPath(dom, "app")
	must(t, h.p.WaitForRealization(ctx, path, time.Millisecond))
	if n := polls.Load(); n != 4 {
		t.Errorf("%d polls, want 4 (unrealized for 3 s, one second per poll)", n)
	}
	h.sim.InjectRealizationError(nsxsim.RealizationFault{PathPrefix: path, Message: "DFW rule could not be pushed to host esx-7", ErrorCode: 500012})
	err := h.p.WaitForRealization(ctx, path, time.Millisecond)
	var re *nsxclient.RealizationError
	if !errors.As(err, &re) || re.Alarms[0].Message != "DFW rule could not be pushed to host esx-7" {
		t.Errorf("err = %v", err)
	}
	st := get[*nsxclient.ConsolidatedRealizedStatus](t)(h.p.RealizationStatus(ctx, path))
	if st.ConsolidatedStatus.ConsolidatedStatus != "ERROR" {
		t.Errorf("status = %+v", st)
	}
}
