package policy_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/nsxsync/policy"
	. "github.com/microseg/microseg/internal/plan/plantest"
	"github.com/microseg/microseg/nsxclient"
)

// The safety invariant, for Policy writes: while a change from an old to a new model is applied,
// no intermediate DFW state allows a flow that both the old and the new configuration deny. These
// tests check it after every single successful NSX write, over every pod pair and test port, with
// the simulator's dataplane, on random pairs of models, with other users' policies above, between
// and below microseg's (denies included, which the Manager backend's proof has to assume away),
// tiny call sizes so that changes take many calls, and groups edited behind microseg's back.

// foreignPolicies are other users' policies: an Environment policy above microseg's, one between
// microseg's Security band and the Application category (it denies c→d on TCP/80), and an
// Application policy between the developer and the Baseline bands (it denies a→b UDP/53).
func addForeignPolicies(e *env) {
	e.t.Helper()
	p := e.client.Policy()
	group := func(id, app string) string {
		if err := p.PatchGroup(e.ctx, "default", nsxclient.PolicyGroup{PolicyResource: nsxclient.PolicyResource{ID: id},
			Expression: []nsxclient.PolicyExpression{nsxclient.TagEquals(nsxclient.MemberSegmentPort, "app", app)}}); err != nil {
			e.t.Fatal(err)
		}
		return nsxclient.GroupPath("default", id)
	}
	ga, gb, gc, gd := group("team-a", "a"), group("team-b", "b"), group("team-c", "c"), group("team-d", "d")
	rule := func(id, action, dir string, scope, src, dst string, entry nsxclient.ServiceEntry) nsxclient.PolicyRule {
		return nsxclient.PolicyRule{PolicyResource: nsxclient.PolicyResource{ID: id}, Action: action, Direction: dir,
			SourceGroups: []string{src}, DestinationGroups: []string{dst}, Scope: []string{scope},
			Services: []string{nsxclient.AnyPath}, ServiceEntries: []nsxclient.ServiceEntry{entry}, SequenceNumber: 1}
	}
	for _, sp := range []nsxclient.SecurityPolicy{
		{PolicyResource: nsxclient.PolicyResource{ID: "zone-top"}, Category: nsxclient.CategoryEnvironment, SequenceNumber: 50,
			Rules: []nsxclient.PolicyRule{rule("deny-b-a-443", "DROP", "IN", ga, gb, ga, nsxclient.L4PortSetEntry("TCP", "443"))}},
		{PolicyResource: nsxclient.PolicyResource{ID: "zone-mid"}, Category: nsxclient.CategoryEnvironment, SequenceNumber: 250000,
			Rules: []nsxclient.PolicyRule{rule("deny-c-d-80", "DROP", "OUT", gc, gc, gd, nsxclient.L4PortSetEntry("TCP", "80"))}},
		{PolicyResource: nsxclient.PolicyResource{ID: "app-mid"}, Category: nsxclient.CategoryApplication, SequenceNumber: 399999,
			Rules: []nsxclient.PolicyRule{rule("deny-a-b-53", "REJECT", "IN", gb, ga, gb, nsxclient.L4PortSetEntry("UDP", "53"))}},
	} {
		if err := p.PatchSecurityPolicy(e.ctx, "default", sp); err != nil {
			e.t.Fatal(err)
		}
	}
}

