package apply_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/microseg/microseg/internal/apply"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsim/dataplane"
	"github.com/microseg/microseg/internal/nsxsync/manager"
	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/internal/plan"
	. "github.com/microseg/microseg/internal/plan/plantest"
	"github.com/microseg/microseg/nsxclient"
)

// The safety invariant: while a change from an old to a new model is applied, no intermediate DFW
// state allows a flow that both the old and the new model deny. These tests check it after every
// single successful NSX write, over every pod pair and test port, with the simulator's dataplane.

// world is the fixed part of every scenario: four pods and hand-made sections above (the anchor)
// and below microseg's block.
type world struct {
	anchor string
}

func setUpWorld(e *env) world {
	e.addPod("a1", "a", "10.0.1.1")
	e.addPod("b1", "b", "10.0.2.1")
	e.addPod("c1", "c", "10.0.3.1")
	e.addPod("d1", "d", "10.0.4.1")
	above := e.handMade("hand-made-above", nsxclient.FirewallRule{Action: "DROP", Direction: "IN_OUT",
		Sources:      []nsxclient.ResourceReference{{TargetType: "IPv4Address", TargetID: "10.0.4.1"}},
		Destinations: []nsxclient.ResourceReference{{TargetType: "IPv4Address", TargetID: "10.0.1.1"}},
		Services:     []nsxclient.FirewallService{nsxclient.L4PortSet("TCP", "443")}}, nsxclient.Top())
	// Below the block: only allows (the guard's exactness assumes that what microseg's block
	// leaves undecided is allowed further down; see the plan package documentation).
	e.handMade("hand-made-below", nsxclient.FirewallRule{Action: "ALLOW", Direction: "IN_OUT",
		Services: []nsxclient.FirewallService{nsxclient.L4PortSet("UDP", "53")}}, nsxclient.Bottom())
	return world{anchor: above.ID}
}

func (w world) opts() manager.Config { return manager.Config{Anchor: w.anchor} }

// verdicts applies m alone to a fresh simulator of the same world and traces every flow.
func verdicts(t *testing.T, m *ir.Model) (map[flow]dataplane.Result, []flow) {
	t.Helper()
	e := newEnv(t)
	w := setUpWorld(e)
	e.sync(m, naiveGuard, w.opts())
	out := map[flow]dataplane.Result{}
	for _, f := range e.flows() {
		out[f] = e.trace(f)
	}
	return out, e.flows()
}

func denies(a string) bool { return a == "DROP" || a == "REJECT" }

// exactGuard builds the guard of a model from its verdicts: at each side, a DROP for every test
// flow whose first match in microseg's block (at that side) is a DROP or REJECT — exactly the
// deny projection of the new block, restricted to the flows the test traces.
func exactGuard(pods []pod, v map[flow]dataplane.Result, order []flow) guardFunc {
	return func(*ir.Model) *plan.Guard {
		podGroups := make([]ir.Group, len(pods))
		for i, p := range pods {
			podGroups[i] = TagGroup("pod=" + p.name)
		}
		type cell struct {
			dir       ir.Direction
			pod       int
			proto     string
			port      int
			peerCIDRs []string
		}
		cells := map[string]*cell{}
		var keys []string
		add := func(dir ir.Direction, podIdx int, f flow, peer string) {
			k := fmt.Sprintf("%s/%s/%s%d", dir, pods[podIdx].name, f.Proto, f.Port)
			c, ok := cells[k]
			if !ok {
				c = &cell{dir: dir, pod: podIdx, proto: f.Proto, port: f.Port}
				cells[k] = c
				keys = append(keys, k)
			}
			c.peerCIDRs = append(c.peerCIDRs, peer+"/32")
		}
		microseg := func(s dataplane.SideVerdict) bool {
			return s.Evaluated && denies(s.Action) && strings.HasPrefix(s.SectionName, "microseg ")
		}
		for _, f := range order {
			r := v[f]
			if microseg(r.Source) {
				add(ir.DirectionOut, f.Src, f, pods[f.Dst].ip)
			}
			if microseg(r.Destination) {
				add(ir.DirectionIn, f.Dst, f, pods[f.Src].ip)
			}
		}
		var rules []ir.Rule
		for _, k := range keys {
			c := cells[k]
			var peers []ir.Ref
			for _, p := range c.peerCIDRs {
				peers = append(peers, CIDR(p))
			}
			opts := []func(*ir.Rule){To(peers...)}
			if c.dir == ir.DirectionIn {
				opts = []func(*ir.Rule){From(peers...)}
			}
			if c.proto == "TCP" {
				opts = append(opts, TCP(fmt.Sprint(c.port)))
			} else {
				opts = append(opts, UDP(fmt.Sprint(c.port)))
			}
			rules = append(rules, Rule("guard/"+k, ir.ActionDrop, c.dir, podGroups[c.pod], opts...))
		}
		g := &plan.Guard{Groups: podGroups}
		if len(rules) > 0 {
			g.Sections = []ir.Section{Section("guard/exact", rules...)}
		}
		return g
	}
}

