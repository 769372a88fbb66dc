package plan

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/microseg/microseg/nsxclient"
)

// fakeNSX executes plans in memory, the way apply does against NSX, so that pure tests can check
// that a plan converges (planning again gives an empty plan). It refuses — and records — any write
// to an object that does not carry the cluster tag, and any reference to an object that does not
// exist, as NSX would.
type fakeNSX struct {
	clusterID string
	sections  []*fakeSection
	groups    map[string]*nsxclient.NSGroup
	ipsets    map[string]*nsxclient.IPSet
	next      int
	resolved  map[string]string // placeholder → id
	writes    int
	// touched records the ids of every object a write changed or deleted.
	touched map[string]bool
}

type fakeSection struct {
	s     nsxclient.FirewallSection
	rules []nsxclient.FirewallRule
}

func newFakeNSX(clusterID string) *fakeNSX {
	f := &fakeNSX{clusterID: clusterID, groups: map[string]*nsxclient.NSGroup{}, ipsets: map[string]*nsxclient.IPSet{},
		resolved: map[string]string{}, touched: map[string]bool{}}
	def := &fakeSection{s: nsxclient.FirewallSection{SectionType: nsxclient.SectionLayer3, Stateful: true, IsDefault: true}}
	def.s.ID, def.s.DisplayName = "default-l3", "Default Layer3 Section"
	def.rules = []nsxclient.FirewallRule{{ID: "1", DisplayName: "Default Layer3 Rule", Action: "ALLOW", IsDefault: true}}
	f.sections = []*fakeSection{def}
	return f
}

func (f *fakeNSX) newID(prefix string) string {
	f.next++
	return prefix + "-" + strconv.Itoa(f.next)
}

// addForeignSection inserts a hand-made section at index i (before the section at i).
func (f *fakeNSX) addForeignSection(i int, name string, tags ...nsxclient.Tag) string {
	s := &fakeSection{s: nsxclient.FirewallSection{SectionType: nsxclient.SectionLayer3, Stateful: true}}
	s.s.ID, s.s.DisplayName, s.s.Tags = f.newID("foreign"), name, tags
	s.rules = []nsxclient.FirewallRule{{ID: f.newID("r"), DisplayName: name + "-rule", Action: "DROP", Direction: "IN"}}
	f.sections = slices.Insert(f.sections, i, s)
	return s.s.ID
}