// randomModel draws a model over the tag groups app=a..d, sharing section and rule keys with
// other draws so that transitions update objects as well as create and delete them.
func randomModel(rng *rand.Rand) *ir.Model {
	tags := []ir.Group{TagGroup("app=a"), TagGroup("app=b"), TagGroup("app=c"), TagGroup("app=d")}
	groups := append([]ir.Group(nil), tags...)
	pick := func() ir.Group { return tags[rng.IntN(len(tags))] }
	peer := func() []ir.Ref {
		switch rng.IntN(5) {
		case 0:
			return nil
		case 1:
			return []ir.Ref{CIDR(fmt.Sprintf("10.0.%d.1", 1+rng.IntN(4)))}
		case 2:
			ips := IPSetGroup(fmt.Sprintf("10.0.%d.1", 1+rng.IntN(4)), "10.0.9.9")
			groups = append(groups, ips)
			return []ir.Ref{Ref(ips)}
		case 3:
			x, y := pick(), pick()
			if x.Key == y.Key {
				return []ir.Ref{Ref(x)}
			}
			n := NestedGroup([]string{min(x.Key, y.Key), max(x.Key, y.Key)})
			groups = append(groups, n)
			return []ir.Ref{Ref(n)}
		}
		return []ir.Ref{Ref(pick())}
	}
	services := [][]func(*ir.Rule){{}, {TCP("80")}, {TCP("443")}, {UDP("53")}, {TCP("80", "443")}}
	rule := func(key string, actions []ir.Action) ir.Rule {
		dir := []ir.Direction{ir.DirectionIn, ir.DirectionOut}[rng.IntN(2)]
		opts := append([]func(*ir.Rule){}, services[rng.IntN(len(services))]...)
		if dir == ir.DirectionIn {
			opts = append(opts, From(peer()...))
		} else {
			opts = append(opts, To(peer()...))
		}
		r := Rule(key, actions[rng.IntN(len(actions))], dir, pick(), opts...)
		if rng.IntN(10) == 0 {
			r.Disabled = true
			r = Rehash(r)
		}
		return r
	}
	all := []ir.Action{ir.ActionAllow, ir.ActionDrop, ir.ActionReject}
	var sections []ir.Section
	section := func(key string, tier ir.Tier, actions []ir.Action) {
		n := rng.IntN(4)
		var rules []ir.Rule
		for i := range n {
			rules = append(rules, rule(fmt.Sprintf("%s/r%d", key, (i+rng.IntN(2))*2), actions))
		}
		if n == 0 || hasDup(rules) {
			return
		}
		s := Section(key, rules...)
		s.Tier = tier
		s.Hash = Hash(s)
		sections = append(sections, s)
	}
	for _, k := range []string{"csp/s1", "csp/s2"} {
		if rng.IntN(3) > 0 {
			section(k, ir.TierSecurity, all)
		}
	}
	for _, k := range []string{"np-allow/x", "np-allow/y"} {
		if rng.IntN(3) > 0 {
			section(k, ir.TierDeveloper, []ir.Action{ir.ActionAllow})
		}
	}
	if rng.IntN(3) > 0 {
		section("np-isolate/x", ir.TierDeveloper, []ir.Action{ir.ActionDrop})
	}
	if rng.IntN(2) > 0 {
		section("csp/base", ir.TierBaseline, all)
	}
	return Model(sections, groups...)
}

func hasDup(rules []ir.Rule) bool {
	seen := map[string]bool{}
	for _, r := range rules {
		if seen[r.Key] {
			return true
		}
		seen[r.Key] = true
	}
	return false
}

// verdictsOf applies m alone (with the same pods and other users' policies) to a fresh simulator
// and traces every flow.
func verdictsOf(t *testing.T, m *ir.Model) map[flow]bool {
	t.Helper()
	e := newEnv(t, nsxsim.Options{})
	e.addPods(fourPods()...)
	addForeignPolicies(e)
	e.sync(e.backend(policy.Config{}), m, nsxsync.ReadFull)
	return e.verdicts()
}

func TestInvariantHoldsAfterEveryWrite(t *testing.T) {
	seeds := 200
	switch {
	case testing.Short():
		seeds = 30
	case raceEnabled:
		seeds = 120
	}
	guarded, multi, drifted := 0, 0, 0
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 11))
		oldM, newM := randomModel(rng), randomModel(rng)
		limit := []int{2, 3, 5, 8, 5000}[rng.IntN(5)]
		drift := rng.IntN(3) == 0
		t.Run(fmt.Sprintf("seed=%d/limit=%d/drift=%v", seed, limit, drift), func(t *testing.T) {
			e := newEnv(t, nsxsim.Options{})
			e.addPods(fourPods()...)
			addForeignPolicies(e)
			e.sync(e.backend(policy.Config{}), oldM, nsxsync.ReadFull)
			if drift && editSomeGroup(e) {
				drifted++
			}
			before := e.verdicts()
			after := verdictsOf(t, newM)
			writes := 0
			e.setAfterWrite(func(r *http.Request) {
				writes++
				for _, f := range e.flows() {
					if before[f] || after[f] {
						continue
					}
					if e.trace(f).Allowed {
						t.Errorf("after write %d (%s %s): %s is allowed, though the old and the new configuration deny it", writes, r.Method, r.URL.Path, e.describe(f))
					}
				}
			})
			b := e.backend(policy.Config{MaxObjectsPerCall: limit, MaxRulesPerPolicy: 3})
			res := e.sync(b, newM, nsxsync.ReadFull)
			e.setAfterWrite(nil)
			if !res.Converged {
				t.Fatalf("not converged after the change: %+v", res.Summary)
			}
			if res.Summary.Guarded {
				guarded++
			}
			if res.Summary.Steps > 1 {
				multi++
			}
			for f, allowed := range e.verdicts() {
				if allowed != after[f] {
					t.Errorf("after the change %s allowed=%v; the new configuration alone gives %v", e.describe(f), allowed, after[f])
				}
			}
			if again := e.sync(b, newM, nsxsync.ReadIncremental); again.Writes != 0 {
				t.Errorf("a second sync wrote %d times", again.Writes)
			}
		})
	}
	t.Logf("%d changes: %d took several calls, %d of them guarded; %d with a group edited in NSX first", seeds, multi, guarded, drifted)
	if multi == 0 || guarded == 0 || drifted == 0 {
		t.Fatalf("the draws exercised too little: %d multi-call, %d guarded, %d drifted", multi, guarded, drifted)
	}
}

