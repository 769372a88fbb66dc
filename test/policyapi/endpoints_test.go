package policyapi_test

import (
	"context"
	"errors"
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

// seedPolicy gives each endpoint case something to work on: a segment with a pod port, groups
// web (the pod) and db, and an Application policy "app" whose rule r1 allows web → db.
func seedPolicy(ctx context.Context, t *testing.T, p *nsxclient.PolicyClient) {
	t.Helper()
	must(t, p.PatchSegment(ctx, nsxclient.Segment{PolicyResource: nsxclient.PolicyResource{ID: "node-1", Tags: []nsxclient.Tag{tag("ncp/cluster", "c1")}}}))
	must(t, p.PatchSegmentPort(ctx, "node-1", segmentPort("p1", "10.1.0.10", tag("app", "web"))))
	must(t, p.PatchGroup(ctx, dom, group("web", portTag("app", "web"))))
	must(t, p.PatchGroup(ctx, dom, group("db", portTag("app", "db"))))
	must(t, p.PatchSecurityPolicy(ctx, dom, policy("app", nsxclient.CategoryApplication, 10,
		rule("r1", nsxclient.ActionAllow, 1, from(gpath("web")), to(gpath("db")), tcp("5432")))))
}

// TestEveryEndpointSucceedsAndFails: for each Policy endpoint the client calls, one call that
// succeeds and one that fails with the typed error a caller would branch on.
func TestEveryEndpointSucceedsAndFails(t *testing.T) {
	type call func(ctx context.Context, p *nsxclient.PolicyClient) error
	badCreds := func(h *harness) *nsxclient.PolicyClient {
		return h.newClient(nil, func(c *nsxclient.Config) {
			c.Credentials = nsxclient.StaticCredentials(testUser, "wrong")
		}).Policy()
	}
	stale := nsxclient.RevisionOf(41)
	tests := []struct {
		name      string
		ok, fail  call
		failAs    error
		badClient bool // fail with wrong credentials (for reads that have no other way to fail)
	}{
		{name: "ListDomains", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			_, err := p.ListDomains(ctx, nsxclient.PolicyListOptions{})
			return err
		}, badClient: true, failAs: nsxclient.ErrUnauthorized},
		{name: "GetDomain", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			_, err := p.GetDomain(ctx, dom)
			return err
		},
			fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
				_, err := p.GetDomain(ctx, "nope")
				return err
			}, failAs: nsxclient.ErrNotFound},
		{name: "PatchDomain", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			return p.PatchDomain(ctx, nsxclient.PolicyDomain{PolicyResource: nsxclient.PolicyResource{ID: "c1"}})
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			return p.PatchDomain(ctx, nsxclient.PolicyDomain{PolicyResource: nsxclient.PolicyResource{ID: "two words"}})
		}, failAs: nsxclient.ErrValidation},
		{name: "DeleteDomain", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			if err := p.PatchDomain(ctx, nsxclient.PolicyDomain{PolicyResource: nsxclient.PolicyResource{ID: "empty"}}); err != nil {
				return err
			}
			return p.DeleteDomain(ctx, "empty")
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			if err := p.PatchDomain(ctx, nsxclient.PolicyDomain{PolicyResource: nsxclient.PolicyResource{ID: "full"}}); err != nil {
				return err
			}
			if err := p.PatchGroup(ctx, "full", group("g", portTag("app", "x"))); err != nil {
				return err
			}
			return p.DeleteDomain(ctx, "full") // a domain with groups is in use
		}, failAs: nsxclient.ErrInUse},
		{name: "ListGroups", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			gs, err := p.ListGroups(ctx, dom, nsxclient.ListGroupsOptions{})
			if err == nil && len(gs) != 2 {
				return errors.New("want 2 groups")
			}
			return err
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			_, err := p.ListGroups(ctx, "nope", nsxclient.ListGroupsOptions{})
			return err
		}, failAs: nsxclient.ErrNotFound},
		{name: "GetGroup", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			_, err := p.GetGroup(ctx, dom, "web")
			return err
		},
			fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
				_, err := p.GetGroup(ctx, dom, "nope")
				return err
			}, failAs: nsxclient.ErrNotFound},
		{name: "PatchGroup", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			return p.PatchGroup(ctx, dom, group("both", nsxclient.Paths(gpath("web"), gpath("db"))))
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			return p.PatchGroup(ctx, dom, group("dangling", nsxclient.Paths(gpath("nope"))))
		}, failAs: nsxclient.ErrValidation},
		{name: "PutGroup", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			g, err := p.GetGroup(ctx, dom, "db")
			if err != nil {
				return err
			}
			g.Expression = []nsxclient.PolicyExpression{portTag("app", "postgres")}
			_, err = p.PutGroup(ctx, dom, *g)
			return err
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			g := group("db", portTag("app", "x"))
			g.Revision = stale
			_, err := p.PutGroup(ctx, dom, g)
			return err
		}, failAs: nsxclient.ErrStaleRevision},
		{name: "DeleteGroup", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			if err := p.PatchGroup(ctx, dom, group("spare", portTag("app", "spare"))); err != nil {
				return err
			}
			return p.DeleteGroup(ctx, dom, "spare")
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error { return p.DeleteGroup(ctx, dom, "web") }, failAs: nsxclient.ErrInUse},
		{name: "GroupSegmentPortMembers", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			ports, err := p.GroupSegmentPortMembers(ctx, dom, "web")
			if err == nil && (len(ports) != 1 || ports[0].ID != "p1") {
				return errors.New("want the pod's port")
			}
			return err
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			_, err := p.GroupSegmentPortMembers(ctx, dom, "nope")
			return err
		}, failAs: nsxclient.ErrNotFound},
		{name: "GroupIPAddressMembers", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			ips, err := p.GroupIPAddressMembers(ctx, dom, "web")
			if err == nil && (len(ips) != 1 || ips[0] != "10.1.0.10") {
				return errors.New("want the pod's address")
			}
			return err
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			_, err := p.GroupIPAddressMembers(ctx, dom, "nope")
			return err
		}, failAs: nsxclient.ErrNotFound},
		{name: "ListSecurityPolicies", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			_, err := p.ListSecurityPolicies(ctx, dom, nsxclient.ListSecurityPoliciesOptions{IncludeRuleCount: true})
			return err
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			_, err := p.ListSecurityPolicies(ctx, "nope", nsxclient.ListSecurityPoliciesOptions{})
			return err
		}, failAs: nsxclient.ErrNotFound},
		{name: "GetSecurityPolicy", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			sp, err := p.GetSecurityPolicy(ctx, dom, "app")
			if err == nil && len(sp.Rules) != 1 {
				return errors.New("want the embedded rule")
			}
			return err
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			_, err := p.GetSecurityPolicy(ctx, dom, "nope")
			return err
		}, failAs: nsxclient.ErrNotFound},
		{name: "PatchSecurityPolicy", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			return p.PatchSecurityPolicy(ctx, dom, policy("env", nsxclient.CategoryEnvironment, 5,
				rule("pass", nsxclient.ActionJumpToApplication, 1, to(gpath("db")))))
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			return p.PatchSecurityPolicy(ctx, dom, policy("wrong", nsxclient.CategoryApplication, 6,
				rule("pass", nsxclient.ActionJumpToApplication, 1, to(gpath("db")))))
		}, failAs: nsxclient.ErrValidation},
		{name: "PutSecurityPolicy", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			sp, err := p.GetSecurityPolicy(ctx, dom, "app")
			if err != nil {
				return err
			}
			sp.SequenceNumber = 11
			_, err = p.PutSecurityPolicy(ctx, dom, *sp)
			return err
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			sp := policy("app", nsxclient.CategoryApplication, 12)
			sp.Revision = stale
			_, err := p.PutSecurityPolicy(ctx, dom, sp)
			return err
		}, failAs: nsxclient.ErrStaleRevision},
		{name: "DeleteSecurityPolicy", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			return p.DeleteSecurityPolicy(ctx, dom, "app")
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			return p.DeleteSecurityPolicy(ctx, dom, "nope")
		}, failAs: nsxclient.ErrNotFound},
		{name: "ListRules", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			_, err := p.ListRules(ctx, dom, "app", nsxclient.PolicyListOptions{})
			return err
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			_, err := p.ListRules(ctx, dom, "nope", nsxclient.PolicyListOptions{})
			return err
		}, failAs: nsxclient.ErrNotFound},
		{name: "GetRule", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			_, err := p.GetRule(ctx, dom, "app", "r1")
			return err
		},
			fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
				_, err := p.GetRule(ctx, dom, "app", "nope")
				return err
			}, failAs: nsxclient.ErrNotFound},
		{name: "PatchRule", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			return p.PatchRule(ctx, dom, "app", rule("r2", nsxclient.ActionDrop, 2, to(gpath("db")), in()))
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			return p.PatchRule(ctx, dom, "app", rule("wide-open", nsxclient.ActionAllow, 3))
		}, failAs: nsxclient.ErrValidation},
		{name: "PutRule", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			r, err := p.GetRule(ctx, dom, "app", "r1")
			if err != nil {
				return err
			}
			r.Logged = true
			_, err = p.PutRule(ctx, dom, "app", *r)
			return err
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			r := rule("r1", nsxclient.ActionAllow, 1, to(gpath("db")))
			r.Revision = stale
			_, err := p.PutRule(ctx, dom, "app", r)
			return err
		}, failAs: nsxclient.ErrStaleRevision},
		{name: "DeleteRule", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error { return p.DeleteRule(ctx, dom, "app", "r1") },
			fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
				return p.DeleteRule(ctx, dom, "app", "nope")
			}, failAs: nsxclient.ErrNotFound},
		{name: "PatchInfra", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			return p.PatchInfra(ctx, nsxclient.NewInfra(nsxclient.DomainRef(dom,
				nsxclient.ChildGroup(group("cache", portTag("app", "cache"))),
				nsxclient.ChildPolicy(policy("cache", nsxclient.CategoryApplication, 20), rule("c1", nsxclient.ActionAllow, 1, to(gpath("cache")))))),
				nsxclient.PatchInfraOptions{})
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			return p.PatchInfra(ctx, nsxclient.NewInfra(nsxclient.DomainRef(dom,
				nsxclient.ChildPolicy(policy("bad", nsxclient.CategoryApplication, 21), rule("b1", nsxclient.ActionAllow, 1, to(gpath("nope")))))),
				nsxclient.PatchInfraOptions{EnforceRevisionCheck: true})
		}, failAs: nsxclient.ErrValidation},
		{name: "ReadInfra", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			_, err := p.ReadInfra(ctx, nsxclient.ReadInfraOptions{Types: []string{"Domain", "Group"}})
			return err
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			_, err := p.ReadInfra(ctx, nsxclient.ReadInfraOptions{Types: []string{"Service"}})
			return err
		}, failAs: nsxclient.ErrValidation},
		{name: "RealizedEntities", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			_, err := p.RealizedEntities(ctx, gpath("web"))
			return err
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			_, err := p.RealizedEntities(ctx, gpath("nope"))
			return err
		}, failAs: nsxclient.ErrNotFound},
		{name: "RealizationStatus", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			_, err := p.RealizationStatus(ctx, nsxclient.SecurityPolicyPath(dom, "app"))
			return err
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			_, err := p.RealizationStatus(ctx, gpath("nope"))
			return err
		}, failAs: nsxclient.ErrNotFound},
		{name: "ListSegments", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			_, err := p.ListSegments(ctx, nsxclient.PolicyListOptions{})
			return err
		}, badClient: true, failAs: nsxclient.ErrUnauthorized},
		{name: "GetSegment", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			_, err := p.GetSegment(ctx, "node-1")
			return err
		},
			fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
				_, err := p.GetSegment(ctx, "nope")
				return err
			}, failAs: nsxclient.ErrNotFound},
		{name: "PatchSegment", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			return p.PatchSegment(ctx, nsxclient.Segment{PolicyResource: nsxclient.PolicyResource{ID: "node-2"}})
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			return p.PatchSegment(ctx, nsxclient.Segment{PolicyResource: nsxclient.PolicyResource{ID: "node-1", Revision: stale}})
		}, failAs: nsxclient.ErrStaleRevision},
		{name: "DeleteSegment", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			if err := p.PatchSegment(ctx, nsxclient.Segment{PolicyResource: nsxclient.PolicyResource{ID: "node-3"}}); err != nil {
				return err
			}
			return p.DeleteSegment(ctx, "node-3")
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error { return p.DeleteSegment(ctx, "node-1") }, failAs: nsxclient.ErrInUse},
		{name: "ListSegmentPorts", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			_, err := p.ListSegmentPorts(ctx, "node-1", nsxclient.PolicyListOptions{})
			return err
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			_, err := p.ListSegmentPorts(ctx, "nope", nsxclient.PolicyListOptions{})
			return err
		}, failAs: nsxclient.ErrNotFound},
		{name: "GetSegmentPort", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			_, err := p.GetSegmentPort(ctx, "node-1", "p1")
			return err
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			_, err := p.GetSegmentPort(ctx, "node-1", "nope")
			return err
		}, failAs: nsxclient.ErrNotFound},
		{name: "PatchSegmentPort", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			return p.PatchSegmentPort(ctx, "node-1", segmentPort("p2", "10.1.0.11", tag("app", "db")))
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			return p.PatchSegmentPort(ctx, "node-1", segmentPort("p3", "10.1.0.300"))
		}, failAs: nsxclient.ErrValidation},
		{name: "PutSegmentPort", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			sp, err := p.GetSegmentPort(ctx, "node-1", "p1")
			if err != nil {
				return err
			}
			sp.Tags = append(sp.Tags, tag("tier", "front"))
			_, err = p.PutSegmentPort(ctx, "node-1", *sp)
			return err
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			sp := segmentPort("p1", "10.1.0.10")
			sp.Revision = stale
			_, err := p.PutSegmentPort(ctx, "node-1", sp)
			return err
		}, failAs: nsxclient.ErrStaleRevision},
		{name: "DeleteSegmentPort", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			return p.DeleteSegmentPort(ctx, "node-1", "p1")
		}, fail: func(ctx context.Context, p *nsxclient.PolicyClient) error {
			return p.DeleteSegmentPort(ctx, "node-1", "nope")
		}, failAs: nsxclient.ErrNotFound},
		{name: "Ping", ok: func(ctx context.Context, p *nsxclient.PolicyClient) error { return p.Ping(ctx) },
			badClient: true, failAs: nsxclient.ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			ctx := t.Context()
			seedPolicy(ctx, t, h.p)
			if err := tt.ok(ctx, h.p); err != nil {
				t.Fatalf("success case failed: %v", err)
			}
			var err error
			if tt.badClient {
				err = tt.ok(ctx, badCreds(h))
			} else {
				err = tt.fail(ctx, h.p)
			}
			var apiErr *nsxclient.APIError
			if !errors.As(err, &apiErr) || !errors.Is(err, tt.failAs) {
				t.Fatalf("error case: got %v, want an *APIError matching %v", err, tt.failAs)
			}
		})
	}
}
