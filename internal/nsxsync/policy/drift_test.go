package policy_test

import (
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/nsxsync/policy"
	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/nsxclient"
)

// ownedPolicy returns the policy microseg made for an IR section key.
func ownedPolicy(t *testing.T, e *env, key string) nsxclient.SecurityPolicy {
	t.Helper()
	list, err := e.client.Policy().ListSecurityPolicies(e.ctx, "default", nsxclient.ListSecurityPoliciesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range list {
		if ownership.TagValue(p.Tags, ownership.TagKey) == key {
			full, err := e.client.Policy().GetSecurityPolicy(e.ctx, "default", p.ID)
			if err != nil {
				t.Fatal(err)
			}
			return *full
		}
	}
	t.Fatalf("no policy of microseg with key %s", key)
	return nsxclient.SecurityPolicy{}
}

func TestDriftIsRepaired(t *testing.T) {
	m := threeTiers()
	for name, edit := range map[string]func(t *testing.T, e *env){
		"a rule's action": func(t *testing.T, e *env) {
			p := ownedPolicy(t, e, "np-isolate/b")
			r := p.Rules[0]
			r.Action, r.Revision = "ALLOW", nil
			if err := e.client.Policy().PatchRule(e.ctx, "default", p.ID, r); err != nil {
				t.Fatal(err)
			}
		},
		"a rule added to microseg's policy": func(t *testing.T, e *env) {
			p := ownedPolicy(t, e, "np-isolate/b")
			if err := e.client.Policy().PatchRule(e.ctx, "default", p.ID, nsxclient.PolicyRule{PolicyResource: nsxclient.PolicyResource{ID: "sneaky"},
				Action: "ALLOW", SourceGroups: []string{"ANY"}, DestinationGroups: []string{"ANY"}, Services: []string{"ANY"},
				Scope: p.Rules[0].Scope, SequenceNumber: 1}); err != nil {
				t.Fatal(err)
			}
		},
		"a deleted policy": func(t *testing.T, e *env) {
			if err := e.client.Policy().DeleteSecurityPolicy(e.ctx, "default", ownedPolicy(t, e, "np-isolate/b").ID); err != nil {
				t.Fatal(err)
			}
		},
		"a policy moved": func(t *testing.T, e *env) {
			p := ownedPolicy(t, e, "np-isolate/b")
			p.SequenceNumber, p.Rules, p.Revision = 1, nil, nil
			if err := e.client.Policy().PatchSecurityPolicy(e.ctx, "default", p); err != nil {
				t.Fatal(err)
			}
		},
		"a group's expression": func(t *testing.T, e *env) {
			editSomeGroup(e)
		},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, nsxsim.Options{})
			e.addPods(fourPods()...)
			b := e.backend(policy.Config{})
			e.sync(b, m, nsxsync.ReadFull)
			want := e.verdicts()
			e.sync(b, m, nsxsync.ReadIncremental) // the cache is warm
			edit(t, e)
			res := e.sync(b, m, nsxsync.ReadIncremental)
			if res.Writes == 0 || !res.Converged {
				t.Fatalf("the resync after the edit wrote %d times, converged %v; want the drift repaired", res.Writes, res.Converged)
			}
			for f, allowed := range e.verdicts() {
				if allowed != want[f] {
					t.Errorf("after the repair %s allowed=%v, want %v", e.describe(f), allowed, want[f])
				}
			}
			if again := e.sync(b, m, nsxsync.ReadIncremental); again.Writes != 0 {
				t.Errorf("the sync after the repair wrote %d times", again.Writes)
			}
		})
	}
}

// TestIncrementalReadFindsRuleEditsWithinTheWindow: whether NSX bumps a policy's _revision when
// one of its rules changes is not documented. With a simulator that did not, an edited rule is
// still found once the verification window has passed over every policy.
func TestIncrementalReadVerifiesEveryPolicyWithinTheWindow(t *testing.T) {
	e := newEnv(t, nsxsim.Options{})
	e.addPods(fourPods()...)
	now := time.Unix(1_700_000_000, 0)
	b := e.backend(policy.Config{VerifyWindow: time.Hour, Now: func() time.Time { return now }})
	m := threeTiers()
	e.sync(b, m, nsxsync.ReadFull)
	e.stats()
	res := e.sync(b, m, nsxsync.ReadIncremental)
	if calls, _ := e.stats(); calls != 1 || res.Reads != 1 {
		t.Fatalf("an incremental read right after a full one made %d calls; want 1 (policies and groups in one hierarchical read)", calls)
	}
	now = now.Add(15 * time.Minute) // a quarter of the window: a quarter of the 4 policies
	e.sync(b, m, nsxsync.ReadIncremental)
	if calls, _ := e.stats(); calls != 2 {
		t.Fatalf("a read a quarter of the window later made %d calls; want 1 + 1 policy re-read", calls)
	}
	now = now.Add(2 * time.Hour) // every policy is overdue
	e.sync(b, m, nsxsync.ReadIncremental)
	if calls, _ := e.stats(); calls != 5 {
		t.Fatalf("a read past the window made %d calls; want 1 + 4 policy re-reads", calls)
	}
}

