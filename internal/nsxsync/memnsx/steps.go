package memnsx

import (
	"fmt"
	"slices"
	"strings"

	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/internal/plan"
	"github.com/microseg/microseg/nsxclient"
)

// Execute runs a plan's steps in order, as apply does against NSX, and stops at the first step
// NSX would refuse.
func (f *NSX) Execute(p *plan.Plan) error {
	// Like apply, a plan that writes one rule twice sends the revision of its own first write.
	f.rewritten = map[string]int64{}
	for i := range p.Steps {
		if err := f.step(&p.Steps[i]); err != nil {
			return fmt.Errorf("step %d (%s %s): %w", i, p.Steps[i].Op, p.Steps[i].Key, err)
		}
		f.Writes++
	}
	return nil
}

func (f *NSX) step(s *plan.Step) error {
	switch s.Op {
	case plan.OpCreateGroup:
		id := f.newID("g")
		f.resolved[plan.Placeholder(plan.PlaceholderGroup, s.Key)] = id
		if s.IPSet != nil {
			set := *s.IPSet
			set.ID = id
			f.IPSets[id] = &set
			return nil
		}
		g, err := f.nsGroup(s.NSGroup)
		if err != nil {
			return err
		}
		g.ID = id
		f.Groups[id] = g
	case plan.OpUpdateGroup:
		f.Touched[s.ID] = true
		if s.IPSet != nil {
			old := f.IPSets[s.ID]
			if old == nil || !ownership.Owned(old.Tags, f.ClusterID) {
				return fmt.Errorf("update of missing or foreign IPSet %s", s.ID)
			}
			set := *s.IPSet
			set.Revision = old.Revision + 1
			f.IPSets[s.ID] = &set
			return nil
		}
		old := f.Groups[s.ID]
		if old == nil || !ownership.Owned(old.Tags, f.ClusterID) {
			return fmt.Errorf("update of missing or foreign NSGroup %s", s.ID)
		}
		g, err := f.nsGroup(s.NSGroup)
		if err != nil {
			return err
		}
		g.Revision = old.Revision + 1
		f.Groups[s.ID] = g
	case plan.OpDeleteGroup:
		id, err := f.resolve(s.ID)
		if err != nil {
			return err
		}
		f.Touched[id] = true
		if g := f.Groups[id]; g != nil {
			if !ownership.Owned(g.Tags, f.ClusterID) {
				return fmt.Errorf("delete of foreign group %s", id)
			}
			delete(f.Groups, id)
		} else if set := f.IPSets[id]; set != nil {
			if !ownership.Owned(set.Tags, f.ClusterID) {
				return fmt.Errorf("delete of foreign IPSet %s", id)
			}
			delete(f.IPSets, id)
		} else {
			return fmt.Errorf("delete of missing group %s", id)
		}
		if by := f.groupUsers(id); by != "" {
			return fmt.Errorf("deleted group %s is still used by %s", id, by)
		}
	case plan.OpCreateSection:
		sec := &Section{Section: *s.Section}
		sec.Section.ID = f.newID("s")
		f.resolved[plan.Placeholder(plan.PlaceholderSection, s.Key)] = sec.Section.ID
		rules, err := f.newRules(s.Rules, sec.Section.ID)
		if err != nil {
			return err
		}
		sec.Rules = rules
		return f.placeSection(sec, s.Position)
	case plan.OpUpdateSection, plan.OpUpdateSectionRules, plan.OpReviseSection:
		i, err := f.ownedSection(s.ID)
		if err != nil {
			return err
		}
		sec := f.Sections[i]
		f.setAttrs(sec, s.Section)
		if s.Op == plan.OpUpdateSectionRules || s.WithRules {
			if err := f.replaceRules(sec, s.Rules); err != nil {
				return err
			}
		}
		if s.Op == plan.OpReviseSection {
			f.Sections = slices.Delete(f.Sections, i, i+1)
			return f.placeSection(sec, s.Position)
		}
	case plan.OpCreateRule, plan.OpUpdateRule, plan.OpReviseRule, plan.OpDeleteRule:
		return f.ruleStep(s)
	case plan.OpDeleteSection:
		id, err := f.resolve(s.ID)
		if err != nil {
			return err
		}
		i, err := f.ownedSection(id)
		if err != nil {
			return err
		}
		f.Sections = slices.Delete(f.Sections, i, i+1)
	default:
		return fmt.Errorf("unknown op %s", s.Op)
	}
	return nil
}