// transitions applies each model in turn, starting from nothing, and reports every intermediate
// state (after any successful write) that allows a flow both the old and the new model deny.
// withoutGuard strips the guard's steps from the plans (the test hook that shows the guard
// matters).
func transitions(t *testing.T, models []*ir.Model, withoutGuard bool) (violations []string, plans []map[plan.Op]int) {
	t.Helper()
	return transitionsWith(t, models, withoutGuard, exactGuard)
}

// guardMaker builds the guard function of one transition from the new model's verdicts.
type guardMaker func(pods []pod, next map[flow]dataplane.Result, order []flow) guardFunc

// productionGuard is the guard the operator uses: plan.GuardFor under the given limits.
func productionGuard(limits ir.Limits) guardMaker {
	return func([]pod, map[flow]dataplane.Result, []flow) guardFunc {
		return func(m *ir.Model) *plan.Guard {
			g, _ := plan.GuardFor(m, limits)
			return g
		}
	}
}

func transitionsWith(t *testing.T, models []*ir.Model, withoutGuard bool, mkGuard guardMaker, seePlan ...func(*plan.Plan)) (violations []string, plans []map[plan.Op]int) {
	t.Helper()
	all := append([]*ir.Model{Model(nil)}, models...)
	v := make([]map[flow]dataplane.Result, len(all))
	var order []flow
	for i, m := range all {
		v[i], order = verdicts(t, m)
	}
	e := newEnv(t)
	w := setUpWorld(e)
	for i := 1; i < len(all); i++ {
		old, next := v[i-1], v[i]
		writes := 0
		e.setAfterWrite(func() {
			writes++
			for _, f := range order {
				if r := e.trace(f); r.Allowed && !old[f].Allowed && !next[f].Allowed {
					violations = append(violations, fmt.Sprintf("model %d→%d, after write %d: %s allowed (old and new deny it)", i-1, i, writes, e.describe(f)))
				}
			}
		})
		guard := mkGuard(e.pods, next, order)
		if withoutGuard {
			applyWithoutGuard(t, e, all[i], guard, w)
		} else {
			p := e.sync(all[i], guard, w.opts()).Plan
			plans = append(plans, p.Counts())
			for _, see := range seePlan {
				see(p)
			}
		}
		e.setAfterWrite(nil)
		if writes == 0 {
			t.Fatalf("model %d→%d: no write was checked", i-1, i)
		}
		t.Logf("model %d→%d: invariant checked after each of %d writes", i-1, i, writes)
		for _, f := range order {
			if got := e.trace(f); got.Allowed != next[f].Allowed {
				t.Fatalf("model %d: %s allowed=%v, want %v", i, e.describe(f), got.Allowed, next[f].Allowed)
			}
		}
		e.requireConverged(all[i], w.opts())
	}
	return violations, plans
}

// applyWithoutGuard plans with the guard, then drops the guard's section steps before applying.
func applyWithoutGuard(t *testing.T, e *env, m *ir.Model, guard guardFunc, w world) {
	t.Helper()
	p := e.plan(m, guard, w.opts())
	// Without the guard, what would have gone below it goes where the guard would have gone.
	var guardKeys []string
	var guardPos *plan.Position
	for _, s := range p.Steps {
		if s.Guard && s.Op == plan.OpCreateSection {
			guardKeys = append(guardKeys, plan.Placeholder(plan.PlaceholderSection, s.Key))
			if guardPos == nil {
				guardPos = s.Position
			}
		}
	}
	p.Steps = slices.DeleteFunc(p.Steps, func(s plan.Step) bool { return s.Guard })
	for i := range p.Steps {
		if pos := p.Steps[i].Position; pos != nil && slices.Contains(guardKeys, pos.Anchor) {
			p.Steps[i].Position = guardPos
		}
	}
	if _, err := apply.Apply(e.ctx, e.client, p, apply.Options{}); err != nil {
		t.Fatal(err)
	}
}

