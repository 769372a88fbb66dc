package policy

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	"github.com/microseg/microseg/internal/extgroup"
	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/nsxclient"
)

// Object kinds this backend counts in the owned-object index (the kind label of
// microseg_owned_objects).
const (
	KindSecurityPolicy = "securitypolicy"
	KindRule           = ownership.KindRule
	KindGroup          = "group"
)

// State is what one Read found in microseg's domain: every security policy (with its rules, for
// microseg's own) and every group, by id. It is immutable once built; Plan reads it only.
type State struct {
	cluster, domain string
	policies        map[string]*curPolicy
	groups          map[string]*curGroup
	// pending are paths microseg wrote whose realization it has not seen complete yet.
	pending []string
	calls   int64
	index   *ownership.Index
}

// curPolicy is a security policy as read. Rules are known for microseg's policies only.
type curPolicy struct {
	body  nsxclient.SecurityPolicy // Rules cleared
	rules []nsxclient.PolicyRule   // by sequence_number
	owned bool
}

// curGroup is a group as read.
type curGroup struct {
	body  nsxclient.PolicyGroup
	owned bool
}

// Calls is the number of NSX calls the read made.
func (s *State) Calls() int64 { return s.calls }

// Owned indexes microseg's policies (the sections of the index), their rules and its groups, by
// IR key, with their Policy paths.
func (s *State) Owned() *ownership.Index {
	if s.index == nil {
		s.index = s.buildIndex()
	}
	return s.index
}

func (s *State) buildIndex() *ownership.Index {
	x := ownership.NewIndex()
	for _, id := range slices.Sorted(maps.Keys(s.policies)) {
		p := s.policies[id]
		if !p.owned {
			continue
		}
		x.AddSection(KindSecurityPolicy, ownership.TagValue(p.body.Tags, ownership.TagKey), p.body.Path, ownership.IsGuard(p.body.Tags))
		for _, r := range p.rules {
			x.AddRule(KindRule, ruleIndexKey(r, s.cluster), r.Path)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(s.groups)) {
		if g := s.groups[id]; g.owned {
			x.AddGroup(KindGroup, ownership.TagValue(g.body.Tags, ownership.TagKey), g.body.Path)
		}
	}
	return x
}

// ruleIndexKey is a rule's key in the form ownership.Index stores rule keys
// (ownership.EncodeRuleKey). The key tag holds the key, or its digest when the key is longer than
// a tag value; the full key is then recovered from the description microseg wrote, if it still
// encodes to that digest.
func ruleIndexKey(r nsxclient.PolicyRule, cluster string) string {
	tag := ownership.TagValue(r.Tags, ownership.TagKey)
	if tag == "" || !ownership.Owned(r.Tags, cluster) {
		return ""
	}
	if !strings.HasPrefix(tag, ownership.DigestPrefix) {
		return ownership.EncodeRuleKey(tag)
	}
	if _, key, ok := strings.Cut(r.Description, " Rule "); ok && ownership.EncodeKey(key) == tag {
		return ownership.EncodeRuleKey(key)
	}
	return ""
}

// owns reports whether an object's tags and protection make it microseg's: it carries the cluster
// tag, and NSX does not protect it from microseg (an object of a protected principal identity
// shows _protection PROTECTED or REQUIRE_OVERRIDE to everyone else; microseg never overrides).
func owns(r nsxclient.PolicyResource, cluster string) bool {
	return ownership.Owned(r.Tags, cluster) && !protected(r)
}

// protected reports whether NSX protects an object from the reader.
func protected(r nsxclient.PolicyResource) bool {
	return r.Protection == "PROTECTED" || r.Protection == "REQUIRE_OVERRIDE"
}

// newState builds a state from what a read returned.
func newState(cluster, domain string, policies []nsxclient.SecurityPolicy, rules map[string][]nsxclient.PolicyRule, groups []nsxclient.PolicyGroup) *State {
	s := &State{cluster: cluster, domain: domain, policies: map[string]*curPolicy{}, groups: map[string]*curGroup{}}
	for _, p := range policies {
		p.Rules, p.Children = nil, nil
		cp := &curPolicy{body: p, owned: owns(p.PolicyResource, cluster)}
		if cp.owned {
			cp.rules = sortedRules(rules[p.ID])
		}
		s.policies[p.ID] = cp
	}
	for _, g := range groups {
		s.groups[g.ID] = &curGroup{body: g, owned: owns(g.PolicyResource, cluster)}
	}
	return s
}

func sortedRules(in []nsxclient.PolicyRule) []nsxclient.PolicyRule {
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(a, b nsxclient.PolicyRule) int {
		return cmp.Or(cmp.Compare(a.SequenceNumber, b.SequenceNumber), strings.Compare(a.ID, b.ID))
	})
	return out
}

// externalGroups maps the display names of the groups microseg does not own to their paths.
func (s *State) externalGroups() extgroup.Names {
	out := extgroup.Names{}
	for _, id := range slices.Sorted(maps.Keys(s.groups)) {
		g := s.groups[id]
		if !g.owned {
			out[g.body.DisplayName] = append(out[g.body.DisplayName], g.body.Path)
		}
	}
	return out
}
