package plan_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsync/memnsx"
	"github.com/microseg/microseg/internal/ownership"
	. "github.com/microseg/microseg/internal/plan"
	"github.com/microseg/microseg/internal/plan/plantest"
	"github.com/microseg/microseg/nsxclient"
)

// converge plans m against f, applies the plan, and checks that f then holds exactly m: planning
// again is empty, and microseg's sections are contiguous and in model order.
func converge(t *testing.T, f *memnsx.NSX, m *ir.Model, opts Options) *Plan {
	t.Helper()
	if opts.Guard == nil {
		opts.Guard = naiveGuard
	}
	p, err := Compute(m, f.State(), opts)
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	if err := f.Execute(p); err != nil {
		t.Fatalf("apply: %v\nplan: %s", err, dump(p))
	}
	again, err := Compute(m, f.State(), opts)
	if err != nil {
		t.Fatalf("Compute again: %v", err)
	}
	if !again.Empty() {
		t.Fatalf("plan after apply is not empty:\n%s\nfirst plan:\n%s", dump(again), dump(p))
	}
	keys, contiguous := f.OwnedOrder()
	var want []string
	for _, s := range m.Sections {
		want = append(want, ownership.EncodeKey(s.Key))
	}
	if !slices.Equal(keys, want) || !contiguous {
		t.Fatalf("sections %v (contiguous %v), want %v; DFW: %s", keys, contiguous, want, f.SectionNames())
	}
	return p
}

func dump(p *Plan) string {
	var b strings.Builder
	for i, s := range p.Steps {
		pos := ""
		if s.Position != nil {
			pos = " @" + s.Position.String()
		}
		fmt.Fprintf(&b, "%2d %s %s %s%s%s (%s)\n", i, s.Op, s.Key, s.ID, s.RuleKey, pos, s.Reason)
	}
	return b.String()
}

func ops(p *Plan) []Op {
	out := make([]Op, len(p.Steps))
	for i, s := range p.Steps {
		out[i] = s.Op
	}
	return out
}

var threeSections = plantest.ThreeSections

func TestCreateFromEmpty(t *testing.T) {
	f := memnsx.New(testCluster)
	p := converge(t, f, threeSections(), Options{})
	// Nothing of microseg's is in NSX, so nothing of its denies anything: no guard is needed,
	// however many writes the change takes (docs/architecture.md, "The guard").
	want := []Op{OpCreateGroup, OpCreateGroup, OpCreateGroup, OpCreateSection, OpCreateSection, OpCreateSection}
	if !slices.Equal(ops(p), want) || p.Guarded {
		t.Fatalf("ops %v (guarded %v), want %v unguarded\n%s", ops(p), p.Guarded, want, dump(p))
	}
	if pos := p.Steps[3].Position; *pos != (Position{Op: InsertTop}) {
		t.Fatalf("the first section goes at the top: %s", dump(p))
	}
	if pos := p.Steps[4].Position; pos.Op != InsertAfter || pos.Anchor != Placeholder(PlaceholderSection, "np-allow/b") {
		t.Fatalf("each section goes after its predecessor: %s", dump(p))
	}
	if got := f.SectionNames(); got != "microseg np-allow/b, microseg np-allow/c, microseg np-isolate/x, Default Layer3 Section" {
		t.Fatalf("DFW: %s", got)
	}
}

// denyingBlock puts a microseg section with a DROP rule into f: a block that denies something,
// so that a change of several writes needs a guard.
func denyingBlock(t *testing.T, f *memnsx.NSX, opts Options) {
	t.Helper()
	converge(t, f, model([]ir.Section{section("old/deny", rule("old/deny/0", ir.ActionDrop, ir.DirectionIn, gC))}, gC), opts)
}

