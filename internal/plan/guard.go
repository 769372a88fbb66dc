package plan

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/microseg/microseg/internal/ir"
)

// Guard protects a change that takes more than one write that changes DFW evaluation: sections
// inserted above microseg's block for the duration of the change, such that at each side (OUT at
// the source port, IN at the destination port) every flow the new block denies is denied by the
// guard. GuardFor builds the production guards (a copy of the new block, or its deny-only
// over-approximation); docs/architecture.md ("The guard") has the invariant and its proof for
// both. Groups are the groups its rules need beyond the model's (a key shared with the model must
// have the same content); GuardFor's guards need none.
type Guard struct {
	Sections []ir.Section `json:"sections"`
	Groups   []ir.Group   `json:"groups,omitempty"`
}

// RuleCount is the number of rules of the guard.
func (g *Guard) RuleCount() int {
	n := 0
	for i := range g.Sections {
		n += len(g.Sections[i].Rules)
	}
	return n
}

// evalWrites counts the plan's writes that change DFW evaluation.
func (p *planner) evalWrites() int {
	n := p.gp.contentUpdates
	for i := range p.changes {
		n += p.changes[i].evalWrites()
	}
	for _, o := range p.obsolete {
		if len(o.rules) > 0 {
			n++
		}
	}
	return n
}

// decideGuard settles, for each changed section, between the atomic and the rule-level way, and
// whether the change needs a guard: it does when more than one write changes evaluation and the
// model denies anything (with no DROP or REJECT rule the guard would be empty). When the only
// evaluation change is one section's rules, the atomic write needs no guard, so it is compared
// against the rule-level calls plus the guard's own cost (estimated from the model's deny rules,
// so that the choice does not depend on which guard is used). The guard is built here, only when
// it is needed.
func (p *planner) decideGuard() error {
	total := p.evalWrites()
	if total <= 1 || !p.x.ownedBlockDenies() {
		// One write is atomic; and a block that denies nothing cannot be the reason the old
		// configuration denies a flow (docs/architecture.md, "The guard").
		return nil
	}
	deny := 0
	for i := range p.desired {
		deny += p.desired[i].denyRules
	}
	if deny == 0 {
		return nil
	}
	guarded := p.cost.guardCost(deny)
	for i := range p.changes {
		if c := &p.changes[i]; c.rulesDiff {
			guarded += c.ruleCost
		}
	}
	if m := p.planMonotone(); m != nil && m.cost <= guarded {
		// Ordered narrowing first, the changes need no guard (monotone.go), and they cost no
		// more than rule-level calls under a guard.
		for i := range p.changes {
			if p.changes[i].rulesDiff {
				p.changes[i].atomic = m.modes[i].atomic
			}
		}
		p.monotone = m
		return nil
	}
	for i := range p.changes {
		c := &p.changes[i]
		if c.rulesDiff && !c.atomic && c.evalWrites() == total {
			if c.atomicCost <= c.ruleCost+p.cost.guardCost(deny) {
				c.atomic = true
				return nil
			}
			break
		}
	}
	if p.opts.Guard == nil {
		if g := p.addressGuard(total, deny); g != nil {
			return p.planGuard(g)
		}
	}
	var g *Guard
	if p.opts.Guard == nil {
		// The guard goes in before the model's groups are repaired (see assemble), so while it
		// is in place a repaired group still has the content someone gave it in NSX. A copy of
		// the block would then apply its ALLOW rules to the wrong members; the deny-only guard
		// only ever adds denials on top of the old block until the repairs are done.
		g, _ = guardFor(p.model, p.opts.Limits, p.gp.contentUpdates == 0)
	} else if g = p.opts.Guard(p.model); g == nil {
		return errors.New("plan: Options.Guard returned no guard")
	}
	return p.planGuard(g)
}

// planGuard plans the guard's groups and realizes its sections.
func (p *planner) planGuard(g *Guard) error {
	// A guard from GuardFor uses only the model's groups; one from Options.Guard may bring its
	// own, registered here (a key shared with the model must have the same content).
	if len(g.Groups) > 0 {
		if err := p.r.addGroups(g.Groups); err != nil {
			return fmt.Errorf("%w (between the model and the guard)", err)
		}
		var err error
		if p.depth, err = groupDepth(p.r.groups); err != nil {
			return err
		}
		p.r.markIncomplete(creationOrder(slices.Collect(maps.Keys(p.r.groups)), p.depth))
	}
	var guardOnly []string
	for _, grp := range g.Groups {
		if !p.modelKeys[grp.Key] && !slices.Contains(guardOnly, grp.Key) {
			guardOnly = append(guardOnly, grp.Key)
		}
	}
	if err := p.gp.plan(creationOrder(guardOnly, p.depth), p.depth, "group of the guard"); err != nil {
		return err
	}
	modelKeys := map[string]bool{}
	for i := range p.desired {
		modelKeys[p.desired[i].key] = true
	}
	for i := range g.Sections {
		s := &g.Sections[i]
		if modelKeys[s.Key] {
			return fmt.Errorf("plan: guard section key %q is also a section of the model", s.Key)
		}
		d, err := p.r.section(s, true)
		if err != nil {
			return fmt.Errorf("guard: %w", err)
		}
		// A guard of several sections is inserted and removed section by section, so each must
		// only deny; a one-section guard (GuardCopy) goes in and out in single writes and may
		// hold the new block's ALLOW rules too.
		if len(g.Sections) > 1 {
			for _, r := range d.rules {
				if r.body.Action == string(ir.ActionAllow) {
					return fmt.Errorf("plan: guard section %s has an ALLOW rule (%s); a guard of several sections may only deny", s.Key, r.key)
				}
			}
		}
		if len(d.rules) > 0 {
			p.guard = append(p.guard, d)
		}
	}
	p.guarded = len(p.guard) > 0
	return nil
}

// guardCreates inserts the guard sections (at positions from layout).
func (p *planner) guardCreates(positions []*Position) []Step {
	steps := make([]Step, len(p.guard))
	for i := range p.guard {
		d := &p.guard[i]
		body := d.body
		steps[i] = Step{Op: OpCreateSection, Reason: "guard: deny what the new model denies while the change is applied", Guard: true,
			Key: d.key, Position: positions[i], Section: &body, Rules: ruleBodies(d.rules)}
	}
	return steps
}

// guardDeletes removes the guard once every other section write is done.
func (p *planner) guardDeletes() []Step {
	steps := make([]Step, len(p.guard))
	for i := range p.guard {
		steps[i] = Step{Op: OpDeleteSection, Reason: "guard: the change is complete", Guard: true,
			Key: p.guard[i].key, ID: Placeholder(PlaceholderSection, p.guard[i].key)}
	}
	return steps
}
