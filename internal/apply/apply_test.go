package apply_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/microseg/microseg/internal/apply"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxsync/manager"
	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/internal/plan"
	. "github.com/microseg/microseg/internal/plan/plantest"
	"github.com/microseg/microseg/nsxclient"
)

var (
	gA = TagGroup("app=a")
	gB = TagGroup("app=b")
	gC = TagGroup("app=c")
	gD = TagGroup("app=d")
)

// referenceModel is a small version of the design doc's scenario.
func referenceModel() *ir.Model {
	return Model([]ir.Section{
		Section("csp/protect-d", Rule("protect-d/in/0", ir.ActionAllow, ir.DirectionIn, gD, From(Ref(gC)), TCP("80")),
			Rule("protect-d/in/1", ir.ActionReject, ir.DirectionIn, gD)),
		Section("np-allow/y1", Rule("allow-b/in/0", ir.ActionAllow, ir.DirectionIn, gB, From(Ref(gA)), TCP("80"))),
		Section("np-allow/z1", Rule("allow-c/in/0", ir.ActionAllow, ir.DirectionIn, gC, From(Ref(gA), Ref(gB)), TCP("80"))),
		Section("np-isolate/y1", Rule("allow-b/isolate", ir.ActionDrop, ir.DirectionIn, gB)),
		Section("np-isolate/z1", Rule("allow-c/isolate", ir.ActionDrop, ir.DirectionIn, gC)),
	}, gA, gB, gC, gD)
}

func TestCreateThenResyncIsZeroWrites(t *testing.T) {
	e := newEnv(t)
	anchor := e.handMade("security-above", nsxclient.FirewallRule{Action: "ALLOW", Direction: "IN_OUT"}, nsxclient.Top())
	opts := manager.Config{Anchor: anchor.ID}
	m := referenceModel()
	res := e.sync(m, naiveGuard, opts)
	if res.Writes == 0 || res.Plan.Guarded {
		t.Fatalf("first sync (into an empty block: no guard): %+v", res.Applied)
	}
	before := e.sim.Stats()
	for range 3 {
		res = e.sync(m, nil, opts)
		if res.Writes != 0 || !res.Plan.Empty() {
			t.Fatalf("re-sync wrote: %+v", res)
		}
	}
	if after := e.sim.Stats(); after.Writes != before.Writes {
		t.Fatalf("simulator saw %d writes on re-sync", after.Writes-before.Writes)
	}
	// Reads: sections, rules of each of the 5 sections, groups, IP sets.
	if res.Reads != 8 {
		t.Fatalf("re-sync made %d reads, want 8", res.Reads)
	}
}