func TestGuardGoesFirstWhenTheOldBlockDenies(t *testing.T) {
	f := memnsx.New(testCluster)
	denyingBlock(t, f, Options{})
	p := converge(t, f, threeSections(), Options{})
	if !p.Guarded {
		t.Fatalf("three sections with rules are three evaluation changes over a block that denies: the plan must be guarded\n%s", dump(p))
	}
	var guard, first int
	for i, s := range p.Steps {
		switch {
		case s.Guard && s.Op == OpCreateSection:
			guard = i
		case s.Op == OpCreateSection && s.Key == "np-allow/b":
			first = i
		}
	}
	if pos := p.Steps[guard].Position; *pos != (Position{Op: InsertTop}) || first < guard {
		t.Fatalf("guard goes first, at the top: %s", dump(p))
	}
	if pos := p.Steps[first].Position; pos.Op != InsertAfter || pos.Anchor != Placeholder(PlaceholderSection, p.Steps[guard].Key) {
		t.Fatalf("the first section goes below the guard: %s", dump(p))
	}
	if got := f.SectionNames(); got != "microseg np-allow/b, microseg np-allow/c, microseg np-isolate/x, Default Layer3 Section" {
		t.Fatalf("DFW: %s", got)
	}
}

func TestCreateBelowAnchor(t *testing.T) {
	f := memnsx.New(testCluster)
	above := f.AddForeignSection(0, "security-team")
	below := f.AddForeignSection(1, "hand-made-below")
	converge(t, f, threeSections(), Options{AnchorSectionID: above})
	want := "security-team, microseg np-allow/b, microseg np-allow/c, microseg np-isolate/x, hand-made-below, Default Layer3 Section"
	if got := f.SectionNames(); got != want {
		t.Fatalf("DFW: %s\nwant %s", got, want)
	}
	if f.Touched[above] || f.Touched[below] {
		t.Fatal("foreign sections were written")
	}
	// One section alone is a single write: no guard, created directly below the anchor.
	g := memnsx.New(testCluster)
	anchor := g.AddForeignSection(0, "security-team")
	one := model([]ir.Section{threeSections().Sections[0]}, gA, gB)
	p := converge(t, g, one, Options{AnchorSectionID: anchor})
	if p.Guarded || *p.Steps[2].Position != *after(anchor) {
		t.Fatalf("single section: %s", dump(p))
	}
}

func TestAnchorErrors(t *testing.T) {
	f := memnsx.New(testCluster)
	if _, err := Compute(threeSections(), f.State(), Options{AnchorSectionID: "nope"}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing anchor: %v", err)
	}
	if _, err := Compute(threeSections(), f.State(), Options{AnchorSectionID: "default-l3"}); err == nil {
		t.Fatal("the default section cannot be the anchor")
	}
	converge(t, f, threeSections(), Options{})
	own := f.State().Sections[0].Section.ID
	if _, err := Compute(threeSections(), f.State(), Options{AnchorSectionID: own}); err == nil || !strings.Contains(err.Error(), "own sections") {
		t.Fatalf("own anchor: %v", err)
	}
}

func TestClusterIDChecks(t *testing.T) {
	m := threeSections()
	if _, err := Compute(m, State{}, Options{ClusterID: "other"}); err == nil {
		t.Fatal("a model for another cluster must be refused")
	}
	m.ClusterID = ""
	if _, err := Compute(m, State{}, Options{}); err == nil {
		t.Fatal("no cluster id must be refused")
	}
	if _, err := Compute(m, State{}, Options{ClusterID: strings.Repeat("c", 257)}); err == nil {
		t.Fatal("an over-long cluster id must be refused")
	}
}