func (f *NSX) ruleStep(s *plan.Step) error {
	i, err := f.ownedSection(s.SectionID)
	if err != nil {
		return err
	}
	sec := f.Sections[i]
	sec.Section.Revision++
	ids := make([]string, len(sec.Rules))
	for j, r := range sec.Rules {
		ids[j] = r.ID
	}
	if s.Op == plan.OpCreateRule {
		rs, err := f.newRules([]nsxclient.FirewallRule{*s.Rule}, sec.Section.ID)
		if err != nil {
			return err
		}
		at, err := place(ids, s.Position, f.resolve)
		if err != nil {
			return err
		}
		sec.Rules = slices.Insert(sec.Rules, at, rs[0])
		return nil
	}
	j := slices.Index(ids, s.RuleID)
	if j < 0 {
		return fmt.Errorf("rule %s not in section %s", s.RuleID, s.SectionID)
	}
	if s.Op == plan.OpDeleteRule {
		sec.Rules = slices.Delete(sec.Rules, j, j+1)
		return nil
	}
	if rev, ok := f.rewritten[s.RuleID]; s.Rule.Revision != sec.Rules[j].Revision && (!ok || rev != sec.Rules[j].Revision) {
		return fmt.Errorf("stale rule revision")
	}
	defer func() {
		f.rewritten[s.RuleID] = sec.Rules[slices.IndexFunc(sec.Rules, func(r nsxclient.FirewallRule) bool { return r.ID == s.RuleID })].Revision
	}()
	r, err := f.resolveRule(*s.Rule)
	if err != nil {
		return err
	}
	r.ID, r.Revision, r.SectionID = sec.Rules[j].ID, sec.Rules[j].Revision+1, sec.Section.ID
	if s.Op == plan.OpUpdateRule {
		sec.Rules[j] = r
		return nil
	}
	sec.Rules = slices.Delete(sec.Rules, j, j+1)
	at, err := place(slices.Delete(ids, j, j+1), s.Position, f.resolve)
	if err != nil {
		return err
	}
	sec.Rules = slices.Insert(sec.Rules, at, r)
	return nil
}

// nsGroup is a copy of body with its members resolved.
func (f *NSX) nsGroup(body *nsxclient.NSGroup) (*nsxclient.NSGroup, error) {
	g := *body
	g.Members = slices.Clone(g.Members)
	for i := range g.Members {
		v, err := f.resolve(g.Members[i].Value)
		if err != nil {
			return nil, err
		}
		g.Members[i].Value = v
	}
	return &g, nil
}

// groupUsers names a rule or group that still references id, or "".
func (f *NSX) groupUsers(id string) string {
	for _, s := range f.Sections {
		for _, r := range s.Rules {
			for _, refs := range [][]nsxclient.ResourceReference{r.Sources, r.Destinations, r.AppliedTos} {
				for _, ref := range refs {
					if ref.TargetID == id {
						return "rule " + r.ID + " of " + s.Section.DisplayName
					}
				}
			}
		}
	}
	for gid, g := range f.Groups {
		for _, m := range g.Members {
			if m.Value == id {
				return "group " + gid
			}
		}
	}
	return ""
}

// OwnedOrder returns the keys of owned (non-guard) sections in DFW order, and whether they are
// contiguous (no foreign section between the first and the last).
func (f *NSX) OwnedOrder() (keys []string, contiguous bool) {
	first, last := -1, -1
	for i, s := range f.Sections {
		if ownership.Owned(s.Section.Tags, f.ClusterID) {
			k := ownership.TagValue(s.Section.Tags, ownership.TagKey)
			keys = append(keys, k)
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return keys, first < 0 || last-first+1 == len(keys)
}

// SectionNames lists the display names of the sections in DFW order.
func (f *NSX) SectionNames() string {
	var names []string
	for _, s := range f.Sections {
		names = append(names, s.Section.DisplayName)
	}
	return strings.Join(names, ", ")
}