// editSomeGroup changes the expression of one of microseg's tag groups in NSX, as an
// administrator might; false when the model has none.
func editSomeGroup(e *env) bool {
	e.t.Helper()
	groups, err := e.client.Policy().ListGroups(e.ctx, "default", nsxclient.ListGroupsOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, g := range groups {
		if len(g.Tags) == 0 || len(g.Expression) != 1 || g.Expression[0].ResourceType != nsxclient.ExprCondition ||
			g.Expression[0].Value == "app|d" {
			continue
		}
		g.Expression = []nsxclient.PolicyExpression{nsxclient.TagEquals(nsxclient.MemberSegmentPort, "app", "d")}
		g.Revision = nil
		if err := e.client.Policy().PatchGroup(e.ctx, "default", g); err != nil {
			e.t.Fatal(err)
		}
		return true
	}
	return false
}

// TestGuardHoldsTheOldDenies is the case that makes the guard carry the old configuration's
// denies too: the old configuration denies a→b UDP/53 with its own Security-tier rule, above a
// developer allow for it; the new one lets other users' Application policy (between the
// developer and the Baseline bands) deny it. Changing the Security policy first, two objects per
// call, would leave the old allow exposed for a moment.
func TestGuardHoldsTheOldDenies(t *testing.T) {
	a, b, c := TagGroup("app=a"), TagGroup("app=b"), TagGroup("app=c")
	sec := func(rules ...ir.Rule) ir.Section {
		s := Section("csp/s1", rules...)
		s.Tier = ir.TierSecurity
		s.Hash = Hash(s)
		return s
	}
	oldM := Model([]ir.Section{
		sec(Rule("s1/r0", ir.ActionDrop, ir.DirectionIn, b, From(Ref(a)), UDP("53"))),
		Section("np-allow/x", Rule("x/r0", ir.ActionAllow, ir.DirectionIn, b, From(Ref(a)), UDP("53"))),
	}, a, b)
	newM := Model([]ir.Section{sec(Rule("s1/r0", ir.ActionDrop, ir.DirectionIn, c, From(Ref(a)), TCP("443")))}, a, b, c)
	e := newEnv(t, nsxsim.Options{})
	e.addPods(fourPods()...)
	addForeignPolicies(e)
	e.sync(e.backend(policy.Config{}), oldM, nsxsync.ReadFull)
	ab := flow{Src: 0, Dst: 1, Proto: "UDP", Port: 53}
	if e.trace(ab).Allowed {
		t.Fatal("the old configuration allows a1→b1 UDP/53")
	}
	writes := 0
	e.setAfterWrite(func(*http.Request) {
		writes++
		if e.trace(ab).Allowed {
			t.Errorf("after write %d a1→b1 UDP/53 is allowed; the old configuration denies it with its own rule, the new one with another user's", writes)
		}
	})
	res := e.sync(e.backend(policy.Config{MaxObjectsPerCall: 2}), newM, nsxsync.ReadFull)
	if !res.Summary.Guarded || res.Summary.Steps < 4 {
		t.Fatalf("the change took %d calls, guarded %v; want several under a guard", res.Summary.Steps, res.Summary.Guarded)
	}
	if e.trace(ab).Allowed {
		t.Fatal("the new configuration allows a1→b1 UDP/53")
	}
}