func TestPlannerBuildsTheGuard(t *testing.T) {
	f := memnsx.New(testCluster)
	denyingBlock(t, f, Options{})
	// No guard in the options: the planner builds the production one (GuardFor) for the limits.
	for _, tc := range []struct {
		limits   ir.Limits
		sections int
		allows   bool
	}{{ir.Limits{}, 1, true}, {ir.Limits{MaxRulesPerSection: 2}, 1, false}, {ir.Limits{MaxRulesPerSection: 1}, 2, false}} {
		p, err := Compute(threeSections(), f.State(), Options{Limits: tc.limits})
		if err != nil {
			t.Fatalf("limits %+v: %v", tc.limits, err)
		}
		var guards []Step
		allows := false
		for _, s := range p.Steps {
			if s.Guard && s.Op == OpCreateSection {
				guards = append(guards, s)
				for _, r := range s.Rules {
					allows = allows || r.Action == string(ir.ActionAllow)
				}
			}
		}
		if !p.Guarded || len(guards) != tc.sections || allows != tc.allows {
			t.Fatalf("limits %+v: guarded %v, %d guard sections (want %d), ALLOW rules in the guard %v (want %v)\n%s",
				tc.limits, p.Guarded, len(guards), tc.sections, allows, tc.allows, dump(p))
		}
	}
	// A model without deny rules needs no guard: its deny projection is empty.
	allowOnly := model(threeSections().Sections[:2], gA, gB, gC)
	if _, err := Compute(allowOnly, f.State(), Options{}); err != nil {
		t.Fatalf("allow-only model: %v", err)
	}
	// A guard of several sections with an ALLOW rule is refused (it goes in section by section).
	bad := naiveGuard(threeSections())
	bad.Sections[0].Rules[0].Action = ir.ActionAllow
	bad.Sections = append(bad.Sections, ir.Section{Key: "guard/extra", Rules: bad.Sections[0].Rules})
	if _, err := Compute(threeSections(), f.State(), Options{Guard: func(*ir.Model) *Guard { return bad }}); err == nil || !strings.Contains(err.Error(), "may only deny") {
		t.Fatalf("allow in guard: %v", err)
	}
	// A one-section copy of the block may hold ALLOW rules: it goes in and out in single writes.
	if g, kind := GuardFor(threeSections(), ir.Limits{}); kind != GuardCopy || len(g.Sections) != 1 {
		t.Fatalf("GuardFor: %s with %d sections", kind, len(g.Sections))
	} else if _, err := Compute(threeSections(), f.State(), Options{Guard: func(*ir.Model) *Guard { return g }}); err != nil {
		t.Fatalf("copy guard refused: %v", err)
	}
}

func TestUnchangedIsEmptyAndDeterministic(t *testing.T) {
	f := memnsx.New(testCluster)
	m := threeSections()
	converge(t, f, m, Options{})
	p, err := Compute(m, f.State(), Options{}) // no guard needed for an empty plan
	if err != nil || !p.Empty() {
		t.Fatalf("unchanged: %v %s", err, dump(p))
	}
}

func bigSection(key string, n int, mutate func(i int, r *ir.Rule)) ir.Section {
	rules := make([]ir.Rule, n)
	for i := range rules {
		r := rule(fmt.Sprintf("%s/r%d", key, i), ir.ActionAllow, ir.DirectionIn, gB, from(ir.Ref{CIDR: fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)}), tcp("80"))
		if mutate != nil {
			mutate(i, &r)
			r = plantest.Rehash(r)
		}
		rules[i] = r
	}
	return section(key, rules...)
}

func TestOneRuleChangedInBigSectionIsRuleLevel(t *testing.T) {
	f := memnsx.New(testCluster)
	isolate := func(i int, r *ir.Rule) { // the last rule denies, so several writes need a guard
		if i == 899 {
			r.Action = ir.ActionDrop
		}
	}
	converge(t, f, model([]ir.Section{bigSection("big", 900, isolate)}, gB), Options{})
	changed := model([]ir.Section{bigSection("big", 900, func(i int, r *ir.Rule) {
		isolate(i, r)
		if i == 450 {
			r.Services[0].DestinationPorts = []string{"443"}
		}
	})}, gB)
	p := converge(t, f, changed, Options{})
	// The rule only: the section's hash tag covers its attributes, not its rules.
	if !slices.Equal(ops(p), []Op{OpUpdateRule}) || p.Guarded {
		t.Fatalf("want one UpdateRule, got\n%s", dump(p))
	}
	// Three more rules change (and 450 changes back): rule-level plus a guard is still far cheaper
	// than a 900-rule rewrite.
	changed3 := model([]ir.Section{bigSection("big", 900, func(i int, r *ir.Rule) {
		isolate(i, r)
		if i%300 == 1 {
			r.Action = ir.ActionDrop
		}
	})}, gB)
	p = converge(t, f, changed3, Options{})
	if c := p.Counts(); c[OpUpdateRule] != 4 || c[OpUpdateSectionRules] != 0 || !p.Guarded {
		t.Fatalf("want 4 guarded UpdateRules, got\n%s", dump(p))
	}
}

