package plan_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsync/memnsx"
	. "github.com/microseg/microseg/internal/plan"
)

// packed is a section shared by many namespaces (filler rules), with one namespace's allow rules
// and its isolation rule at the end.
func packed(allows []ir.Rule, isolate ir.Rule) ir.Section {
	var rules []ir.Rule
	for i := range 300 {
		rules = append(rules, rule(fmt.Sprintf("other/%d", i), ir.ActionAllow, ir.DirectionIn, gC, from(ir.Ref{CIDR: fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)}), tcp("80")))
	}
	return section("np/", append(append(rules, allows...), isolate)...)
}

// A new policy in a namespace whose section it shares: a new allow rule, and the isolation rule
// applied to one group more. Two rule writes, ordered so that no guard is needed: the isolation
// widens (a DROP matching more only denies more), then the allow is created.
func TestNamespaceChangeInAPackedSectionNeedsNoGuard(t *testing.T) {
	f := memnsx.New(testCluster)
	allowA := rule("ns/a/in/0", ir.ActionAllow, ir.DirectionIn, gA, from(gref(gB)), tcp("80"))
	converge(t, f, model([]ir.Section{packed([]ir.Rule{allowA}, rule("ns/iso", ir.ActionDrop, ir.DirectionIn, gA))}, gA, gB, gC), Options{})

	allowB := rule("ns/b/in/0", ir.ActionAllow, ir.DirectionIn, gB, from(gref(gA)), tcp("443"))
	iso := rule("ns/iso", ir.ActionDrop, ir.DirectionIn, gA)
	iso.AppliedTo = append(iso.AppliedTo, gref(gB))
	p := converge(t, f, model([]ir.Section{packed([]ir.Rule{allowA, allowB}, iso)}, gA, gB, gC), Options{})
	if got := ops(p); !slices.Equal(got, []Op{OpUpdateRule, OpCreateRule}) || p.Guarded {
		t.Fatalf("want the isolation update, then the create, no guard; got\n%s", dump(p))
	}
	// Removing the policy again: the allow goes first (narrowing), then the isolation shrinks.
	p = converge(t, f, model([]ir.Section{packed([]ir.Rule{allowA}, rule("ns/iso", ir.ActionDrop, ir.DirectionIn, gA))}, gA, gB, gC), Options{})
	if got := ops(p); !slices.Equal(got, []Op{OpDeleteRule, OpUpdateRule}) || p.Guarded {
		t.Fatalf("want the delete, then the isolation update, no guard; got\n%s", dump(p))
	}
}

// Two updates that each both allow and deny something new: one is split in two writes (the
// DROP first widened to both matches, then narrowed), the other stays the plan's one mixed
// write. Three rule writes, no guard, no rewrite of the 300-rule section.
func TestMixedUpdatesAreSplit(t *testing.T) {
	f := memnsx.New(testCluster)
	a := rule("ns/a", ir.ActionAllow, ir.DirectionIn, gA, from(gref(gB)), tcp("80"))
	b := rule("ns/b", ir.ActionDrop, ir.DirectionIn, gB, from(gref(gA)))
	converge(t, f, model([]ir.Section{packed([]ir.Rule{a}, b)}, gA, gB, gC), Options{})
	a2 := rule("ns/a", ir.ActionAllow, ir.DirectionIn, gA, from(gref(gB)), tcp("443")) // neither wider nor narrower
	b2 := rule("ns/b", ir.ActionDrop, ir.DirectionIn, gB, from(gref(gC)))
	p := converge(t, f, model([]ir.Section{packed([]ir.Rule{a2}, b2)}, gA, gB, gC), Options{})
	if c := p.Counts(); p.Guarded || c[OpUpdateRule] != 3 || c[OpUpdateSectionRules] != 0 {
		t.Fatalf("want three rule updates and no guard; got\n%s", dump(p))
	}
}

// Two updates that cannot be split (a deny moving to the other direction) cannot be ordered
// either: a guard, or one atomic rewrite, whichever costs less.
func TestUnsplittableMixedWritesNeedAGuard(t *testing.T) {
	f := memnsx.New(testCluster)
	in := rule("x/p", ir.ActionDrop, ir.DirectionIn, gB, from(gref(gC)))
	out := rule("y/q", ir.ActionDrop, ir.DirectionIn, gC, from(gref(gA)))
	converge(t, f, model([]ir.Section{packed(nil, in), section("y", out)}, gA, gB, gC), Options{})
	in2 := rule("x/p", ir.ActionDrop, ir.DirectionOut, gA, to(gref(gC)))
	out2 := rule("y/q", ir.ActionDrop, ir.DirectionOut, gC, to(gref(gB)))
	p := converge(t, f, model([]ir.Section{packed(nil, in2), section("y", out2)}, gA, gB, gC), Options{})
	if !p.Guarded {
		t.Fatalf("two unsplittable mixed writes in two sections need a guard; got\n%s", dump(p))
	}
}

// Several ALLOW rules of one direction, next to each other, change ports: together they are the
// plan's one mixed write (a run of allows allows, at each moment, only what the old or the new run
// allows). One write per rule, no guard, none split.
func TestAllowRunIsOneMixedWrite(t *testing.T) {
	f := memnsx.New(testCluster)
	allows := func(port string) []ir.Rule {
		var out []ir.Rule
		for i := range 3 {
			out = append(out, rule(fmt.Sprintf("ns/a/in/%d", i), ir.ActionAllow, ir.DirectionIn, gA, from(gref(gB)), tcp(port)))
		}
		return out
	}
	iso := rule("ns/iso", ir.ActionDrop, ir.DirectionIn, gA)
	converge(t, f, model([]ir.Section{packed(allows("80"), iso)}, gA, gB, gC), Options{})
	p := converge(t, f, model([]ir.Section{packed(allows("8080"), iso)}, gA, gB, gC), Options{})
	if got := ops(p); !slices.Equal(got, []Op{OpUpdateRule, OpUpdateRule, OpUpdateRule}) || p.Guarded {
		t.Fatalf("want three rule updates, no guard; got\n%s", dump(p))
	}
}