// Scenario models over the world's pods.
var (
	// m1: b rejects c at its ingress; c's egress allows everything; d accepts only a on 80.
	m1 = Model([]ir.Section{
		Section("np-ingress/b", Rule("b/in/c", ir.ActionDrop, ir.DirectionIn, gB, From(Ref(gC))),
			Rule("b/in/a", ir.ActionAllow, ir.DirectionIn, gB, From(Ref(gA)), TCP("80"))),
		Section("np-egress/c", Rule("c/out/any", ir.ActionAllow, ir.DirectionOut, gC)),
		Section("csp/protect-d", Rule("d/in/a", ir.ActionAllow, ir.DirectionIn, gD, From(Ref(gA)), TCP("80")),
			Rule("d/in/rest", ir.ActionReject, ir.DirectionIn, gD)),
	}, gA, gB, gC, gD)
	// m2: the denial of c→b moves from b's ingress (first section) to c's egress (second section).
	m2 = Model([]ir.Section{
		Section("np-ingress/b", Rule("b/in/c", ir.ActionAllow, ir.DirectionIn, gB, From(Ref(gC))),
			Rule("b/in/a", ir.ActionAllow, ir.DirectionIn, gB, From(Ref(gA)), TCP("80"))),
		Section("np-egress/c", Rule("c/out/b", ir.ActionDrop, ir.DirectionOut, gC, To(Ref(gB))),
			Rule("c/out/any", ir.ActionAllow, ir.DirectionOut, gC)),
		Section("csp/protect-d", Rule("d/in/a", ir.ActionAllow, ir.DirectionIn, gD, From(Ref(gA)), TCP("80")),
			Rule("d/in/rest", ir.ActionReject, ir.DirectionIn, gD)),
	}, gA, gB, gC, gD)
	// m3: sections reordered, d's Reject becomes an Allow for b and the denial moves back to b's
	// ingress.
	m3 = Model([]ir.Section{
		Section("csp/protect-d", Rule("d/in/b", ir.ActionAllow, ir.DirectionIn, gD, From(Ref(gB))),
			Rule("d/in/a", ir.ActionAllow, ir.DirectionIn, gD, From(Ref(gA)), TCP("80")),
			Rule("d/in/rest", ir.ActionReject, ir.DirectionIn, gD)),
		Section("np-egress/c", Rule("c/out/any", ir.ActionAllow, ir.DirectionOut, gC)),
		Section("np-ingress/b", Rule("b/in/c", ir.ActionDrop, ir.DirectionIn, gB, From(Ref(gC)))),
		Section("np-egress/a", Rule("a/out/d", ir.ActionDrop, ir.DirectionOut, gA, To(Ref(gD)), TCP("443"))),
	}, gA, gB, gC, gD)
)

func TestInvariantHoldsAcrossChanges(t *testing.T) {
	if v, _ := transitions(t, []*ir.Model{m1, m2, m3, m1, Model(nil)}, false); len(v) > 0 {
		t.Fatalf("%d violations:\n%s", len(v), strings.Join(v, "\n"))
	}
}

// bigIngressB is b's ingress section padded with 60 allow rules for addresses no pod has, so
// that changing two of its rules is planned rule by rule.
func bigIngressB(rules ...ir.Rule) ir.Section {
	var all []ir.Rule
	for i := range 60 {
		all = append(all, Rule(fmt.Sprintf("b/in/filler-%d", i), ir.ActionAllow, ir.DirectionIn, gB, From(CIDR(fmt.Sprintf("172.16.%d.0/24", i))), TCP("80")))
	}
	return Section("np-ingress/b", append(all, rules...)...)
}