func TestSmallSectionRewrittenAtomically(t *testing.T) {
	f := memnsx.New(testCluster)
	converge(t, f, model([]ir.Section{bigSection("small", 5, nil)}, gB), Options{})
	rewritten := model([]ir.Section{bigSection("small", 5, func(_ int, r *ir.Rule) { r.Action = ir.ActionReject })}, gB)
	p := converge(t, f, rewritten, Options{})
	if !slices.Equal(ops(p), []Op{OpUpdateSectionRules}) || p.Guarded {
		t.Fatalf("want one UpdateSectionRules, got\n%s", dump(p))
	}
	if id := p.Steps[0].Rules[0].ID; id == "" {
		t.Fatal("rules that stay must keep their id in update_with_rules")
	}
}

func TestRuleLevelReorderAndAddDelete(t *testing.T) {
	f := memnsx.New(testCluster)
	base := bigSection("big", 200, nil)
	converge(t, f, model([]ir.Section{base}, gB), Options{})
	// Move the last rule to the top, drop rule 10, add one in the middle.
	rules := slices.Clone(base.Rules)
	last := rules[len(rules)-1]
	rules = append([]ir.Rule{last}, rules[:len(rules)-1]...)
	rules = slices.Delete(rules, 11, 12)
	extra := rule("big/extra", ir.ActionDrop, ir.DirectionIn, gB, from(gref(gA)))
	rules = slices.Insert(rules, 100, extra)
	p := converge(t, f, model([]ir.Section{section("big", rules...)}, gA, gB), Options{})
	c := p.Counts()
	if c[OpReviseRule] != 1 || c[OpDeleteRule] != 1 || c[OpCreateRule] != 1 || c[OpUpdateSectionRules] != 0 {
		t.Fatalf("want one move, one delete, one create:\n%s", dump(p))
	}
}

func sectionsModel(keys ...string) *ir.Model {
	var secs []ir.Section
	for _, k := range keys {
		secs = append(secs, section(k, rule(k+"/r", ir.ActionDrop, ir.DirectionIn, gB, from(gref(gA)))))
	}
	return model(secs, gA, gB)
}

func TestReorderIsMinimal(t *testing.T) {
	for _, tc := range []struct {
		from, to []string
		moves    int
	}{
		{[]string{"D", "A", "B", "C"}, []string{"A", "B", "C", "D"}, 1},
		{[]string{"A", "B", "C", "D"}, []string{"D", "A", "B", "C"}, 1},
		{[]string{"A", "B", "C", "D"}, []string{"B", "A", "D", "C"}, 2},
		{[]string{"A", "B", "C", "D", "E"}, []string{"E", "D", "C", "B", "A"}, 4},
		{[]string{"A", "B", "C"}, []string{"A", "B", "C"}, 0},
	} {
		t.Run(strings.Join(tc.from, "")+"-"+strings.Join(tc.to, ""), func(t *testing.T) {
			f := memnsx.New(testCluster)
			converge(t, f, sectionsModel(tc.from...), Options{})
			p := converge(t, f, sectionsModel(tc.to...), Options{})
			if got := p.Counts()[OpReviseSection]; got != tc.moves || len(p.Steps)-p.Counts()[OpCreateSection]-p.Counts()[OpDeleteSection] != tc.moves {
				t.Fatalf("moves %d, want %d:\n%s", got, tc.moves, dump(p))
			}
		})
	}
}