// snapshot is a section's GET body and its rules, as JSON.
func (e *env) snapshot(id string, dropPriority bool) string {
	e.t.Helper()
	s, err := e.client.GetSection(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	if dropPriority {
		s.Priority = 0 // a section's priority is its position: it changes when sections are added above
	}
	rules, err := e.client.ListRules(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := json.Marshal(struct {
		S nsxclient.FirewallSection
		R []nsxclient.FirewallRule
	}{*s, rules})
	return string(b)
}

func TestHandMadeSectionsAreNeverTouched(t *testing.T) {
	e := newEnv(t)
	above := e.handMade("security-above", nsxclient.FirewallRule{Action: "DROP", Direction: "IN_OUT", Notes: "microseg key=fake hash=x"}, nsxclient.Top())
	below := e.handMade("hand-made-below", nsxclient.FirewallRule{Action: "ALLOW", Direction: "IN"}, nsxclient.After(above.ID))
	// Another cluster's section, with microseg's tags but a different cluster value.
	other := e.handMade("other-cluster", nsxclient.FirewallRule{Action: "ALLOW"}, nsxclient.After(below.ID))
	otherSec, _ := e.client.GetSection(e.ctx, other.ID)
	otherSec.Tags = []nsxclient.Tag{{Scope: ownership.TagCluster, Tag: "cluster-b"}, {Scope: ownership.TagKey, Tag: "np-allow/y1"}}
	if _, err := e.client.UpdateSection(e.ctx, *otherSec); err != nil {
		t.Fatal(err)
	}
	opts := manager.Config{Anchor: above.ID}
	e.sync(referenceModel(), naiveGuard, opts)
	want := map[string]string{above.ID: e.snapshot(above.ID, false), below.ID: e.snapshot(below.ID, true), other.ID: e.snapshot(other.ID, true)}
	base := referenceModel()
	variants := []*ir.Model{
		Model([]ir.Section{base.Sections[4], base.Sections[0], base.Sections[2]}, base.Groups...),
		Model(nil),
		base,
		Model([]ir.Section{base.Sections[1], Section("np-allow/new", Rule("new/in", ir.ActionAllow, ir.DirectionIn, gA, From(CIDR("10.9.0.0/16"))))}, gA, gB),
		base,
	}
	for i := range 10 {
		m := variants[i%len(variants)]
		e.sync(m, naiveGuard, opts)
		e.requireConverged(m, manager.Config{Anchor: above.ID})
		for id, snap := range want {
			if got := e.snapshot(id, id != above.ID); got != snap {
				t.Fatalf("sync %d changed hand-made section %s:\n got %s\nwant %s", i, id, got, snap)
			}
		}
	}
	// The block sits between the anchor and the hand-made section below it.
	secs, _ := e.client.ListSections(e.ctx, nsxclient.ListSectionsOptions{})
	if secs[0].ID != above.ID || secs[len(secs)-3].ID != below.ID {
		t.Fatalf("order: %v", names(secs))
	}
}

func names(secs []nsxclient.FirewallSection) []string {
	var out []string
	for _, s := range secs {
		out = append(out, s.DisplayName)
	}
	return out
}

func TestDriftIsRepaired(t *testing.T) {
	m := referenceModel()
	for _, tc := range []struct {
		name  string
		drift func(e *env, st plan.State)
	}{
		{"rule edited", func(e *env, st plan.State) {
			s := ownedSections(st)[1]
			r := s.Rules[0]
			r.Action = "DROP" // hash in notes untouched
			if _, err := e.client.UpdateRule(e.ctx, s.Section.ID, r); err != nil {
				t.Fatal(err)
			}
		}},
		{"section deleted", func(e *env, st plan.State) {
			if err := e.client.DeleteSection(e.ctx, ownedSections(st)[2].Section.ID, true); err != nil {
				t.Fatal(err)
			}
		}},
		{"group deleted", func(e *env, st plan.State) {
			if err := e.client.DeleteNSGroup(e.ctx, st.NSGroups[0].ID, true); err != nil {
				t.Fatal(err)
			}
		}},
		{"group criteria edited", func(e *env, st plan.State) {
			g := st.NSGroups[1]
			g.MembershipCriteria[0].Tag = "evil"
			if _, err := e.client.UpdateNSGroup(e.ctx, g); err != nil {
				t.Fatal(err)
			}
		}},
		{"section moved to the top and renamed", func(e *env, st plan.State) {
			s := ownedSections(st)[3].Section
			s.DisplayName = "renamed"
			if _, err := e.client.ReviseSection(e.ctx, s, nsxclient.Top()); err != nil {
				t.Fatal(err)
			}
		}},
		{"rule added by hand", func(e *env, st plan.State) {
			s := ownedSections(st)[0].Section
			if _, err := e.client.CreateRuleAtLatestRevision(e.ctx, s.ID, nsxclient.FirewallRule{DisplayName: "sneaky", Action: "ALLOW"}, nsxclient.Top()); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.sync(m, naiveGuard, manager.Config{})
			st, err := apply.ReadState(e.ctx, e.client, apply.ReadOptions{ClusterID: Cluster})
			if err != nil {
				t.Fatal(err)
			}
			tc.drift(e, st)
			res := e.sync(m, naiveGuard, manager.Config{})
			if res.Plan.Empty() {
				t.Fatal("drift was not noticed")
			}
			e.requireConverged(m, manager.Config{})
		})
	}
}

func ownedSections(st plan.State) []plan.SectionState {
	var out []plan.SectionState
	for _, s := range st.Sections {
		if ownership.Owned(s.Section.Tags, Cluster) {
			out = append(out, s)
		}
	}
	return out
}

func TestConcurrentEditIsRetried(t *testing.T) {
	m := referenceModel()
	changed := referenceModel()
	r := changed.Sections[1].Rules[0]
	r.Services = []ir.Service{{Kind: ir.ServiceL4PortSet, L4Protocol: "TCP", DestinationPorts: []string{"8080"}}}
	changed.Sections[1].Rules[0] = Rehash(r)
	changed.Sections[1] = Section(changed.Sections[1].Key, changed.Sections[1].Rules...)
	for _, kind := range []string{nsxsim.KindSection, nsxsim.KindNSGroup} {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t)
			e.sync(m, naiveGuard, manager.Config{})
			st, _ := apply.ReadState(e.ctx, e.client, apply.ReadOptions{ClusterID: Cluster})
			target := changed
			id := ownedSections(st)[1].Section.ID
			if kind == nsxsim.KindNSGroup {
				// Drift a group so that the sync has a group update to make.
				g := st.NSGroups[0]
				g.DisplayName = "edited"
				if _, err := e.client.UpdateNSGroup(e.ctx, g); err != nil {
					t.Fatal(err)
				}
				id, target = g.ID, m
			}
			// The administrator edits the object right after microseg read it, twice.
			e.sim.InjectConcurrentEdit(nsxsim.ConcurrentEdit{Kind: kind, ID: id, AfterReads: 1, Count: 2})
			res := e.sync(target, naiveGuard, manager.Config{})
			if res.Applied.StaleRetries == 0 {
				t.Fatalf("no stale revision was retried: %+v", res.Applied)
			}
			e.requireConverged(target, manager.Config{})
		})
	}
}

