package ownership

import (
	"maps"
	"slices"
)

// Object kinds of the Manager backend, as the index counts them (the values of the kind label of
// microseg_owned_objects). Another backend counts its own kinds.
const (
	KindSection = "section"
	KindRule    = "rule"
	KindNSGroup = "nsgroup"
	KindIPSet   = "ipset"
)

// Index is what NSX holds of one cluster's objects, by IR key: the sections (rule containers),
// the rules (by the key in their notes), the groups, and the guard sections, each with the
// identifier NSX gave it. It is neutral about that identifier: the Manager backend stores ids,
// a Policy backend stores paths. Keys are looked up by their IR form; the index encodes them
// the way they are stored in NSX. An Index is filled by a backend from the state it read and
// only read afterwards; the zero value is not usable, use NewIndex.
type Index struct {
	sections, rules, groups    map[string]string // encoded key → id; the first one added wins
	sectionKey, ruleKey, group map[string]string // id → encoded key
	guards                     []string
	counts                     map[string]int
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{
		sections: map[string]string{}, rules: map[string]string{}, groups: map[string]string{},
		sectionKey: map[string]string{}, ruleKey: map[string]string{}, group: map[string]string{},
		counts: map[string]int{},
	}
}

// AddSection records an owned rule container (a Manager section) of the given kind. encodedKey
// is its key tag as found ("" when missing: counted, not indexed); guard sections are listed
// apart and never under a key.
func (x *Index) AddSection(kind, encodedKey, id string, guard bool) {
	x.counts[kind]++
	switch {
	case guard:
		x.guards = append(x.guards, id)
	default:
		index(x.sections, x.sectionKey, encodedKey, id)
	}
}

// AddRule records a rule of an owned section; encodedKey is the key found in its notes ("" for a
// rule without one: counted, not indexed).
func (x *Index) AddRule(kind, encodedKey, id string) {
	x.counts[kind]++
	index(x.rules, x.ruleKey, encodedKey, id)
}

// AddGroup records an owned group of the given kind (NSGroup, IPSet…).
func (x *Index) AddGroup(kind, encodedKey, id string) {
	x.counts[kind]++
	index(x.groups, x.group, encodedKey, id)
}

// index records key → id (the first one wins) and id → key, for an object with a key.
func index(byKey, byID map[string]string, key, id string) {
	if key == "" {
		return
	}
	if _, dup := byKey[key]; !dup {
		byKey[key] = id
	}
	byID[id] = key
}

// Section returns the id of the section that realizes the IR section key.
func (x *Index) Section(key string) (string, bool) {
	id, ok := x.sections[EncodeKey(key)]
	return id, ok
}

// Group returns the id of the group that realizes the IR group key.
func (x *Index) Group(key string) (string, bool) {
	id, ok := x.groups[EncodeKey(key)]
	return id, ok
}

// Rule returns the id of the rule that realizes the IR rule key.
func (x *Index) Rule(key string) (string, bool) {
	id, ok := x.rules[EncodeRuleKey(key)]
	return id, ok
}

// SectionKey returns the encoded key of an owned section by id; false for a section microseg
// does not own, a guard, or one without a key.
func (x *Index) SectionKey(id string) (string, bool) {
	k, ok := x.sectionKey[id]
	return k, ok
}

// RuleKey returns the encoded key (EncodeRuleKey) of an owned rule by id.
func (x *Index) RuleKey(id string) (string, bool) {
	k, ok := x.ruleKey[id]
	return k, ok
}

// GroupKey returns the encoded key of an owned group by id.
func (x *Index) GroupKey(id string) (string, bool) {
	k, ok := x.group[id]
	return k, ok
}

// Guards lists the guard sections in the order they were added.
func (x *Index) Guards() []string { return slices.Clone(x.guards) }

// Counts is the number of owned objects per kind (guards and objects without a key included).
func (x *Index) Counts() map[string]int { return maps.Clone(x.counts) }

// Sections lists the encoded keys of the indexed sections, sorted.
func (x *Index) Sections() []string { return slices.Sorted(maps.Keys(x.sections)) }

// Groups lists the ids of the indexed groups, sorted.
func (x *Index) Groups() []string { return slices.Sorted(maps.Keys(x.group)) }