func TestForeignIntruderStaysAndOursMoveAroundIt(t *testing.T) {
	f := memnsx.New(testCluster)
	top := f.AddForeignSection(0, "above")
	converge(t, f, sectionsModel("A", "B", "C"), Options{AnchorSectionID: top})
	// An administrator inserts a section between A and B.
	intruder := f.AddForeignSection(2, "intruder")
	bottom := f.AddForeignSection(len(f.Sections)-1, "below")
	p := converge(t, f, sectionsModel("A", "B", "C"), Options{AnchorSectionID: top})
	if !slices.Equal(ops(p), []Op{OpReviseSection}) || p.Steps[0].Key != "A" {
		t.Fatalf("want A moved below the intruder (B, C stay):\n%s", dump(p))
	}
	if got, want := f.SectionNames(), "above, intruder, microseg A, microseg B, microseg C, below, Default Layer3 Section"; got != want {
		t.Fatalf("DFW %s, want %s", got, want)
	}
	for _, id := range []string{top, intruder, bottom} {
		if f.Touched[id] {
			t.Fatalf("foreign section %s was written", id)
		}
	}
	// Model changes in every way around the foreign sections never touch them either.
	for _, keys := range [][]string{{"C", "A"}, {"A", "B", "C", "D"}, {"D"}, {}, {"B", "A"}} {
		p := converge(t, f, sectionsModel(keys...), Options{AnchorSectionID: top})
		for _, s := range p.Steps {
			for _, id := range []string{top, intruder, bottom} {
				if s.ID == id || s.SectionID == id || (s.Position != nil && s.Position.Anchor == id && id != top) {
					t.Fatalf("step names foreign section %s: %+v", id, s)
				}
			}
		}
	}
	for _, id := range []string{top, intruder, bottom} {
		if f.Touched[id] {
			t.Fatalf("foreign section %s was written", id)
		}
	}
}

func TestOwnedSectionAboveAnchorIsMovedBelow(t *testing.T) {
	f := memnsx.New(testCluster)
	anchor := f.AddForeignSection(0, "anchor")
	converge(t, f, sectionsModel("A", "B"), Options{AnchorSectionID: anchor})
	// Someone moves the anchor below our block.
	a := f.Sections[0]
	f.Sections = append([]*memnsx.Section{f.Sections[1], f.Sections[2], a}, f.Sections[3:]...)
	converge(t, f, sectionsModel("A", "B"), Options{AnchorSectionID: anchor})
	if got := f.SectionNames(); got != "anchor, microseg A, microseg B, Default Layer3 Section" {
		t.Fatalf("DFW %s", got)
	}
}

func TestOtherClustersObjectsIgnored(t *testing.T) {
	f := memnsx.New(testCluster)
	other := memnsx.New("cluster-b")
	mb := sectionsModel("A", "B")
	mb.ClusterID = "cluster-b"
	converge(t, other, mb, Options{})
	// Merge cluster-b's objects (same keys!) into f.
	f.Sections = append(other.Sections[:len(other.Sections)-1:len(other.Sections)-1], f.Sections...)
	for id, g := range other.Groups {
		f.Groups[id] = g
	}
	f.Next = 1000
	converge(t, f, sectionsModel("A", "B"), Options{})
	for id := range f.Touched {
		if strings.HasPrefix(id, "s-") && !strings.HasPrefix(id, "s-10") || strings.HasPrefix(id, "g-") && !strings.HasPrefix(id, "g-10") {
			t.Fatalf("cluster-b object %s was written", id)
		}
	}
	if got := f.SectionNames(); got != "microseg A, microseg B, microseg A, microseg B, Default Layer3 Section" {
		t.Fatalf("DFW %s", got)
	}
}

