package policy_test

import (
	"strings"
	"testing"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/nsxsync/policy"
	. "github.com/microseg/microseg/internal/plan/plantest"
	"github.com/microseg/microseg/nsxclient"
)

// threeTiers is a model with a Security section (reject d→a on 443, allow the rest of d), an
// allow and an isolation section, and a Baseline section denying UDP/53 to every pod.
func threeTiers() *ir.Model {
	a, b, c, d := TagGroup("app=a"), TagGroup("app=b"), TagGroup("app=c"), TagGroup("app=d")
	sec := Section("csp/protect-a",
		Rule("protect-a/0", ir.ActionReject, ir.DirectionIn, a, From(Ref(d)), TCP("443")))
	sec.Tier = ir.TierSecurity
	sec.Hash = Hash(sec)
	base := Section("csp/baseline", Rule("baseline/0", ir.ActionDrop, ir.DirectionIn, NestedGroup([]string{a.Key, b.Key, c.Key}), UDP("53")))
	base.Tier = ir.TierBaseline
	base.Hash = Hash(base)
	nest := NestedGroup([]string{a.Key, b.Key, c.Key})
	return Model([]ir.Section{
		sec,
		Section("np-allow/b", Rule("b/in/0", ir.ActionAllow, ir.DirectionIn, b, From(Ref(a)), TCP("80"))),
		Section("np-isolate/b", Rule("b/iso", ir.ActionDrop, ir.DirectionIn, b)),
		base,
	}, a, b, c, d, nest)
}

func TestSyncConvergesAndWritesNothingAtRest(t *testing.T) {
	e := newEnv(t, nsxsim.Options{})
	e.addPods(fourPods()...)
	b := e.backend(policy.Config{})
	m := threeTiers()
	res := e.sync(b, m, nsxsync.ReadFull)
	if !res.Converged || res.Summary.Steps != 1 || res.Summary.Guarded {
		t.Fatalf("first sync: converged %v, %d calls, guarded %v; want one unguarded call that converges", res.Converged, res.Summary.Steps, res.Summary.Guarded)
	}
	checkVerdicts(t, e, map[string]bool{
		"d1→a1 TCP/443": false, "d1→a1 TCP/80": true, // Security tier rejects 443 only
		"a1→b1 TCP/80": true, "c1→b1 TCP/80": false, "a1→b1 TCP/443": false, // b is isolated, a may reach it on 80
		"a1→c1 UDP/53": false, "d1→a1 UDP/53": false, "a1→d1 UDP/53": true, // Baseline
	})
	e.stats()
	for _, mode := range []nsxsync.ReadMode{nsxsync.ReadIncremental, nsxsync.ReadFull, nsxsync.ReadMode(42)} {
		res = e.sync(b, m, mode)
		calls, writes := e.stats()
		if !res.Converged || res.Writes != 0 || writes != 0 {
			t.Fatalf("resync (%v): converged %v, %d writes (simulator %d); want 0 writes", mode, res.Converged, res.Writes, writes)
		}
		if calls != res.Reads || calls > 2 {
			t.Fatalf("resync (%v) made %d NSX calls (result says %d); want at most 2 (one hierarchical read, or policies and groups)", mode, calls, res.Reads)
		}
	}
	// The index names Policy paths.
	if path, ok := res.Owned.Section("np-allow/b"); !ok || !strings.HasPrefix(path, "/infra/domains/default/security-policies/ms-cluster-a-dev.np-allow_b-") {
		t.Fatalf("owned section np-allow/b = %q, %v", path, ok)
	}
	if path, ok := res.Owned.Rule("b/in/0"); !ok || !strings.Contains(path, "/rules/ms-cluster-a-b_in_0-") {
		t.Fatalf("owned rule b/in/0 = %q, %v", path, ok)
	}
	if n := res.Owned.Counts(); n[policy.KindSecurityPolicy] != 4 || n[policy.KindRule] != 4 || n[policy.KindGroup] != 5 {
		t.Fatalf("owned counts %v; want 4 policies, 4 rules, 5 groups", n)
	}
}

func checkVerdicts(t *testing.T, e *env, want map[string]bool) {
	t.Helper()
	seen := 0
	for _, f := range e.flows() {
		w, ok := want[e.describe(f)]
		if !ok {
			continue
		}
		seen++
		if got := e.trace(f); got.Allowed != w {
			t.Errorf("%s allowed=%v, want %v (source %+v, destination %+v)", e.describe(f), got.Allowed, w, got.Source, got.Destination)
		}
	}
	if seen != len(want) {
		t.Fatalf("%d of %d expected flows traced", seen, len(want))
	}
}

func TestPoliciesSitInTheirCategoriesAndBands(t *testing.T) {
	e := newEnv(t, nsxsim.Options{})
	e.addPods(fourPods()...)
	b := e.backend(policy.Config{})
	e.sync(b, threeTiers(), nsxsync.ReadFull)
	list, err := e.client.Policy().ListSecurityPolicies(e.ctx, "default", nsxclient.ListSecurityPoliciesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bands := policy.DefaultBands()
	got := map[string]nsxclient.SecurityPolicy{}
	for _, p := range list {
		got[p.DisplayName] = p
	}
	for name, want := range map[string]struct {
		category string
		band     policy.Band
	}{
		"microseg csp/protect-a": {nsxclient.CategoryEnvironment, bands.Security},
		"microseg np-allow/b":    {nsxclient.CategoryApplication, bands.Developer},
		"microseg np-isolate/b":  {nsxclient.CategoryApplication, bands.Developer},
		"microseg csp/baseline":  {nsxclient.CategoryApplication, bands.Baseline},
	} {
		p, ok := got[name]
		if !ok || p.Category != want.category || !want.band.Contains(p.SequenceNumber) {
			t.Errorf("%s: category %q sequence %d; want %s in %s", name, p.Category, p.SequenceNumber, want.category, want.band)
		}
	}
	if got["microseg np-allow/b"].SequenceNumber >= got["microseg np-isolate/b"].SequenceNumber {
		t.Errorf("allow policy %d not before isolation policy %d", got["microseg np-allow/b"].SequenceNumber, got["microseg np-isolate/b"].SequenceNumber)
	}
}
