package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/nsxclient"
)

// State is what NSX holds, as apply.ReadState reads it. Only the order of Sections (and of the
// rules within a section) carries meaning; the other lists may come in any order.
type State struct {
	// Sections are all LAYER3 sections in DFW evaluation order: hand-made ones, other clusters',
	// microseg's, and the default section (last).
	Sections []SectionState `json:"sections"`
	// NSGroups and IPSets are the groups that carry microseg's cluster tag. Entries without it are
	// ignored (never modified).
	NSGroups []nsxclient.NSGroup `json:"nsGroups,omitempty"`
	IPSets   []nsxclient.IPSet   `json:"ipSets,omitempty"`
	// ExternalGroups are the NSGroups microseg does not own, by id and display name, for
	// resolving ir.Ref.NSXGroup and nested groups' external members.
	ExternalGroups []ExternalGroup `json:"externalGroups,omitempty"`
}

// SectionState is one section and, for sections microseg owns, its rules in order (rules of
// other sections are not read: microseg never needs them).
type SectionState struct {
	Section nsxclient.FirewallSection `json:"section"`
	Rules   []nsxclient.FirewallRule  `json:"rules,omitempty"`
}

// ExternalGroup is an NSGroup microseg does not own.
type ExternalGroup struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

// ownedSection is a section of the state that carries the cluster tag.
type ownedSection struct {
	dfwIndex int
	section  nsxclient.FirewallSection
	rules    []nsxclient.FirewallRule
	// key is the encoded key tag ("" when missing); guard is set for guard sections.
	key   string
	guard bool
}

// ownedGroup is an owned NSGroup or IPSet.
type ownedGroup struct {
	key      string // encoded key tag
	id       string
	kind     string // nsxclient.TargetNSGroup or nsxclient.TargetIPSet
	revision int64
	nsGroup  *nsxclient.NSGroup
	ipSet    *nsxclient.IPSet
}

// stateIndex classifies the state by ownership. Everything is keyed and sorted so that the plan
// does not depend on the order of the unordered lists.
type stateIndex struct {
	clusterID string
	sections  []SectionState
	owned     []bool // per section of the DFW
	// bySectionKey maps an encoded key to the owned, non-guard sections carrying it, in DFW order.
	bySectionKey map[string][]*ownedSection
	ownedList    []*ownedSection // DFW order
	// groups maps an encoded key to the owned groups carrying it, sorted by id.
	groups      map[string][]*ownedGroup
	groupsByID  map[string]*ownedGroup
	groupList   []*ownedGroup       // sorted by id
	externalIDs map[string][]string // display name → sorted ids
}

func indexState(st State, clusterID string) (*stateIndex, error) {
	x := &stateIndex{
		clusterID:    clusterID,
		sections:     st.Sections,
		owned:        make([]bool, len(st.Sections)),
		bySectionKey: map[string][]*ownedSection{},
		groups:       map[string][]*ownedGroup{},
		groupsByID:   map[string]*ownedGroup{},
		externalIDs:  map[string][]string{},
	}
	seen := map[string]bool{}
	for i := range st.Sections {
		s := &st.Sections[i].Section
		if s.ID == "" || seen[s.ID] {
			return nil, fmt.Errorf("plan: state lists section %q twice or without an id", s.ID)
		}
		seen[s.ID] = true
		if !ownership.Owned(s.Tags, clusterID) || s.IsDefault {
			continue
		}
		x.owned[i] = true
		key := ownership.TagValue(s.Tags, ownership.TagKey)
		role := ownership.TagValue(s.Tags, ownership.TagRole)
		o := &ownedSection{dfwIndex: i, section: *s, rules: st.Sections[i].Rules, key: key, guard: role == ownership.RoleGuard}
		x.ownedList = append(x.ownedList, o)
		if key != "" && !o.guard {
			x.bySectionKey[key] = append(x.bySectionKey[key], o)
		}
	}
	for i := range st.NSGroups {
		g := &st.NSGroups[i]
		if ownership.Owned(g.Tags, clusterID) {
			x.addGroup(&ownedGroup{id: g.ID, kind: nsxclient.TargetNSGroup, revision: g.Revision, nsGroup: g}, g.Tags)
		} else {
			x.externalIDs[g.DisplayName] = append(x.externalIDs[g.DisplayName], g.ID)
		}
	}
	for i := range st.IPSets {
		s := &st.IPSets[i]
		if ownership.Owned(s.Tags, clusterID) {
			x.addGroup(&ownedGroup{id: s.ID, kind: nsxclient.TargetIPSet, revision: s.Revision, ipSet: s}, s.Tags)
		}
	}
	for _, e := range st.ExternalGroups {
		if _, mine := x.groupsByID[e.ID]; !mine && !slices.Contains(x.externalIDs[e.DisplayName], e.ID) {
			x.externalIDs[e.DisplayName] = append(x.externalIDs[e.DisplayName], e.ID)
		}
	}
	for _, ids := range x.externalIDs {
		slices.Sort(ids)
	}
	byID := func(a, b *ownedGroup) int { return strings.Compare(a.id, b.id) }
	slices.SortFunc(x.groupList, byID)
	for _, gs := range x.groups {
		slices.SortFunc(gs, byID)
	}
	return x, nil
}

func (x *stateIndex) addGroup(g *ownedGroup, tags []nsxclient.Tag) {
	g.key = ownership.TagValue(tags, ownership.TagKey)
	x.groupList = append(x.groupList, g)
	x.groupsByID[g.id] = g
	if g.key != "" {
		x.groups[g.key] = append(x.groups[g.key], g)
	}
}

// sectionIndex returns the DFW position of a section id, or -1.
func (x *stateIndex) sectionIndex(id string) int {
	for i := range x.sections {
		if x.sections[i].Section.ID == id {
			return i
		}
	}
	return -1
}

// Index is the owned-object index of the state: microseg's sections (guards apart), their rules
// by the key in their notes, and its NSGroups and IPSets, with their ids.
func (st *State) Index(clusterID string) *ownership.Index {
	x := ownership.NewIndex()
	for i := range st.Sections {
		s := &st.Sections[i]
		if !ownership.Owned(s.Section.Tags, clusterID) || s.Section.IsDefault {
			continue
		}
		x.AddSection(ownership.KindSection, ownership.TagValue(s.Section.Tags, ownership.TagKey), s.Section.ID, ownership.IsGuard(s.Section.Tags))
		for _, r := range s.Rules {
			key, _ := ownership.RuleKeyFromNotes(r.Notes)
			x.AddRule(ownership.KindRule, key, r.ID)
		}
	}
	for _, g := range st.NSGroups {
		if ownership.Owned(g.Tags, clusterID) {
			x.AddGroup(ownership.KindNSGroup, ownership.TagValue(g.Tags, ownership.TagKey), g.ID)
		}
	}
	for _, s := range st.IPSets {
		if ownership.Owned(s.Tags, clusterID) {
			x.AddGroup(ownership.KindIPSet, ownership.TagValue(s.Tags, ownership.TagKey), s.ID)
		}
	}
	return x
}