func TestDriftWithIntactHashIsRepaired(t *testing.T) {
	m := threeSections()
	for _, tc := range []struct {
		name string
		edit func(f *memnsx.NSX)
		want Op
	}{
		{"rule action", func(f *memnsx.NSX) { f.Sections[0].Rules[0].Action = "DROP" }, OpUpdateSectionRules},
		{"rule removed", func(f *memnsx.NSX) { f.Sections[2].Rules = f.Sections[2].Rules[:1] }, OpCreateRule},
		{"rule added by admin", func(f *memnsx.NSX) {
			f.Sections[1].Rules = append(f.Sections[1].Rules, nsxclient.FirewallRule{ID: "admin-1", Action: "ALLOW"})
		}, OpDeleteRule},
		{"section renamed", func(f *memnsx.NSX) { f.Sections[1].Section.DisplayName = "renamed" }, OpUpdateSection},
		{"group criteria", func(f *memnsx.NSX) {
			for _, g := range f.Groups {
				if g.MembershipCriteria[0].Tag == "b" {
					g.MembershipCriteria[0].Tag = "evil"
				}
			}
		}, OpUpdateGroup},
		{"group deleted", func(f *memnsx.NSX) {
			for id, g := range f.Groups {
				if g.MembershipCriteria[0].Tag == "c" {
					delete(f.Groups, id)
				}
			}
		}, OpCreateGroup},
		{"section deleted", func(f *memnsx.NSX) { f.Sections = f.Sections[1:] }, OpCreateSection},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := memnsx.New(testCluster)
			converge(t, f, m, Options{})
			tc.edit(f)
			p := converge(t, f, m, Options{})
			if p.Counts()[tc.want] == 0 {
				t.Fatalf("want a %s step:\n%s", tc.want, dump(p))
			}
		})
	}
}

func TestObsoleteDeletedAfterUse(t *testing.T) {
	f := memnsx.New(testCluster)
	converge(t, f, threeSections(), Options{})
	// c's allow section goes, and with it the only use of gC... except the isolation rule; drop
	// that too.
	m := model([]ir.Section{
		section("np-allow/b", rule("b/in/0", ir.ActionAllow, ir.DirectionIn, gB, from(gref(gA)), tcp("80"))),
		section("np-isolate/x", rule("b/iso", ir.ActionDrop, ir.DirectionIn, gB)),
	}, gA, gB)
	p := converge(t, f, m, Options{}) // the fake fails on deleting a group that is still referenced
	last := p.Steps[len(p.Steps)-1]
	if last.Op != OpDeleteGroup || last.GroupKind != ir.KindTagGroup {
		t.Fatalf("the group delete comes last:\n%s", dump(p))
	}
	// Changing a group's content is a new key: the new group is created first, the old deleted last.
	gA2 := tagGroup("app=a", "tier=web")
	m2 := model([]ir.Section{
		section("np-allow/b", rule("b/in/0", ir.ActionAllow, ir.DirectionIn, gB, from(gref(gA2)), tcp("80"))),
		section("np-isolate/x", rule("b/iso", ir.ActionDrop, ir.DirectionIn, gB)),
	}, gA2, gB)
	p = converge(t, f, m2, Options{})
	if p.Steps[0].Op != OpCreateGroup || p.Steps[len(p.Steps)-1].Op != OpDeleteGroup {
		t.Fatalf("create first, delete last:\n%s", dump(p))
	}
}

func TestNestedGroupOrdering(t *testing.T) {
	f := memnsx.New(testCluster)
	ips := ipSetGroup("192.168.0.0/24")
	inner := nestedGroup([]string{gA.Key, gB.Key})
	outer := nestedGroup([]string{inner.Key, ips.Key})
	m := model([]ir.Section{section("s", rule("s/r", ir.ActionDrop, ir.DirectionIn, gC, from(gref(outer))))}, gA, gB, gC, ips, inner, outer)
	p := converge(t, f, m, Options{})
	created := map[string]int{}
	for i, s := range p.Steps {
		if s.Op == OpCreateGroup {
			created[s.Key] = i
		}
	}
	if created[gA.Key] > created[inner.Key] || created[gB.Key] > created[inner.Key] || created[inner.Key] > created[outer.Key] || created[ips.Key] > created[outer.Key] {
		t.Fatalf("members must be created before nested groups:\n%s", dump(p))
	}
	// Removing everything deletes containers first (the fake refuses deleting a used group).
	p = converge(t, f, model(nil), Options{})
	deleted := map[string]int{}
	for i, s := range p.Steps {
		if s.Op == OpDeleteGroup {
			deleted[s.ID] = i
		}
	}
	if len(deleted) != 6 {
		t.Fatalf("want 6 group deletes:\n%s", dump(p))
	}
}