func (f *fakeNSX) state() State {
	var st State
	for _, s := range f.sections {
		ss := SectionState{Section: s.s}
		ss.Section.RuleCount = int64(len(s.rules))
		if Owned(s.s.Tags, f.clusterID) {
			ss.Rules = slices.Clone(s.rules)
		}
		st.Sections = append(st.Sections, ss)
	}
	for _, id := range sortedKeys(f.groups) {
		g := f.groups[id]
		if Owned(g.Tags, f.clusterID) {
			st.NSGroups = append(st.NSGroups, *g)
		} else {
			st.ExternalGroups = append(st.ExternalGroups, ExternalGroup{ID: id, DisplayName: g.DisplayName})
		}
	}
	for _, id := range sortedKeys(f.ipsets) {
		if s := f.ipsets[id]; Owned(s.Tags, f.clusterID) {
			st.IPSets = append(st.IPSets, *s)
		}
	}
	return st
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (f *fakeNSX) resolve(s string) (string, error) {
	if _, _, ok := ParsePlaceholder(s); !ok {
		return s, nil
	}
	id, ok := f.resolved[s]
	if !ok {
		return "", fmt.Errorf("unresolved placeholder %s", s)
	}
	return id, nil
}

func (f *fakeNSX) resolveRefs(refs []nsxclient.ResourceReference) ([]nsxclient.ResourceReference, error) {
	out := slices.Clone(refs)
	for i := range out {
		id, err := f.resolve(out[i].TargetID)
		if err != nil {
			return nil, err
		}
		out[i].TargetID = id
		switch out[i].TargetType {
		case nsxclient.TargetNSGroup:
			if f.groups[id] == nil {
				return nil, fmt.Errorf("reference to missing NSGroup %s", id)
			}
		case nsxclient.TargetIPSet:
			if f.ipsets[id] == nil {
				return nil, fmt.Errorf("reference to missing IPSet %s", id)
			}
		}
	}
	return out, nil
}

func (f *fakeNSX) resolveRule(r nsxclient.FirewallRule) (nsxclient.FirewallRule, error) {
	var err error
	if r.Sources, err = f.resolveRefs(r.Sources); err != nil {
		return r, err
	}
	if r.Destinations, err = f.resolveRefs(r.Destinations); err != nil {
		return r, err
	}
	r.AppliedTos, err = f.resolveRefs(r.AppliedTos)
	return r, err
}

func (f *fakeNSX) sectionAt(id string) (int, error) {
	for i, s := range f.sections {
		if s.s.ID == id {
			return i, nil
		}
	}
	return -1, fmt.Errorf("section %s not found", id)
}

func (f *fakeNSX) ownedSection(id string) (int, error) {
	i, err := f.sectionAt(id)
	if err != nil {
		return i, err
	}
	if !Owned(f.sections[i].s.Tags, f.clusterID) {
		return i, fmt.Errorf("write to foreign section %s (%s)", id, f.sections[i].s.DisplayName)
	}
	f.touched[id] = true
	return i, nil
}

// place returns the index where an object goes among ids (ids must not contain it).
func place(ids []string, pos *Position, resolve func(string) (string, error)) (int, error) {
	if pos == nil {
		return 0, fmt.Errorf("no position")
	}
	switch pos.Op {
	case InsertTop:
		return 0, nil
	case InsertBefore, InsertAfter:
		anchor, err := resolve(pos.Anchor)
		if err != nil {
			return 0, err
		}
		i := slices.Index(ids, anchor)
		if i < 0 {
			return 0, fmt.Errorf("anchor %s not found", anchor)
		}
		if pos.Op == InsertAfter {
			i++
		}
		return i, nil
	}
	return 0, fmt.Errorf("bad position %v", pos)
}

func (f *fakeNSX) sectionIDs() []string {
	ids := make([]string, len(f.sections))
	for i, s := range f.sections {
		ids[i] = s.s.ID
	}
	return ids
}

func (f *fakeNSX) placeSection(s *fakeSection, pos *Position) error {
	at, err := place(f.sectionIDs(), pos, f.resolve)
	if err != nil {
		return err
	}
	if at == len(f.sections) {
		return fmt.Errorf("cannot place after the default section")
	}
	f.sections = slices.Insert(f.sections, at, s)
	return nil
}

func (f *fakeNSX) newRules(rules []nsxclient.FirewallRule, sectionID string) ([]nsxclient.FirewallRule, error) {
	out := make([]nsxclient.FirewallRule, len(rules))
	for i, r := range rules {
		rr, err := f.resolveRule(r)
		if err != nil {
			return nil, err
		}
		rr.ID, rr.Revision, rr.SectionID = f.newID("r"), 0, sectionID
		if k, ok := RuleKeyFromNotes(rr.Notes); ok {
			f.resolved[Placeholder(PlaceholderRule, k)] = rr.ID
		}
		out[i] = rr
	}
	return out, nil
}

// replaceRules is update_with_rules: rules with a known id keep it.
func (f *fakeNSX) replaceRules(s *fakeSection, rules []nsxclient.FirewallRule) error {
	old := map[string]nsxclient.FirewallRule{}
	for _, r := range s.rules {
		old[r.ID] = r
	}
	out := make([]nsxclient.FirewallRule, len(rules))
	for i, r := range rules {
		prev, kept := old[r.ID]
		if !kept {
			rs, err := f.newRules([]nsxclient.FirewallRule{r}, s.s.ID)
			if err != nil {
				return err
			}
			out[i] = rs[0]
			continue
		}
		delete(old, r.ID)
		rr, err := f.resolveRule(r)
		if err != nil {
			return err
		}
		rr.Revision, rr.SectionID = prev.Revision+1, s.s.ID
		out[i] = rr
	}
	s.rules = out
	return nil
}

func (f *fakeNSX) setAttrs(s *fakeSection, body *nsxclient.FirewallSection) {
	s.s.DisplayName, s.s.Description, s.s.Tags = body.DisplayName, body.Description, slices.Clone(body.Tags)
	s.s.Revision++
}

func (f *fakeNSX) apply(p *Plan) error {
	for i := range p.Steps {
		if err := f.step(&p.Steps[i]); err != nil {
			return fmt.Errorf("step %d (%s %s): %w", i, p.Steps[i].Op, p.Steps[i].Key, err)
		}
		f.writes++
	}
	return nil
}

func (f *fakeNSX) step(s *Step) error {
	switch s.Op {
	case OpCreateGroup:
		id := f.newID("g")
		f.resolved[Placeholder(PlaceholderGroup, s.Key)] = id
		if s.IPSet != nil {
			set := *s.IPSet
			set.ID = id
			f.ipsets[id] = &set
			return nil
		}
		g := *s.NSGroup
		g.ID = id
		g.Members = slices.Clone(g.Members)
		for i := range g.Members {
			v, err := f.resolve(g.Members[i].Value)
			if err != nil {
				return err
			}
			g.Members[i].Value = v
		}
		f.groups[id] = &g
	case OpUpdateGroup:
		f.touched[s.ID] = true
		if s.IPSet != nil {
			old := f.ipsets[s.ID]
			if old == nil || !Owned(old.Tags, f.clusterID) {
				return fmt.Errorf("update of missing or foreign IPSet %s", s.ID)
			}
			set := *s.IPSet
			set.Revision = old.Revision + 1
			f.ipsets[s.ID] = &set
			return nil
		}
		old := f.groups[s.ID]
		if old == nil || !Owned(old.Tags, f.clusterID) {
			return fmt.Errorf("update of missing or foreign NSGroup %s", s.ID)
		}
		g := *s.NSGroup
		g.Members = slices.Clone(g.Members)
		for i := range g.Members {
			v, err := f.resolve(g.Members[i].Value)
			if err != nil {
				return err
			}
			g.Members[i].Value = v
		}
		g.Revision = old.Revision + 1
		f.groups[s.ID] = &g
	case OpDeleteGroup:
		id, err := f.resolve(s.ID)
		if err != nil {
			return err
		}
		f.touched[id] = true
		if g := f.groups[id]; g != nil {
			if !Owned(g.Tags, f.clusterID) {
				return fmt.Errorf("delete of foreign group %s", id)
			}
			delete(f.groups, id)
		} else if set := f.ipsets[id]; set != nil {
			if !Owned(set.Tags, f.clusterID) {
				return fmt.Errorf("delete of foreign IPSet %s", id)
			}
			delete(f.ipsets, id)
		} else {
			return fmt.Errorf("delete of missing group %s", id)
		}
		if by := f.groupUsers(id); by != "" {
			return fmt.Errorf("deleted group %s is still used by %s", id, by)
		}
	case OpCreateSection:
		sec := &fakeSection{s: *s.Section}
		sec.s.ID = f.newID("s")
		f.resolved[Placeholder(PlaceholderSection, s.Key)] = sec.s.ID
		rules, err := f.newRules(s.Rules, sec.s.ID)
		if err != nil {
			return err
		}
		sec.rules = rules
		return f.placeSection(sec, s.Position)
	case OpUpdateSection, OpUpdateSectionRules, OpReviseSection:
		i, err := f.ownedSection(s.ID)
		if err != nil {
			return err
		}
		sec := f.sections[i]
		f.setAttrs(sec, s.Section)
		if s.Op == OpUpdateSectionRules || s.WithRules {
			if err := f.replaceRules(sec, s.Rules); err != nil {
				return err
			}
		}
		if s.Op == OpReviseSection {
			f.sections = slices.Delete(f.sections, i, i+1)
			return f.placeSection(sec, s.Position)
		}
	case OpCreateRule, OpUpdateRule, OpReviseRule, OpDeleteRule:
		return f.ruleStep(s)
	case OpDeleteSection:
		id, err := f.resolve(s.ID)
		if err != nil {
			return err
		}
		i, err := f.ownedSection(id)
		if err != nil {
			return err
		}
		f.sections = slices.Delete(f.sections, i, i+1)
	default:
		return fmt.Errorf("unknown op %s", s.Op)
	}
	return nil
}

func (f *fakeNSX) ruleStep(s *Step) error {
	i, err := f.ownedSection(s.SectionID)
	if err != nil {
		return err
	}
	sec := f.sections[i]
	sec.s.Revision++
	ids := make([]string, len(sec.rules))
	for j, r := range sec.rules {
		ids[j] = r.ID
	}
	if s.Op == OpCreateRule {
		rs, err := f.newRules([]nsxclient.FirewallRule{*s.Rule}, sec.s.ID)
		if err != nil {
			return err
		}
		at, err := place(ids, s.Position, f.resolve)
		if err != nil {
			return err
		}
		sec.rules = slices.Insert(sec.rules, at, rs[0])
		return nil
	}
	j := slices.Index(ids, s.RuleID)
	if j < 0 {
		return fmt.Errorf("rule %s not in section %s", s.RuleID, s.SectionID)
	}
	if s.Op == OpDeleteRule {
		sec.rules = slices.Delete(sec.rules, j, j+1)
		return nil
	}
	if s.Rule.Revision != sec.rules[j].Revision {
		return fmt.Errorf("stale rule revision")
	}
	r, err := f.resolveRule(*s.Rule)
	if err != nil {
		return err
	}
	r.ID, r.Revision, r.SectionID = sec.rules[j].ID, sec.rules[j].Revision+1, sec.s.ID
	if s.Op == OpUpdateRule {
		sec.rules[j] = r
		return nil
	}
	sec.rules = slices.Delete(sec.rules, j, j+1)
	at, err := place(slices.Delete(ids, j, j+1), s.Position, f.resolve)
	if err != nil {
		return err
	}
	sec.rules = slices.Insert(sec.rules, at, r)
	return nil
}

// groupUsers names a rule or group that still references id, or "".
func (f *fakeNSX) groupUsers(id string) string {
	for _, s := range f.sections {
		for _, r := range s.rules {
			for _, refs := range [][]nsxclient.ResourceReference{r.Sources, r.Destinations, r.AppliedTos} {
				for _, ref := range refs {
					if ref.TargetID == id {
						return "rule " + r.ID + " of " + s.s.DisplayName
					}
				}
			}
		}
	}
	for gid, g := range f.groups {
		for _, m := range g.Members {
			if m.Value == id {
				return "group " + gid
			}
		}
	}
	return ""
}

// ownedOrder returns the keys of owned (non-guard) sections in DFW order, and whether they are
// contiguous (no foreign section between the first and the last).
func (f *fakeNSX) ownedOrder() (keys []string, contiguous bool) {
	first, last := -1, -1
	for i, s := range f.sections {
		if Owned(s.s.Tags, f.clusterID) {
			k := tagValue(s.s.Tags, TagKey)
			keys = append(keys, k)
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return keys, first < 0 || last-first+1 == len(keys)
}

func (f *fakeNSX) sectionNames() string {
	var names []string
	for _, s := range f.sections {
		names = append(names, s.s.DisplayName)
	}
	return strings.Join(names, ", ")
}