func TestRuleLevelChangeAgainstTheSimulator(t *testing.T) {
	e := newEnv(t)
	var rules []ir.Rule
	for i := range 300 {
		rules = append(rules, Rule(fmt.Sprintf("big/r%d", i), ir.ActionAllow, ir.DirectionIn, gB, From(CIDR(fmt.Sprintf("10.1.%d.%d", i/250, i%250+1))), TCP("80")))
	}
	m := Model([]ir.Section{Section("big", rules...)}, gB)
	e.sync(m, naiveGuard, manager.Config{}) // 300 rules: created empty, then create_multiple
	if got := e.sim.Stats().Endpoints["POST /api/v1/firewall/sections/{section-id}/rules?action=create_multiple"].Calls; got != 1 {
		t.Fatalf("create_multiple calls: %d", got)
	}
	rules[150].Action = ir.ActionDrop
	rules[150] = Rehash(rules[150])
	m2 := Model([]ir.Section{Section("big", rules...)}, gB)
	// Concurrent edits of the rule make the PUT stale once.
	st, _ := apply.ReadState(e.ctx, e.client, apply.ReadOptions{ClusterID: Cluster})
	e.sim.InjectConcurrentEdit(nsxsim.ConcurrentEdit{Kind: nsxsim.KindRule, ID: ownedSections(st)[0].Rules[150].ID})
	before := e.sim.Stats()
	res := e.sync(m2, naiveGuard, manager.Config{})
	// One rule write; the section's hash tag covers its attributes only, so it is not written.
	if c := res.Plan.Counts(); c[plan.OpUpdateRule] != 1 || len(res.Plan.Steps) != 1 {
		t.Fatalf("plan: %+v", c)
	}
	after := e.sim.Stats()
	if after.Endpoints["POST /api/v1/firewall/sections/{section-id}?action=update_with_rules"].Calls != before.Endpoints["POST /api/v1/firewall/sections/{section-id}?action=update_with_rules"].Calls {
		t.Fatal("a one-rule change must not rewrite the 300-rule section")
	}
	if res.Applied.StaleRetries != 1 {
		t.Fatalf("stale retries %d", res.Applied.StaleRetries)
	}
	e.requireConverged(m2, manager.Config{})
}