func TestDeterminismWithShuffledState(t *testing.T) {
	f := memnsx.New(testCluster)
	m := threeSections()
	converge(t, f, m, Options{})
	// A new model that changes groups, rules and order, against a state with extra noise.
	f.Groups["ext-1"] = &nsxclient.NSGroup{ManagedResource: nsxclient.ManagedResource{ID: "ext-1", DisplayName: "corp"}}
	m2 := model([]ir.Section{
		section("np-isolate/x", rule("b/iso", ir.ActionDrop, ir.DirectionIn, gB, from(ir.Ref{NSXGroup: "corp"}))),
		section("np-allow/c", rule("c/in/0", ir.ActionAllow, ir.DirectionIn, gC, from(gref(tagGroup("app=d"))), tcp("80"))),
	}, gB, gC, tagGroup("app=d"))
	opts := Options{Guard: naiveGuard}
	st := f.State()
	p1, err := Compute(m2, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(p1)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		s := f.State()
		rng.Shuffle(len(s.NSGroups), func(i, j int) { s.NSGroups[i], s.NSGroups[j] = s.NSGroups[j], s.NSGroups[i] })
		rng.Shuffle(len(s.ExternalGroups), func(i, j int) { s.ExternalGroups[i], s.ExternalGroups[j] = s.ExternalGroups[j], s.ExternalGroups[i] })
		rng.Shuffle(len(s.IPSets), func(i, j int) { s.IPSets[i], s.IPSets[j] = s.IPSets[j], s.IPSets[i] })
		p, err := Compute(m2, s, opts)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := json.Marshal(p); string(got) != string(want) {
			t.Fatalf("plan differs with shuffled state:\n%s\n%s", got, want)
		}
	}
	converge(t, f, m2, opts)
}

func TestExternalGroupReferences(t *testing.T) {
	f := memnsx.New(testCluster)
	corp := ir.Ref{NSXGroup: "corp-dns"}
	m := model([]ir.Section{section("s",
		rule("allow-corp", ir.ActionAllow, ir.DirectionOut, gA, to(corp), tcp("53")),
		rule("allow-mixed", ir.ActionAllow, ir.DirectionOut, gA, to(corp, ir.Ref{CIDR: "10.0.0.0/8"})),
		rule("deny-corp", ir.ActionDrop, ir.DirectionOut, gA, to(corp)),
	)}, gA)
	p := converge(t, f, m, Options{})
	if len(p.Problems) != 3 || p.Problems[0].Code != ProblemInvalidReference {
		t.Fatalf("want 3 InvalidReference problems, got %+v", p.Problems)
	}
	rules := f.State().Sections[0].Rules
	if len(rules) != 2 {
		t.Fatalf("the pure allow rule is left out (fail-closed): %+v", rules)
	}
	if len(rules[0].Destinations) != 1 || rules[0].Destinations[0].TargetID != "10.0.0.0/8" {
		t.Fatalf("mixed allow keeps only what exists: %+v", rules[0].Destinations)
	}
	if rules[1].Action != "DROP" || len(rules[1].Destinations) != 0 {
		t.Fatalf("the deny widens to any: %+v", rules[1])
	}
	// The group appears: the rules are realized exactly.
	f.Groups["corp-id"] = &nsxclient.NSGroup{ManagedResource: nsxclient.ManagedResource{ID: "corp-id", DisplayName: "corp-dns"}}
	p = converge(t, f, m, Options{})
	if len(p.Problems) != 0 {
		t.Fatalf("problems: %+v", p.Problems)
	}
	rules = f.State().Sections[0].Rules
	if len(rules) != 3 || rules[2].Destinations[0].TargetID != "corp-id" {
		t.Fatalf("rules: %+v", rules)
	}
	// An ambiguous name is a problem too.
	f.Groups["corp-id-2"] = &nsxclient.NSGroup{ManagedResource: nsxclient.ManagedResource{ID: "corp-id-2", DisplayName: "corp-dns"}}
	p = converge(t, f, m, Options{})
	if len(p.Problems) != 3 || !strings.Contains(p.Problems[0].Message, "ambiguous") {
		t.Fatalf("problems: %+v", p.Problems)
	}
}