func TestInvariantHoldsRuleByRule(t *testing.T) {
	before := Model([]ir.Section{
		bigIngressB(Rule("b/in/c", ir.ActionDrop, ir.DirectionIn, gB, From(Ref(gC))),
			Rule("b/in/a", ir.ActionAllow, ir.DirectionIn, gB, From(Ref(gA)), TCP("80"))),
		Section("np-egress/c", Rule("c/out/any", ir.ActionAllow, ir.DirectionOut, gC)),
	}, gA, gB, gC)
	after := Model([]ir.Section{
		bigIngressB(Rule("b/in/d", ir.ActionReject, ir.DirectionIn, gB, From(Ref(gD))),
			Rule("b/in/c", ir.ActionAllow, ir.DirectionIn, gB, From(Ref(gC))),
			Rule("b/in/a", ir.ActionAllow, ir.DirectionIn, gB, From(Ref(gA)), TCP("80"))),
		Section("np-egress/c", Rule("c/out/b", ir.ActionDrop, ir.DirectionOut, gC, To(Ref(gB))),
			Rule("c/out/any", ir.ActionAllow, ir.DirectionOut, gC)),
	}, gA, gB, gC, gD)
	v, plans := transitions(t, []*ir.Model{before, after, before}, false)
	if len(v) > 0 {
		t.Fatalf("%d violations:\n%s", len(v), strings.Join(v, "\n"))
	}
	// One mixed write (b/in/c turns from DROP to ALLOW), the rest narrowing or widening: rule by
	// rule in monotone order, no guard (plan/monotone.go).
	for _, c := range plans[1:] {
		if c[plan.OpCreateRule]+c[plan.OpUpdateRule]+c[plan.OpDeleteRule] < 2 || c[plan.OpCreateSection] != 0 {
			t.Fatalf("want rule-level calls and no guard: %v", c)
		}
	}
	// The order is what makes it safe: the mixed write first exposes c→b.
	if v := applyMixedFirst(t, before, after); len(v) == 0 {
		t.Fatal("with the mixed write first, this change should expose c→b")
	}
}

// applyMixedFirst realizes before, plans after, moves the plan's first rule update (the mixed
// write here) to the front and applies it, checking the invariant after every write.
func applyMixedFirst(t *testing.T, before, after *ir.Model) []string {
	t.Helper()
	old, order := verdicts(t, before)
	next, _ := verdicts(t, after)
	e := newEnv(t)
	w := setUpWorld(e)
	e.sync(before, nil, w.opts())
	p := e.plan(after, nil, w.opts())
	if p.Guarded {
		t.Fatalf("the plan is guarded: %v", p.Counts())
	}
	i := slices.IndexFunc(p.Steps, func(s plan.Step) bool { return s.Op == plan.OpUpdateRule })
	if i < 0 {
		t.Fatalf("no rule update in the plan: %v", p.Counts())
	}
	mixed := p.Steps[i]
	p.Steps = append([]plan.Step{mixed}, slices.Delete(p.Steps, i, i+1)...)
	var violations []string
	e.setAfterWrite(func() {
		for _, f := range order {
			if r := e.trace(f); r.Allowed && !old[f].Allowed && !next[f].Allowed {
				violations = append(violations, e.describe(f))
			}
		}
	})
	defer e.setAfterWrite(nil)
	if _, err := apply.Apply(e.ctx, e.client, p, apply.Options{}); err != nil {
		t.Fatal(err)
	}
	return violations
}

func TestInvariantNeedsTheGuard(t *testing.T) {
	// Two denials swap sides: c→b is denied at b's ingress, then at c's egress; a→d at d's
	// ingress, then at a's egress. Each is one rule update that changes direction, which cannot
	// be split into a narrowing and a widening write, and whichever goes first lets the other
	// flow through: old and new both deny it, the state in between denies it nowhere.
	before := Model([]ir.Section{
		Section("np-x", Rule("x/p", ir.ActionDrop, ir.DirectionIn, gB, From(Ref(gC)))),
		Section("np-y", Rule("y/q", ir.ActionDrop, ir.DirectionIn, gD, From(Ref(gA)))),
	}, gA, gB, gC, gD)
	after := Model([]ir.Section{
		Section("np-x", Rule("x/p", ir.ActionDrop, ir.DirectionOut, gA, To(Ref(gD)))),
		Section("np-y", Rule("y/q", ir.ActionDrop, ir.DirectionOut, gC, To(Ref(gB)))),
	}, gA, gB, gC, gD)
	if v, plans := transitions(t, []*ir.Model{before, after}, false); len(v) > 0 || plans[1][plan.OpCreateSection] == 0 {
		t.Fatalf("with the guard: %d violations, plan %v", len(v), plans[1])
	}
	v, _ := transitions(t, []*ir.Model{before, after}, true)
	if len(v) == 0 {
		t.Fatal("the change without its guard should have let c→b through in an intermediate state")
	}
	for _, s := range v {
		if !strings.Contains(s, "c1→b1") {
			t.Fatalf("unexpected violation %s", s)
		}
	}
	t.Logf("without the guard, as expected: %s", v[0])
}

