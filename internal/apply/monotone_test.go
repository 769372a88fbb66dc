package apply_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/plan"
	. "github.com/microseg/microseg/internal/plan/plantest"
)

// TestMonotonePlansKeepTheInvariant draws random changes to the rules of a packed section (the
// shape of a namespace's change among others' rules: rules added, removed, flipped between ALLOW
// and DROP, widened or narrowed, moved to other ports) and checks the invariant after every write with the simulator's
// dataplane. The planner orders such changes without a guard where it can (plan/monotone.go); the
// test fails if it never does, so that it cannot pass by guarding everything.
func TestMonotonePlansKeepTheInvariant(t *testing.T) {
	if testing.Short() {
		t.Skip("random transitions through the dataplane")
	}
	unguarded := 0
	for seed := range uint64(8) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { unguarded += monotoneTransitions(t, seed) })
	}
	if unguarded == 0 {
		t.Fatal("no change was planned rule by rule without a guard: the test proves nothing")
	}
}

// packedRule is one rule of the random section.
type packedRule struct {
	action  ir.Action
	dir     ir.Direction
	applied int   // index into packedGroups
	peers   []int // indices into packedPeers
	port    string
}

var (
	packedGroups = []ir.Group{gA, gB, gC, gD}
	packedPeers  = []ir.Ref{Ref(gA), Ref(gB), Ref(gC), Ref(gD), CIDR("10.0.1.1/32"), CIDR("10.0.0.0/16")}
)

func drawPackedRule(rng *rand.Rand) packedRule {
	s := packedRule{action: []ir.Action{ir.ActionAllow, ir.ActionDrop}[rng.IntN(2)], dir: []ir.Direction{ir.DirectionIn, ir.DirectionOut}[rng.IntN(2)],
		applied: rng.IntN(len(packedGroups)), peers: rng.Perm(len(packedPeers))[:rng.IntN(3)]}
	if rng.IntN(2) == 0 {
		s.port = []string{"80", "443"}[rng.IntN(2)]
	}
	return s
}

// packedModel is one section: 60 rules that match no pod (so that the section is big enough for
// rule-level writes), then the drawn rules by key.
func packedModel(rules map[int]packedRule) *ir.Model {
	var out []ir.Rule
	for i := range 60 {
		out = append(out, Rule(fmt.Sprintf("pack/filler-%d", i), ir.ActionAllow, ir.DirectionIn, gA, From(CIDR(fmt.Sprintf("172.16.%d.0/24", i))), TCP("80")))
	}
	for _, k := range slices.Sorted(maps.Keys(rules)) {
		s := rules[k]
		var refs []ir.Ref
		for _, p := range s.peers {
			refs = append(refs, packedPeers[p])
		}
		opts := []func(*ir.Rule){From(refs...)}
		if s.dir == ir.DirectionOut {
			opts = []func(*ir.Rule){To(refs...)}
		}
		if s.port != "" {
			opts = append(opts, TCP(s.port))
		}
		out = append(out, Rule(fmt.Sprintf("pack/r%02d", k), s.action, s.dir, packedGroups[s.applied], opts...))
	}
	return Model([]ir.Section{Section("np/", out...)}, packedGroups...)
}

// monotoneTransitions runs 10 random changes and returns how many were planned as several rule
// writes without a guard.
func monotoneTransitions(t *testing.T, seed uint64) int {
	rng := rand.New(rand.NewPCG(seed, 1))
	current := map[int]packedRule{}
	for k := range 6 {
		current[k] = drawPackedRule(rng)
	}
	models := []*ir.Model{packedModel(current)}
	for len(models) < 11 {
		next := maps.Clone(current)
		for range 1 + rng.IntN(3) {
			k := rng.IntN(10)
			s, ok := next[k]
			switch op := rng.IntN(8); {
			case !ok:
				next[k] = drawPackedRule(rng)
			case op < 2:
				delete(next, k)
			case op < 4: // another port
				s.port = []string{"", "80", "443"}[rng.IntN(3)]
				next[k] = s
			case op < 6: // one peer more or less
				if len(s.peers) > 0 && rng.IntN(2) == 0 {
					s.peers = s.peers[:len(s.peers)-1]
				} else {
					s.peers = append(slices.Clone(s.peers), rng.IntN(len(packedPeers)))
				}
				next[k] = s
			default:
				s.action = map[ir.Action]ir.Action{ir.ActionAllow: ir.ActionDrop, ir.ActionDrop: ir.ActionAllow}[s.action]
				next[k] = s
			}
		}
		if reflect.DeepEqual(next, current) {
			continue // no change: nothing to check
		}
		current = next
		models = append(models, packedModel(current))
	}
	violations, plans := transitionsWith(t, models, false, productionGuard(ir.Limits{}))
	if len(violations) > 0 {
		t.Fatalf("%d violations:\n%s", len(violations), strings.Join(violations, "\n"))
	}
	unguarded := 0
	for _, c := range plans[1:] {
		if writes := c[plan.OpCreateRule] + c[plan.OpDeleteRule] + c[plan.OpUpdateRule]; writes > 1 && c[plan.OpCreateSection] == 0 {
			unguarded++
		}
	}
	t.Logf("%d of %d changes took several rule writes without a guard", unguarded, len(plans)-1)
	return unguarded
}

// TestAllowUpdatesOfBothDirectionsAreNotOneWrite: c→b is allowed at b's ingress and denied at
// c's egress, then the other way round, by two ALLOW updates (neither wider nor narrower). Each
// direction alone could change in any order, but the two together could not: with c's egress
// updated first and b's ingress not yet, c→b passes both sides although the old and the new
// configuration deny it. The planner splits one of them.
func TestAllowUpdatesOfBothDirectionsAreNotOneWrite(t *testing.T) {
	section := func(out, in ir.Rule) *ir.Model {
		var rules []ir.Rule
		for i := range 60 {
			rules = append(rules, Rule(fmt.Sprintf("pack/filler-%d", i), ir.ActionAllow, ir.DirectionIn, gA, From(CIDR(fmt.Sprintf("172.16.%d.0/24", i))), TCP("80")))
		}
		rules = append(rules, out, Rule("pack/c-iso", ir.ActionDrop, ir.DirectionOut, gC), in, Rule("pack/b-iso", ir.ActionDrop, ir.DirectionIn, gB))
		return Model([]ir.Section{Section("np/", rules...)}, gA, gB, gC, gD)
	}
	before := section(Rule("pack/c-out", ir.ActionAllow, ir.DirectionOut, gC, To(Ref(gA))), Rule("pack/b-in", ir.ActionAllow, ir.DirectionIn, gB, From(Ref(gC))))
	after := section(Rule("pack/c-out", ir.ActionAllow, ir.DirectionOut, gC, To(Ref(gB))), Rule("pack/b-in", ir.ActionAllow, ir.DirectionIn, gB, From(Ref(gD))))
	v, plans := transitionsWith(t, []*ir.Model{before, after}, false, productionGuard(ir.Limits{}))
	if len(v) > 0 {
		t.Fatalf("%d violations:\n%s", len(v), strings.Join(v, "\n"))
	}
	if c := plans[1]; c[plan.OpCreateSection] != 0 || c[plan.OpUpdateRule] != 3 {
		t.Fatalf("want one update split in two and no guard: %v", c)
	}
}