func TestNestedGroupWithMissingExternalMember(t *testing.T) {
	f := memnsx.New(testCluster)
	n := nestedGroup([]string{gA.Key}, "legacy-servers")
	m := model([]ir.Section{section("s",
		rule("allow-n", ir.ActionAllow, ir.DirectionIn, gB, from(gref(n))),
		rule("deny-n", ir.ActionReject, ir.DirectionIn, gB, from(gref(n))),
	)}, gA, gB, n)
	p := converge(t, f, m, Options{})
	if len(p.Problems) != 2 {
		t.Fatalf("problems: %+v", p.Problems)
	}
	rules := f.State().Sections[0].Rules
	if len(rules) != 1 || rules[0].Action != "REJECT" || len(rules[0].Sources) != 0 {
		t.Fatalf("fail-closed: %+v", rules)
	}
}

func TestLongKeysAreDigested(t *testing.T) {
	f := memnsx.New(testCluster)
	long := strings.Repeat("k", 300)
	m := model([]ir.Section{section(long, rule(strings.Repeat("r", 2100), ir.ActionDrop, ir.DirectionIn, gB))}, gB)
	converge(t, f, m, Options{})
	s := f.State().Sections[0]
	key := ownership.TagValue(s.Section.Tags, ownership.TagKey)
	if !strings.HasPrefix(key, ownership.DigestPrefix) || !strings.Contains(s.Section.Description, long) {
		t.Fatalf("tag %q, description %q", key, s.Section.Description)
	}
	if len(s.Rules[0].Notes) > ownership.MaxNotes || len(s.Rules[0].RuleTag) > ownership.MaxRuleTag {
		t.Fatalf("notes %d, rule_tag %d characters", len(s.Rules[0].Notes), len(s.Rules[0].RuleTag))
	}
}

func TestDuplicateAndKeylessOwnedSectionsAreDeleted(t *testing.T) {
	f := memnsx.New(testCluster)
	converge(t, f, sectionsModel("A", "B"), Options{})
	dup := *f.Sections[0]
	dup.Section.ID = "dup"
	keyless := *f.Sections[1]
	keyless.Section.ID, keyless.Section.Tags = "keyless", []nsxclient.Tag{{Scope: ownership.TagCluster, Tag: testCluster}}
	f.Sections = slices.Insert(f.Sections, 2, &dup, &keyless)
	p := converge(t, f, sectionsModel("A", "B"), Options{})
	if c := p.Counts(); c[OpDeleteSection] != 2+len(naiveGuard(sectionsModel("A", "B")).Sections) {
		t.Fatalf("plan:\n%s", dump(p))
	}
}

func TestGuardOfSeveralSections(t *testing.T) {
	drop := func(_ int, r *ir.Rule) { r.Action = ir.ActionDrop }
	m := model([]ir.Section{bigSection("one", 800, drop), bigSection("two", 800, drop)}, gB)
	f := memnsx.New(testCluster)
	anchor := f.AddForeignSection(0, "anchor")
	denyingBlock(t, f, Options{AnchorSectionID: anchor})
	p := converge(t, f, m, Options{AnchorSectionID: anchor})
	var guard []Step
	for _, s := range p.Steps {
		if s.Guard && s.Op == OpCreateSection {
			guard = append(guard, s)
		}
	}
	if len(guard) != 2 || *guard[0].Position != *after(anchor) ||
		*guard[1].Position != *after(Placeholder(PlaceholderSection, guard[0].Key)) {
		t.Fatalf("guard sections chain below the anchor:\n%s", dump(p))
	}
	if first := p.Steps[len(guard)+1]; first.Op != OpCreateSection || first.Guard ||
		*first.Position != *after(Placeholder(PlaceholderSection, guard[1].Key)) {
		t.Fatalf("the block goes below the guard:\n%s", dump(p))
	}
}
