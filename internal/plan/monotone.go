package plan

import (
	"slices"
	"time"

	"github.com/microseg/microseg/nsxclient"
)

// Monotone ordering: several rule writes without a guard.
//
// At one side of a flow (OUT at the source's port, IN at the destination's), the DFW's verdict
// is that of the first matching rule. Whatever the rules around it:
//
//   - creating an ALLOW rule, deleting a DROP/REJECT rule, widening an ALLOW or narrowing a
//     DROP/REJECT in place only turns denials into allows at each side ("widening" writes);
//   - creating a DROP/REJECT, deleting an ALLOW, narrowing an ALLOW or widening a DROP/REJECT only
//     turns allows into denials ("narrowing" writes);
//   - anything else (an update that neither widens nor narrows, a section rewrite) is "mixed".
//
// (A rule widens when its new match contains the old one: same action and direction, and each of
// ip_protocol, applied_tos, sources, destinations and services the same or wider — a superset of
// entries, or "any". A disabled rule matches nothing.)
//
// Order the writes narrowing first, then at most one mixed write, then widening. Up to the mixed
// write every state allows, at each side, a subset of what the old configuration allows (each
// narrowing write only removes); from the mixed write on, every later write widens towards the
// new configuration, so every state allows, at each side, a subset of what the new one allows.
// A flow passes iff both sides allow it, so every intermediate state allows only flows the old
// configuration allows or only flows the new one allows: none that both deny. That is the guard's
// invariant (docs/architecture.md, "The guard") without a guard, for plans whose evaluation
// changes are single-rule writes in sections that stay where they are, plus at most one mixed
// write: the usual shape of a change to one namespace's NetworkPolicies, whose rules share a
// section with other namespaces'.
//
// Creates are then placed against the rules present at that moment (the nearest desired rule
// before it, else after it), so that every section ends in the desired order whatever the order
// of the writes.

// writeKind classifies one write by its effect on the DFW's verdicts.
type writeKind int

const (
	writeNeutral writeKind = iota // changes no verdict (a disabled rule, an attribute)
	writeNarrowing
	writeWidening
	writeMixed
)

// monotonePlan is the choice, per changed section, between an atomic rewrite and rule-level
// writes, under which the plan's evaluation changes are ordered monotonically.
type monotonePlan struct {
	modes []changeMode
	cost  time.Duration
}

// changeMode is how one changed section is written in a monotone plan.
type changeMode struct {
	atomic bool // one rewrite: the plan's one mixed write
	// keep is how many of the change's splittable mixed updates stay single writes (0, or 1
	// when that one is the plan's mixed write); the others are split in two.
	keep int
	// run: the change's mixed updates are the plan's mixed write together (allowRun).
	run bool
}

