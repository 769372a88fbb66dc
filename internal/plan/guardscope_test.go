package plan_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsync/memnsx"
	. "github.com/microseg/microseg/internal/plan"
	"github.com/microseg/microseg/internal/plan/plantest"
	"github.com/microseg/microseg/nsxclient"
)

// keyedIPSet is an IPSet group under a fixed key, so that its content can change under the key.
func keyedIPSet(key string, ips ...string) ir.Group {
	g := ir.Group{Key: key, Kind: ir.KindIPSet, Family: ir.FamilyIPv4, IPs: ips, DisplayName: "microseg " + key}
	g.Hash = plantest.Hash(g)
	return g
}

// ipSetModel uses two IPSets and a tag group in a block that denies (ten more denies elsewhere, so
// that a guard over the model's denies costs more than one over a few addresses).
func ipSetModel(s1, s2, tag ir.Group) *ir.Model {
	var denies []ir.Rule
	for i := range 10 {
		denies = append(denies, rule(fmt.Sprintf("b/in/%d", i), ir.ActionDrop, ir.DirectionIn, gB, from(ir.Ref{CIDR: fmt.Sprintf("172.16.%d.0/24", i)})))
	}
	return model([]ir.Section{section("np-ingress/c",
		rule("c/in/s2", ir.ActionDrop, ir.DirectionIn, gC, from(gref(s2))),
		rule("c/in/s1", ir.ActionAllow, ir.DirectionIn, gC, from(gref(s1), gref(tag))),
		rule("c/in/rest", ir.ActionDrop, ir.DirectionIn, gC)), section("np-ingress/b", denies...)}, gB, gC, s1, s2, tag)
}

// convergeOwn is converge with the planner's own guards (converge gives it naiveGuard).
func convergeOwn(t *testing.T, f *memnsx.NSX, m *ir.Model) *Plan {
	t.Helper()
	p, err := Compute(m, f.State(), Options{})
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	if err := f.Execute(p); err != nil {
		t.Fatalf("apply: %v\nplan: %s", err, dump(p))
	}
	if again, err := Compute(m, f.State(), Options{}); err != nil || !again.Empty() {
		t.Fatalf("plan after apply is not empty (%v):\n%s", err, dump(again))
	}
	return p
}

func refIDs(refs []nsxclient.ResourceReference) []string {
	var out []string
	for _, r := range refs {
		out = append(out, r.TargetID)
	}
	return out
}

func guardRules(p *Plan) []string {
	var out []string
	for _, s := range p.Steps {
		if s.Guard && s.Op == OpCreateSection {
			for _, r := range s.Rules {
				refs := append(refIDs(r.Sources), refIDs(r.Destinations)...)
				out = append(out, r.Action+" "+r.Direction+" "+strings.Join(refs, ","))
			}
		}
	}
	return out
}

func TestTheGuardCoversOnlyWhatTheChangeCanExpose(t *testing.T) {
	t.Run("a block of allows needs no guard", func(t *testing.T) {
		f := memnsx.New(testCluster)
		convergeOwn(t, f, model(threeSections().Sections[:2], gA, gB, gC))
		if p := convergeOwn(t, f, threeSections()); p.Guarded {
			t.Fatalf("the old block denies nothing:\n%s", dump(p))
		}
	})
	t.Run("IPSet updates only: the address guard", func(t *testing.T) {
		f := memnsx.New(testCluster)
		convergeOwn(t, f, ipSetModel(keyedIPSet("ips4-a", "10.9.0.1"), keyedIPSet("ips4-b", "10.9.0.2"), gA))
		p := convergeOwn(t, f, ipSetModel(keyedIPSet("ips4-a", "10.9.0.1", "10.1.0.7"), keyedIPSet("ips4-b", "10.1.0.7"), gA))
		// 10.1.0.7 joins both sets, 10.9.0.2 leaves s2: DROP from them, then to them, at each side.
		want := []string{"DROP OUT 10.1.0.7,10.9.0.2", "DROP OUT 10.1.0.7,10.9.0.2", "DROP IN 10.1.0.7,10.9.0.2", "DROP IN 10.1.0.7,10.9.0.2"}
		if got := guardRules(p); !p.Guarded || !slices.Equal(got, want) || p.Counts()[OpUpdateGroup] != 2 || len(p.Steps) != 4 {
			t.Fatalf("guard rules %q, want %q\n%s", got, want, dump(p))
		}
	})
	t.Run("an NSGroup's content too: the model's guard", func(t *testing.T) {
		f := memnsx.New(testCluster)
		tagA := gA
		convergeOwn(t, f, ipSetModel(keyedIPSet("ips4-a", "10.9.0.1"), keyedIPSet("ips4-b", "10.9.0.2"), tagA))
		// The administrator edits the tag group, so the change repairs it too.
		for _, g := range f.Groups {
			if len(g.MembershipCriteria) > 0 && g.MembershipCriteria[0].Tag == "a" {
				g.MembershipCriteria[0].Tag = "z"
			}
		}
		p := convergeOwn(t, f, ipSetModel(keyedIPSet("ips4-a", "10.9.0.1", "10.1.0.7"), keyedIPSet("ips4-b", "10.1.0.7"), tagA))
		if got := guardRules(p); !p.Guarded || slices.ContainsFunc(got, func(r string) bool { return strings.Contains(r, "10.1.0.7") }) {
			t.Fatalf("want the deny-only guard of the model, got %q\n%s", got, dump(p))
		}
	})
	t.Run("an address range: the CIDRs that cover it", func(t *testing.T) {
		f := memnsx.New(testCluster)
		convergeOwn(t, f, ipSetModel(keyedIPSet("ips4-a", "10.9.0.1"), keyedIPSet("ips4-b", "10.9.0.2"), gA))
		p := convergeOwn(t, f, ipSetModel(keyedIPSet("ips4-a", "10.9.0.1", "10.1.0.7-10.1.0.9"), keyedIPSet("ips4-b", "10.1.0.7-10.1.0.9"), gA))
		want := "DROP OUT 10.1.0.7/32,10.1.0.8/31,10.9.0.2"
		if got := guardRules(p); !p.Guarded || len(got) != 4 || got[0] != want {
			t.Fatalf("guard rules %q, want 4 over %q", got, want)
		}
	})
}