func TestForeignObjectsAreNeverWritten(t *testing.T) {
	e := newEnv(t, nsxsim.Options{})
	e.addPods(fourPods()...)
	addForeignPolicies(e)
	b := e.backend(policy.Config{})
	m := threeTiers()
	e.sync(b, m, nsxsync.ReadFull)
	// Someone takes one of microseg's policies over: removes microseg's tags.
	p := ownedPolicy(t, e, "np-allow/b")
	p.Tags, p.Rules, p.Revision = []nsxclient.Tag{{Scope: "owner", Tag: "someone"}}, nil, nil
	if err := e.client.Policy().PatchSecurityPolicy(e.ctx, "default", p); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, e)
	_, err := nsxsync.Sync(e.ctx, b, m, nsxsync.Options{Read: nsxsync.ReadIncremental})
	var ce *nsxsync.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("sync = %v; want a configuration error: a foreign policy holds microseg's id", err)
	}
	if after := snapshot(t, e); !slices.Equal(before, after) {
		t.Fatalf("NSX changed although the plan failed:\nbefore %v\nafter  %v", before, after)
	}
	// Other users' policies and groups are untouched by every sync.
	for _, id := range []string{"zone-top", "zone-mid", "app-mid"} {
		got, err := e.client.Policy().GetSecurityPolicy(e.ctx, "default", id)
		if err != nil || got.Revision == nil || *got.Revision != 0 {
			t.Errorf("foreign policy %s: %v, revision %v; want it never written", id, err, got.Revision)
		}
	}
}

// snapshot lists every policy and group path with its revision.
func snapshot(t *testing.T, e *env) []string {
	t.Helper()
	var out []string
	ps, err := e.client.Policy().ListSecurityPolicies(e.ctx, "default", nsxclient.ListSecurityPoliciesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		out = append(out, p.Path+"@"+strconv.FormatInt(*p.Revision, 10))
	}
	gs, err := e.client.Policy().ListGroups(e.ctx, "default", nsxclient.ListGroupsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		out = append(out, g.Path+"@"+strconv.FormatInt(*g.Revision, 10))
	}
	slices.Sort(out)
	return out
}

// TestProtectedObjectsAreNotMicrosegs: an object NSX protects from microseg (created by a
// protected principal identity) is not microseg's even with microseg's tags, and microseg never
// sends X-Allow-Overwrite.
func TestProtectedObjectsAreNotMicrosegs(t *testing.T) {
	e := newEnv(t, nsxsim.Options{ProtectedPrincipals: []string{"ncp"}, Users: map[string]string{"ncp": "Ncp-secret-1", "admin": "Admin-secret-1"}})
	e.addPods(fourPods()...)
	ncp, err := simnsxClient(e, "ncp", "Ncp-secret-1")
	if err != nil {
		t.Fatal(err)
	}
	tags := ownership.Tags("cluster-a", "tag-imposter", "h", false)
	if err := ncp.Policy().PatchGroup(e.ctx, "default", nsxclient.PolicyGroup{PolicyResource: nsxclient.PolicyResource{ID: "ncp-group", Tags: tags},
		Expression: []nsxclient.PolicyExpression{nsxclient.TagEquals(nsxclient.MemberSegmentPort, "app", "a")}}); err != nil {
		t.Fatal(err)
	}
	b := e.backend(policy.Config{})
	res := e.sync(b, threeTiers(), nsxsync.ReadFull)
	if !res.Converged {
		t.Fatal("not converged")
	}
	g, err := e.client.Policy().GetGroup(e.ctx, "default", "ncp-group")
	if err != nil || *g.Revision != 0 {
		t.Fatalf("the protected group was written or deleted: %v %v", err, g)
	}
	if res.Owned.Counts()[policy.KindGroup] != 5 {
		t.Fatalf("owned groups %v; the protected group must not count", res.Owned.Counts())
	}
}