func TestUnavailableBurstThenConverges(t *testing.T) {
	e := newEnv(t)
	m := referenceModel()
	// A block that denies something, so that the change is guarded.
	e.sync(Model([]ir.Section{Section("old", Rule("old/deny", ir.ActionDrop, ir.DirectionIn, gD))}, gD), naiveGuard, manager.Config{})
	e.sim.InjectFault(nsxsim.FaultRule{Kind: nsxsim.FaultUnavailable, Method: "POST", PathPrefix: "/api/v1/firewall/", Skip: 2, Count: 10})
	_, err := e.trySync(m, naiveGuard, manager.Config{})
	var stepErr *apply.StepError
	if !errors.As(err, &stepErr) || stepErr.Index == 0 {
		t.Fatalf("want a failure mid-apply, got %v", err)
	}
	st, _ := apply.ReadState(e.ctx, e.client, apply.ReadOptions{ClusterID: Cluster})
	if !hasGuard(st) {
		t.Fatal("the interrupted apply should have left its guard in place")
	}
	e.sim.ClearFaults()
	e.sync(m, naiveGuard, manager.Config{})
	e.requireConverged(m, manager.Config{})
	if st, _ := apply.ReadState(e.ctx, e.client, apply.ReadOptions{ClusterID: Cluster}); hasGuard(st) {
		t.Fatal("the next sync must remove the old guard")
	}
	// And a change after that, too.
	m2 := Model(m.Sections[1:3], gA, gB, gC)
	e.sim.InjectFault(nsxsim.FaultRule{Kind: nsxsim.FaultUnavailable, Method: "DELETE", Count: 10})
	if _, err := e.trySync(m2, naiveGuard, manager.Config{}); err == nil {
		t.Fatal("want an error while deletes fail")
	}
	e.sim.ClearFaults()
	e.sync(m2, naiveGuard, manager.Config{})
	e.requireConverged(m2, manager.Config{})
}

func TestObjectThatLostItsTagIsNotWritten(t *testing.T) {
	e := newEnv(t)
	m := referenceModel()
	e.sync(m, naiveGuard, manager.Config{})
	st, _ := apply.ReadState(e.ctx, e.client, apply.ReadOptions{ClusterID: Cluster})
	// Drift the section so that there is something to write, and plan.
	sec := ownedSections(st)[0]
	r := sec.Rules[0]
	r.Action = "DROP"
	if _, err := e.client.UpdateRule(e.ctx, sec.Section.ID, r); err != nil {
		t.Fatal(err)
	}
	p := e.plan(m, nil, manager.Config{})
	if p.Empty() {
		t.Fatal("the drift was not planned")
	}
	// Between plan and apply, someone takes the section over.
	s, _ := e.client.GetSection(e.ctx, sec.Section.ID)
	s.Tags = []nsxclient.Tag{{Scope: "owner", Tag: "someone-else"}}
	if _, err := e.client.UpdateSection(e.ctx, *s); err != nil {
		t.Fatal(err)
	}
	_, err := apply.Apply(e.ctx, e.client, p, apply.Options{})
	if !errors.Is(err, apply.ErrNotOwned) {
		t.Fatalf("want apply.ErrNotOwned, got %v", err)
	}
	got, _ := e.client.ListRules(e.ctx, sec.Section.ID)
	if got[0].Action != "DROP" {
		t.Fatal("the section was modified after it lost the tag")
	}
	// The next sync leaves it alone and recreates microseg's section.
	e.sync(m, naiveGuard, manager.Config{})
	e.requireConverged(m, manager.Config{})
	if got, _ := e.client.ListRules(e.ctx, sec.Section.ID); got[0].Action != "DROP" {
		t.Fatal("a section without the tag was modified")
	}
}

