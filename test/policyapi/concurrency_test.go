package policyapi_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/nsxclient"
)

// TestPolicyConcurrentClients: writers (hierarchical and per-object), contending read-modify-
// write loops on one group, and readers, all at once through one shared client and session,
// with faults on the side. Run with -race. At the end every write is there exactly once.
func TestPolicyConcurrentClients(t *testing.T) {
	h := newHarness(t, withClient(func(c *nsxclient.Config) { c.AuthMode = nsxclient.AuthSession; c.MaxRetries = 20 }))
	ctx := t.Context()
	must(t, h.p.PatchGroup(ctx, dom, group("shared", portTag("app", "shared"))))
	h.sim.InjectFault(nsxsim.FaultRule{Kind: nsxsim.FaultUnavailable, PathPrefix: "/policy/", Probability: 0.05})
	h.sim.InjectFault(nsxsim.FaultRule{Kind: nsxsim.FaultDrop, Method: "PATCH", PathPrefix: "/policy/", Probability: 0.03})

	const writers, perWriter, bumpers, bumps = 6, 5, 4, 5
	var wg sync.WaitGroup
	var bumped atomic.Int64
	errs := make(chan error, 100)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				id := fmt.Sprintf("w%d-%d", w, i)
				var err error
				if i%2 == 0 {
					err = h.p.PatchInfra(ctx, nsxclient.NewInfra(nsxclient.DomainRef(dom,
						nsxclient.ChildGroup(group(id, portTag("app", id))),
						nsxclient.ChildPolicy(policy(id, nsxclient.CategoryApplication, int64(100*w+i)),
							rule("r", nsxclient.ActionAllow, 1, to(gpath(id)), tcp("80"))))), nsxclient.PatchInfraOptions{})
				} else {
					err = h.p.PatchGroup(ctx, dom, group(id, portTag("app", id)))
					if err == nil {
						err = h.p.PatchSecurityPolicy(ctx, dom, policy(id, nsxclient.CategoryApplication, int64(100*w+i),
							rule("r", nsxclient.ActionAllow, 1, to(gpath(id)), tcp("80"))))
					}
				}
				if err != nil {
					errs <- fmt.Errorf("writer %s: %w", id, err)
				}
			}
		})
	}
	for range bumpers {
		wg.Go(func() {
			for range bumps {
				for {
					g, err := h.p.GetGroup(ctx, dom, "shared")
					if err != nil {
						errs <- err
						return
					}
					g.Tags = append(g.Tags, nsxclient.Tag{Scope: "bump", Tag: fmt.Sprint(*g.Revision)})
					_, err = h.p.PutGroup(ctx, dom, *g)
					if nsxclient.IsStaleRevision(err) {
						continue // another bumper won: read again
					}
					if err != nil {
						errs <- err
						return
					}
					bumped.Add(1)
					break
				}
			}
		})
	}
	for range 3 {
		wg.Go(func() {
			for range 10 {
				if _, err := h.p.ListGroups(ctx, dom, nsxclient.ListGroupsOptions{}); err != nil {
					errs <- err
				}
				if _, err := h.p.ReadInfra(ctx, nsxclient.ReadInfraOptions{Types: []string{"SecurityPolicy", "Rule"}}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	h.sim.ClearFaults()
	shared := get[*nsxclient.PolicyGroup](t)(h.p.GetGroup(ctx, dom, "shared"))
	if got := *shared.Revision; got != bumpers*bumps || bumped.Load() != bumpers*bumps || len(shared.Tags) != bumpers*bumps {
		t.Errorf("shared group revision %d with %d tags after %d successful PUTs, want %d each", got, len(shared.Tags), bumped.Load(), bumpers*bumps)
	}
	policies := get[[]nsxclient.SecurityPolicy](t)(h.p.ListSecurityPolicies(ctx, dom, nsxclient.ListSecurityPoliciesOptions{IncludeRuleCount: true}))
	if len(policies) != writers*perWriter+1 {
		t.Errorf("%d policies, want %d and the default one", len(policies), writers*perWriter)
	}
	for _, p := range policies {
		if !p.IsDefault && (p.RuleCount != 1 || *p.Revision != 0) { // faults strike before NSX applies anything
			t.Errorf("policy %s: %d rules, revision %d", p.ID, p.RuleCount, *p.Revision)
		}
	}
}