// planMonotone returns the cheapest monotone choice for the plan, or nil when its evaluation
// changes do not fit: only rule-level or atomic changes of existing sections that stay in place,
// no group content repair, no section with rules created, moved or deleted, and at most one mixed
// write once every mixed rule update that can be split (splitUpdate) is.
func (p *planner) planMonotone() *monotonePlan {
	if p.gp.contentUpdates > 0 {
		return nil
	}
	for _, o := range p.obsolete {
		if len(o.rules) > 0 {
			return nil
		}
	}
	limits := p.opts.Limits.WithDefaults()
	split := p.cost.ruleWrite() // the extra write of a split update
	m := &monotonePlan{modes: make([]changeMode, len(p.changes))}
	// Per change: the cheapest way without a mixed write (zero) if there is one, and the
	// cheapest way that spends the plan's one mixed write (one).
	type option struct {
		ok   bool
		cost time.Duration
		mode changeMode
	}
	zero := make([]option, len(p.changes))
	one := make([]option, len(p.changes))
	var changed []int
	for i := range p.changes {
		c := &p.changes[i]
		if c.current == nil {
			if len(c.desired.rules) > 0 {
				return nil
			}
			continue
		}
		if c.moved && len(c.current.rules) > 0 {
			return nil
		}
		if !c.rulesDiff {
			continue
		}
		changed = append(changed, i)
		mixed, unsplittable, creates := 0, 0, 0
		atomicOnly := false // a move, or no room for creates before deletes
		var mixedSteps []*Step
		for j := range c.ruleSteps {
			s := &c.ruleSteps[j]
			switch c.classify(s) {
			case writeMixed:
				mixed++
				mixedSteps = append(mixedSteps, s)
				if _, _, _, ok := splitUpdate(c.currentRule(s.RuleID), s, limits, p.x.refExists); !ok {
					unsplittable++
				}
			case -1:
				atomicOnly = true // a move: never part of a monotone order
			}
			if s.Op == OpCreateRule {
				creates++
			}
		}
		if len(c.current.rules)+creates > limits.MaxRulesPerSection {
			atomicOnly = true // creates may run before deletes: the section must hold both
		}
		one[i] = option{true, c.atomicCost, changeMode{atomic: true}}
		if atomicOnly {
			continue
		}
		consider := func(cost time.Duration, mode changeMode) {
			if cost < one[i].cost {
				one[i] = option{true, cost, mode}
			}
		}
		if c.allowRun(mixedSteps) {
			consider(c.ruleCost, changeMode{run: true})
		}
		splittable := mixed - unsplittable
		switch unsplittable {
		case 0:
			zero[i] = option{true, c.ruleCost + time.Duration(splittable)*split, changeMode{}}
			if mixed > 0 {
				consider(c.ruleCost+time.Duration(mixed-1)*split, changeMode{keep: 1})
			}
		case 1:
			consider(c.ruleCost+time.Duration(splittable)*split, changeMode{})
		}
	}
	forced := -1 // the change that has no way without a mixed write
	for _, i := range changed {
		if !zero[i].ok {
			if forced >= 0 {
				return nil
			}
			forced = i
		}
	}
	for _, i := range changed {
		if i == forced {
			m.modes[i], m.cost = one[i].mode, m.cost+one[i].cost
			continue
		}
		m.modes[i], m.cost = zero[i].mode, m.cost+zero[i].cost
	}
	if forced < 0 {
		// The mixed write is free to spend: where it saves the most.
		best, saving := -1, time.Duration(0)
		for _, i := range changed {
			if d := zero[i].cost - one[i].cost; d > saving {
				best, saving = i, d
			}
		}
		if best >= 0 {
			m.modes[best], m.cost = one[best].mode, m.cost-saving
		}
	}
	return m
}

// allowRun reports whether the mixed updates can together be the plan's one mixed write: ALLOW
// rules that stay ALLOW, all of one direction (IN or OUT). At that side, take any state with some
// of them updated and a flow whose first match there is one of them, at its version v: every rule
// before it that is not one of them is the same in the old and the new configuration and does not
// match; those that are match only as ALLOWs. So the configuration whose version v is (old or
// new) also allows the flow at that side, by that rule or an earlier ALLOW. Every state in the
// middle thus allows at that side only what the old or the new configuration allows, and the
// other side does not change meanwhile: the argument above holds with these writes together in
// place of one mixed write.
func (c *sectionChange) allowRun(mixed []*Step) bool {
	if len(mixed) < 2 {
		return false
	}
	dir := ""
	for _, s := range mixed {
		cur := c.currentRule(s.RuleID)
		if s.Op != OpUpdateRule || verdictOf(cur) != "allow" || verdictOf(s.Rule) != "allow" {
			return false
		}
		d := orDefault(cur.Direction, nsxclient.DirectionInOut)
		if d == nsxclient.DirectionInOut || d != orDefault(s.Rule.Direction, nsxclient.DirectionInOut) || (dir != "" && d != dir) {
			return false
		}
		dir = d
	}
	return true
}

// classify says what a rule step of this change does to the verdicts (-1 for a move).
func (c *sectionChange) classify(s *Step) writeKind {
	switch s.Op {
	case OpCreateRule:
		return createKind(s.Rule)
	case OpDeleteRule:
		return deleteKind(c.currentRule(s.RuleID))
	case OpUpdateRule:
		return updateKind(c.currentRule(s.RuleID), s.Rule)
	}
	return -1
}

func (c *sectionChange) currentRule(id string) *nsxclient.FirewallRule {
	for i := range c.currentRules {
		if c.currentRules[i].rule.ID == id {
			return &c.currentRules[i].rule
		}
	}
	return nil
}