func TestGroupInUseByForeignRuleIsKeptWithWarning(t *testing.T) {
	e := newEnv(t)
	m := referenceModel()
	e.sync(m, naiveGuard, manager.Config{})
	st, _ := apply.ReadState(e.ctx, e.client, apply.ReadOptions{ClusterID: Cluster})
	var gdID string
	for _, g := range st.NSGroups {
		if g.MembershipCriteria[0].Tag == "d" {
			gdID = g.ID
		}
	}
	e.handMade("uses-microseg-group", nsxclient.FirewallRule{Action: "ALLOW",
		Sources: []nsxclient.ResourceReference{{TargetType: "NSGroup", TargetID: gdID}}}, nsxclient.Bottom())
	m2 := Model(m.Sections[1:], gA, gB, gC)
	res := e.sync(m2, naiveGuard, manager.Config{})
	if len(res.Applied.Warnings) != 1 {
		t.Fatalf("warnings: %v", res.Applied.Warnings)
	}
	if _, err := e.client.GetNSGroup(e.ctx, gdID); err != nil {
		t.Fatalf("the group in use was deleted: %v", err)
	}
}

func TestTheGuardIsBuiltOnlyWhenNeeded(t *testing.T) {
	e := newEnv(t)
	m := referenceModel()
	calls := 0
	guard := func(m *ir.Model) *plan.Guard { calls++; return naiveGuard(m) }
	if res := e.sync(m, guard, manager.Config{}); calls != 0 || res.Plan.Guarded {
		t.Fatalf("the first sync into an empty block needs no guard (guard calls %d)", calls)
	}
	// A change of one section's rules is one atomic write: no guard.
	m2 := referenceModel()
	m2.Sections[1] = Section(m2.Sections[1].Key, Rule("allow-b/in/0", ir.ActionAllow, ir.DirectionIn, gB, From(Ref(gA), Ref(gC)), TCP("80")))
	res := e.sync(m2, guard, manager.Config{})
	if calls != 0 || res.Plan.Guarded || res.Writes != 1 {
		t.Fatalf("guard calls %d, plan %v, writes %d", calls, res.Plan.Counts(), res.Writes)
	}
	reversed := referenceModel()
	slices.Reverse(reversed.Sections)
	if _, err := e.trySync(reversed, func(*ir.Model) *plan.Guard { return nil }, manager.Config{}); err == nil {
		t.Fatal("a guard function returning nothing must fail the sync")
	}
	// Over a block that denies, a change of several writes calls the guard function once.
	if res := e.sync(reversed, guard, manager.Config{}); calls != 1 || !res.Plan.Guarded {
		t.Fatalf("guard calls %d, plan %v", calls, res.Plan.Counts())
	}
	// Without a guard function, the planner builds the production guard itself.
	res = e.sync(m2, nil, manager.Config{})
	if !res.Plan.Guarded || !res.Converged {
		t.Fatalf("reversed without a guard function: guarded %v, converged %v", res.Plan.Guarded, res.Converged)
	}
}

func TestApplyRefusesAPlanForAnotherCluster(t *testing.T) {
	e := newEnv(t)
	p := &plan.Plan{ClusterID: "cluster-b", Steps: []plan.Step{{Op: plan.OpDeleteSection, ID: "x"}}}
	if _, err := apply.Apply(e.ctx, e.client, p, apply.Options{ClusterID: Cluster}); err == nil {
		t.Fatal("want an error")
	}
}

func hasGuard(st plan.State) bool {
	for _, s := range st.Sections {
		if tagOf(s.Section.Tags, ownership.TagRole) == ownership.RoleGuard {
			return true
		}
	}
	return false
}