// The operator's own guards: a copy of the whole new block in one section when it fits (exact),
// the deny-only over-approximation when it does not (forced here with a tiny section limit).
func TestInvariantHoldsWithTheProductionGuards(t *testing.T) {
	models := []*ir.Model{m1, m2, m3, m1, Model(nil)}
	for name, limits := range map[string]ir.Limits{"copy": {}, "deny-only": {MaxRulesPerSection: 2}} {
		t.Run(name, func(t *testing.T) {
			if _, kind := plan.GuardFor(m3, limits); (name == "copy") != (kind == plan.GuardCopy) {
				t.Fatalf("GuardFor chose %s", kind)
			}
			v, plans := transitionsWith(t, models, false, productionGuard(limits))
			if len(v) > 0 {
				t.Fatalf("%d violations:\n%s", len(v), strings.Join(v, "\n"))
			}
			guarded := 0
			for _, c := range plans {
				if c[plan.OpCreateSection] > 0 && c[plan.OpDeleteSection] > 0 {
					guarded++
				}
			}
			if guarded == 0 {
				t.Fatal("no transition was guarded; the test proves nothing")
			}
		})
	}
}

// TestInvariantHoldsWhileARepairedGroupIsStale: a group of microseg's was edited in NSX (here b's
// group made to select a1) while a policy change is pending that needs a guard. The guard goes in
// before the group is repaired, so while it is in place it sees the group's edited content: a
// copy of the new block (ALLOW rules included) would let a1 reach d1 through "allow b → d",
// which the edited state denies (deny-a) and the new model denies. The planner uses the
// deny-only guard for such a plan.
func TestInvariantHoldsWhileARepairedGroupIsStale(t *testing.T) {
	ingressD := Section("np-ingress/d", Rule("d/in/b", ir.ActionAllow, ir.DirectionIn, gD, From(Ref(gB))),
		Rule("d/in/rest", ir.ActionDrop, ir.DirectionIn, gD))
	before := Model([]ir.Section{Section("np-deny-a", Rule("d/in/not-a", ir.ActionDrop, ir.DirectionIn, gD, From(Ref(gA)))), ingressD},
		gA, gB, gD)
	after := Model([]ir.Section{ingressD, Section("np-egress/c", Rule("c/out/any", ir.ActionAllow, ir.DirectionOut, gC))}, gB, gC, gD)
	next, order := verdicts(t, after)

	e := newEnv(t)
	w := setUpWorld(e)
	e.sync(before, nil, w.opts())
	// The administrator edits b's group to select app=a.
	groups, err := e.client.ListNSGroups(e.ctx, nsxclient.ListNSGroupsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	edited := false
	for _, g := range groups {
		if ownership.TagValue(g.Tags, ownership.TagKey) == gB.Key {
			g.MembershipCriteria[0].Tag = "a"
			if _, err := e.client.UpdateNSGroup(e.ctx, g); err != nil {
				t.Fatal(err)
			}
			edited = true
		}
	}
	if !edited {
		t.Fatal("b's group is not in NSX")
	}
	old := map[flow]dataplane.Result{}
	for _, f := range order {
		old[f] = e.trace(f)
	}
	var violations []string
	writes := 0
	e.setAfterWrite(func() {
		writes++
		for _, f := range order {
			if r := e.trace(f); r.Allowed && !old[f].Allowed && !next[f].Allowed {
				violations = append(violations, fmt.Sprintf("after write %d: %s allowed (the edited state and the new model deny it)", writes, e.describe(f)))
			}
		}
	})
	res := e.sync(after, nil, w.opts())
	e.setAfterWrite(nil)
	if !res.Plan.Guarded || writes < 3 {
		t.Fatalf("the change should be guarded and take several writes: %v", res.Plan.Counts())
	}
	if len(violations) > 0 {
		t.Fatalf("%d violations:\n%s", len(violations), strings.Join(violations, "\n"))
	}
	e.requireConverged(after, w.opts())
}

// plannerGuard leaves the guard to the planner (manager.Config.Guard nil), as in production: its
// copy or deny-only guard, or none when it proves none is needed, or the address guard.
func plannerGuard([]pod, map[flow]dataplane.Result, []flow) guardFunc { return nil }

// TestInvariantHoldsFromABlockThatDeniesNothing: a block of allows only cannot be why the old
// configuration denies a flow, so a change from it takes no guard, however many writes it needs.
func TestInvariantHoldsFromABlockThatDeniesNothing(t *testing.T) {
	allows := Model([]ir.Section{
		Section("np-ingress/b", Rule("b/in/a", ir.ActionAllow, ir.DirectionIn, gB, From(Ref(gA)), TCP("80"))),
		Section("np-egress/c", Rule("c/out/any", ir.ActionAllow, ir.DirectionOut, gC)),
	}, gA, gB, gC)
	v, plans := transitionsWith(t, []*ir.Model{allows, m2, m3}, false, plannerGuard)
	if len(v) > 0 {
		t.Fatalf("%d violations:\n%s", len(v), strings.Join(v, "\n"))
	}
	if c := plans[1]; c[plan.OpDeleteSection] != 0 || c[plan.OpCreateSection]+c[plan.OpUpdateSectionRules]+c[plan.OpCreateRule] < 2 {
		t.Fatalf("allows → m2 takes several writes and no guard: %v", c)
	}
	if c := plans[2]; c[plan.OpDeleteSection] == 0 {
		t.Fatalf("m2 → m3 starts from a block that denies: it needs its guard: %v", c)
	}
}

// ipSetKeyed is an IPSet group with a fixed key, so that its content can change under the key
// (as the compiler's IP sets do when pods come and go).
func ipSetKeyed(key string, ips ...string) ir.Group {
	g := ir.Group{Key: key, Kind: ir.KindIPSet, Family: ir.FamilyIPv4, IPs: ips, DisplayName: "microseg " + key}
	g.Hash = Hash(g)
	return g
}

// TestInvariantHoldsWhileIPSetsChange: c1's address joins two IPSets. Rewritten one at a time
// without a guard, the state in between (c1 in s1 only) lets c1 reach d1 through "allow s1",
// although the old state (c1 in neither: "deny the rest") and the new one (c1 in s2: "deny s2")
// deny it. The planner guards the change with the address guard — DROP everything from and to c1
// while the IPSets are rewritten — instead of the model's denies.
func TestInvariantHoldsWhileIPSetsChange(t *testing.T) {
	// Ten denies of addresses no pod has make a guard over the model's denies dearer than the
	// address guard, which the planner then prefers.
	var denies []ir.Rule
	for i := range 10 {
		denies = append(denies, Rule(fmt.Sprintf("a/in/%d", i), ir.ActionDrop, ir.DirectionIn, gA, From(CIDR(fmt.Sprintf("172.16.%d.0/24", i)))))
	}
	mk := func(s1, s2 ir.Group) *ir.Model {
		return Model([]ir.Section{Section("np-ingress/d",
			Rule("d/in/s2", ir.ActionDrop, ir.DirectionIn, gD, From(Ref(s2))),
			Rule("d/in/s1", ir.ActionAllow, ir.DirectionIn, gD, From(Ref(s1))),
			Rule("d/in/rest", ir.ActionDrop, ir.DirectionIn, gD)), Section("np-ingress/a", denies...)}, gA, gD, s1, s2)
	}
	before := mk(ipSetKeyed("ips4-a", "10.9.9.1"), ipSetKeyed("ips4-b", "10.9.9.2"))
	after := mk(ipSetKeyed("ips4-a", "10.9.9.1", "10.0.3.1"), ipSetKeyed("ips4-b", "10.9.9.2", "10.0.3.1"))
	var guardPlans []*plan.Plan
	v, _ := transitionsWith(t, []*ir.Model{before, after, before}, false, plannerGuard, func(p *plan.Plan) { guardPlans = append(guardPlans, p) })
	if len(v) > 0 {
		t.Fatalf("%d violations:\n%s", len(v), strings.Join(v, "\n"))
	}
	for _, p := range guardPlans[1:] {
		if c := p.Counts(); c[plan.OpUpdateGroup] != 2 || c[plan.OpCreateSection] != 1 || c[plan.OpDeleteSection] != 1 || len(c) != 3 {
			t.Fatalf("want the two IPSet updates inside one guard section: %v", c)
		}
		if g := p.Steps[0]; !g.Guard || len(g.Rules) != 4 || g.Rules[0].Sources[0].TargetID != "10.0.3.1" {
			t.Fatalf("want the address guard (4 rules over c1's address), got %+v", g)
		}
	}
	if v, _ := transitionsWith(t, []*ir.Model{before, after}, true, plannerGuard); len(v) == 0 {
		t.Fatal("without the guard, this change should let c1 reach d1")
	}
}