// monotoneSteps emits the section changes of a monotone plan: creates and moves of sections
// without rules first, then every evaluation change narrowing first, the mixed write, widening
// last (split updates contributing one write to each side; creates placed against the rules
// present at their turn), then attribute updates.
func (p *planner) monotoneSteps(positions []*Position) []Step {
	limits := p.opts.Limits.WithDefaults()
	var pre, narrowing, mixed, widening, post []Step
	put := func(k writeKind, s Step) {
		switch k {
		case writeNarrowing:
			narrowing = append(narrowing, s)
		case writeMixed:
			mixed = append(mixed, s)
		default:
			widening = append(widening, s)
		}
	}
	for i := range p.changes {
		c := &p.changes[i]
		keep := p.monotone.modes[i].keep
		for _, s := range c.steps(positions[i]) {
			switch s.Op {
			case OpCreateRule, OpDeleteRule, OpUpdateRule:
				k := c.classify(&s)
				if k == writeMixed && !p.monotone.modes[i].run {
					if first, firstKind, secondKind, ok := splitUpdate(c.currentRule(s.RuleID), &s, limits, p.x.refExists); ok && keep == 0 {
						put(firstKind, first)
						put(secondKind, s)
						continue
					} else if ok {
						keep--
					}
				}
				put(k, s)
			case OpUpdateSectionRules:
				mixed = append(mixed, s)
			case OpUpdateSection:
				post = append(post, s)
			default:
				pre = append(pre, s)
			}
		}
	}
	eval := slices.Concat(narrowing, mixed, widening)
	p.placeCreates(eval)
	return slices.Concat(pre, eval, post)
}

// placeCreates sets the position of every rule create in steps (in execution order): after the
// nearest rule before it in the desired order that is present by then, else before the nearest
// one after it, else at the top.
func (p *planner) placeCreates(steps []Step) {
	type sectionRules struct {
		order   []string          // desired rule keys
		index   map[string]int    // key → desired index
		id      map[string]string // key → id of the current rule it matched
		present []bool
	}
	bySection := map[string]*sectionRules{}
	for i := range p.changes {
		c := &p.changes[i]
		if c.current == nil || c.atomic {
			continue
		}
		sr := &sectionRules{index: map[string]int{}, id: map[string]string{}, present: make([]bool, len(c.desired.rules))}
		matched, _ := matchRules(c.desired.rules, c.currentRules)
		for d, r := range c.desired.rules {
			sr.order = append(sr.order, r.encKey)
			sr.index[r.encKey] = d
			if matched[d] != nil {
				sr.id[r.encKey], sr.present[d] = matched[d].rule.ID, true
			}
		}
		bySection[c.current.section.ID] = sr
	}
	ref := func(sr *sectionRules, d int) string {
		if id, ok := sr.id[sr.order[d]]; ok {
			return id
		}
		return Placeholder(PlaceholderRule, sr.order[d])
	}
	for i := range steps {
		s := &steps[i]
		sr := bySection[s.SectionID]
		if s.Op != OpCreateRule || sr == nil {
			continue
		}
		d := sr.index[s.RuleKey]
		s.Position = top()
		for j := d - 1; j >= 0; j-- {
			if sr.present[j] {
				s.Position = after(ref(sr, j))
				break
			}
		}
		if s.Position.Op == InsertTop {
			for j := d + 1; j < len(sr.order); j++ {
				if sr.present[j] {
					s.Position = before(ref(sr, j))
					break
				}
			}
		}
		sr.present[d] = true
	}
}

// refExists reports whether a reference of a current rule names an object NSX still has: an
// address, or a group of the state (a rule may point at a group someone deleted).
func (x *stateIndex) refExists(r nsxclient.ResourceReference) bool {
	switch r.TargetType {
	case nsxclient.TargetNSGroup, nsxclient.TargetIPSet:
		if _, ok := x.groupsByID[r.TargetID]; ok {
			return true
		}
		for _, ids := range x.externalIDs {
			if slices.Contains(ids, r.TargetID) {
				return true
			}
		}
		return false
	}
	return r.TargetType != "" // IPv4Address, IPv6Address: literals
}
