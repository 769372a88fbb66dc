package memnsx

import (
	"fmt"
	"slices"

	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/internal/plan"
	"github.com/microseg/microseg/nsxclient"
)

func (f *NSX) resolve(s string) (string, error) {
	if _, _, ok := plan.ParsePlaceholder(s); !ok {
		return s, nil
	}
	id, ok := f.resolved[s]
	if !ok {
		return "", fmt.Errorf("unresolved placeholder %s", s)
	}
	return id, nil
}

func (f *NSX) resolveRefs(refs []nsxclient.ResourceReference) ([]nsxclient.ResourceReference, error) {
	out := slices.Clone(refs)
	for i := range out {
		id, err := f.resolve(out[i].TargetID)
		if err != nil {
			return nil, err
		}
		out[i].TargetID = id
		switch out[i].TargetType {
		case nsxclient.TargetNSGroup:
			if f.Groups[id] == nil {
				return nil, fmt.Errorf("reference to missing NSGroup %s", id)
			}
		case nsxclient.TargetIPSet:
			if f.IPSets[id] == nil {
				return nil, fmt.Errorf("reference to missing IPSet %s", id)
			}
		}
	}
	return out, nil
}

func (f *NSX) resolveRule(r nsxclient.FirewallRule) (nsxclient.FirewallRule, error) {
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

func (f *NSX) sectionAt(id string) (int, error) {
	for i, s := range f.Sections {
		if s.Section.ID == id {
			return i, nil
		}
	}
	return -1, fmt.Errorf("section %s not found", id)
}

func (f *NSX) ownedSection(id string) (int, error) {
	i, err := f.sectionAt(id)
	if err != nil {
		return i, err
	}
	if !ownership.Owned(f.Sections[i].Section.Tags, f.ClusterID) {
		return i, fmt.Errorf("write to foreign section %s (%s)", id, f.Sections[i].Section.DisplayName)
	}
	f.Touched[id] = true
	return i, nil
}

// place returns the index where an object goes among ids (ids must not contain it).
func place(ids []string, pos *plan.Position, resolve func(string) (string, error)) (int, error) {
	if pos == nil {
		return 0, fmt.Errorf("no position")
	}
	switch pos.Op {
	case plan.InsertTop:
		return 0, nil
	case plan.InsertBefore, plan.InsertAfter:
		anchor, err := resolve(pos.Anchor)
		if err != nil {
			return 0, err
		}
		i := slices.Index(ids, anchor)
		if i < 0 {
			return 0, fmt.Errorf("anchor %s not found", anchor)
		}
		if pos.Op == plan.InsertAfter {
			i++
		}
		return i, nil
	}
	return 0, fmt.Errorf("bad position %v", pos)
}

func (f *NSX) sectionIDs() []string {
	ids := make([]string, len(f.Sections))
	for i, s := range f.Sections {
		ids[i] = s.Section.ID
	}
	return ids
}

func (f *NSX) placeSection(s *Section, pos *plan.Position) error {
	at, err := place(f.sectionIDs(), pos, f.resolve)
	if err != nil {
		return err
	}
	if at == len(f.Sections) {
		return fmt.Errorf("cannot place after the default section")
	}
	f.Sections = slices.Insert(f.Sections, at, s)
	return nil
}

func (f *NSX) newRules(rules []nsxclient.FirewallRule, sectionID string) ([]nsxclient.FirewallRule, error) {
	out := make([]nsxclient.FirewallRule, len(rules))
	for i, r := range rules {
		rr, err := f.resolveRule(r)
		if err != nil {
			return nil, err
		}
		rr.ID, rr.Revision, rr.SectionID = f.newID("r"), 0, sectionID
		if k, ok := ownership.RuleKeyFromNotes(rr.Notes); ok {
			f.resolved[plan.Placeholder(plan.PlaceholderRule, k)] = rr.ID
		}
		out[i] = rr
	}
	return out, nil
}

// replaceRules is update_with_rules: rules with a known id keep it.
func (f *NSX) replaceRules(s *Section, rules []nsxclient.FirewallRule) error {
	old := map[string]nsxclient.FirewallRule{}
	for _, r := range s.Rules {
		old[r.ID] = r
	}
	out := make([]nsxclient.FirewallRule, len(rules))
	for i, r := range rules {
		prev, kept := old[r.ID]
		if !kept {
			rs, err := f.newRules([]nsxclient.FirewallRule{r}, s.Section.ID)
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
		rr.Revision, rr.SectionID = prev.Revision+1, s.Section.ID
		out[i] = rr
	}
	s.Rules = out
	return nil
}

func (f *NSX) setAttrs(s *Section, body *nsxclient.FirewallSection) {
	s.Section.DisplayName, s.Section.Description, s.Section.Tags = body.DisplayName, body.Description, slices.Clone(body.Tags)
	s.Section.Revision++
}
