package plan

import (
	"fmt"
	"time"

	"github.com/microseg/microseg/nsxclient"
)

// sectionChange is what happens to one desired section.
type sectionChange struct {
	desired *desiredSection
	// current is the existing section with the same key (nil: the section is created).
	current      *ownedSection
	currentRules []currentRule
	// moved: the existing section is not in the kept run and must be revised into place.
	moved     bool
	metaDiff  bool
	rulesDiff bool
	// The two ways to change the rules, and the choice.
	atomicCost, ruleCost time.Duration
	ruleSteps            []Step
	atomic               bool
}

// planSections realizes the model's sections, matches them with the existing ones by key tag,
// chooses which stay in place, and works out what changes in each.
func (p *planner) planSections() error {
	byKey := map[string]bool{}
	for i := range p.model.Sections {
		d, err := p.r.section(&p.model.Sections[i], false)
		if err != nil {
			return err
		}
		if byKey[d.encKey] {
			return fmt.Errorf("plan: two sections share the key %q", d.key)
		}
		byKey[d.encKey] = true
		p.desired = append(p.desired, d)
	}
	matchedAt := map[int]int{}
	claimed := map[*ownedSection]bool{}
	p.changes = make([]sectionChange, len(p.desired))
	for i := range p.desired {
		c := &p.changes[i]
		c.desired = &p.desired[i]
		for _, o := range p.x.bySectionKey[c.desired.encKey] {
			// section_type and stateful cannot change in place; such a section is replaced.
			if o.section.SectionType == nsxclient.SectionLayer3 && o.section.Stateful {
				c.current = o
				claimed[o] = true
				matchedAt[o.dfwIndex] = i
				break
			}
		}
	}
	for _, o := range p.x.ownedList {
		if !claimed[o] {
			p.obsolete = append(p.obsolete, o)
		}
	}
	p.kept = keptSections(p.x, matchedAt, p.anchorIndex, len(p.desired))
	for i := range p.changes {
		p.changes[i].diff(p.kept[i], p.cost)
	}
	return nil
}

// diff compares an existing section with its desired form and prices both ways to change its
// rules.
func (c *sectionChange) diff(kept bool, cost CostModel) {
	if c.current == nil {
		return
	}
	d, cur := c.desired, c.current
	c.moved = !kept
	c.metaDiff = sectionFP(&cur.section) != d.metaFP
	c.currentRules = parseRules(cur.rules)
	c.rulesDiff = !sameRules(d.rules, c.currentRules)
	if !c.rulesDiff {
		return
	}
	c.atomicCost = cost.withRules(len(d.rules))
	c.ruleSteps = ruleLevelSteps(cur.section.ID, d.key, cur.section.Revision, d.rules, c.currentRules)
	c.ruleCost = cost.stepsCost(c.ruleSteps)
	if c.moved || c.metaDiff {
		c.ruleCost += cost.plain()
	}
	c.atomic = c.atomicCost <= c.ruleCost
}

// evalWrites is how many of the change's writes alter DFW evaluation (creating or moving a
// section that has rules, or changing its rules); attribute-only updates do not.
func (c *sectionChange) evalWrites() int {
	if c.current == nil {
		if len(c.desired.rules) > 0 {
			return 1
		}
		return 0
	}
	n := 0
	if c.moved && len(c.current.rules) > 0 {
		n = 1
	}
	if !c.rulesDiff {
		return n
	}
	if c.atomic {
		return 1 // revise_with_rules moves and replaces in one write
	}
	return n + len(c.ruleSteps)
}

// steps emits the change's steps; pos is where a created or moved section goes.
func (c *sectionChange) steps(pos *Position) []Step {
	d := c.desired
	if c.current == nil {
		body := d.body
		return []Step{{Op: OpCreateSection, Reason: "section not in NSX", Key: d.key, Position: pos, Section: &body, Rules: ruleBodies(d.rules)}}
	}
	cur := &c.current.section
	body := d.body
	body.ID, body.Revision = cur.ID, cur.Revision
	step := Step{Key: d.key, ID: cur.ID, Revision: cur.Revision, Section: &body}
	switch {
	case c.rulesDiff && c.atomic && c.moved:
		step.Op, step.Reason, step.Position, step.WithRules = OpReviseSection, "section out of place and its rules differ", pos, true
		step.Rules = withKeptIDs(d.rules, c.currentRules)
		return []Step{step}
	case c.rulesDiff && c.atomic:
		step.Op, step.Reason = OpUpdateSectionRules, "rules differ from the model"
		step.Rules = withKeptIDs(d.rules, c.currentRules)
		return []Step{step}
	}
	// Rule calls first, then the attributes: the hash tag then only ever claims content that is
	// there (the planner compares content, not tags, either way).
	var out []Step
	if c.rulesDiff {
		out = append(out, c.ruleSteps...)
	}
	switch {
	case c.moved:
		step.Op, step.Reason, step.Position = OpReviseSection, "section out of place", pos
		out = append(out, step)
	case c.metaDiff:
		step.Op, step.Reason = OpUpdateSection, "section attributes or tags differ from the model"
		out = append(out, step)
	}
	return out
}

func ruleBodies(rules []desiredRule) []nsxclient.FirewallRule {
	out := make([]nsxclient.FirewallRule, len(rules))
	for i := range rules {
		out[i] = rules[i].body
	}
	return out
}

// layout computes where created and moved sections go, and where the guard goes (see order.go
// and guard.go). Positions name sections by id, or by placeholder when this plan creates them.
func (p *planner) layout() (guardPositions, sectionPositions []*Position) {
	firstKept := -1
	for i, k := range p.kept {
		if k {
			firstKept = i
			break
		}
	}
	blockPoint := top()
	if p.anchorIndex >= 0 {
		blockPoint = after(p.opts.AnchorSectionID)
	}
	first := blockPoint // where the first section goes when none stays in place
	if p.guarded {
		var topmost *ownedSection
		if len(p.x.ownedList) > 0 {
			topmost = p.x.ownedList[0]
		}
		guardPositions = make([]*Position, len(p.guard))
		if firstKept >= 0 || (topmost != nil && p.anchorIndex >= 0 && topmost.dfwIndex < p.anchorIndex) {
			// Above every section of microseg, old and new, so that no flow reaches one of them
			// without passing the guard.
			guardPositions[0] = before(topmost.section.ID)
		} else {
			guardPositions[0] = blockPoint
			first = after(Placeholder(PlaceholderSection, p.guard[len(p.guard)-1].key))
		}
		for j := 1; j < len(p.guard); j++ {
			guardPositions[j] = after(Placeholder(PlaceholderSection, p.guard[j-1].key))
		}
	}
	ref := func(i int) string {
		if c := p.changes[i].current; c != nil {
			return c.section.ID
		}
		return Placeholder(PlaceholderSection, p.desired[i].key)
	}
	sectionPositions = make([]*Position, len(p.changes))
	for i := range p.changes {
		switch {
		case p.kept[i]:
		case firstKept >= 0 && i < firstKept:
			sectionPositions[i] = before(ref(firstKept))
		case i == 0:
			sectionPositions[i] = first
		default:
			sectionPositions[i] = after(ref(i - 1))
		}
	}
	return guardPositions, sectionPositions
}
