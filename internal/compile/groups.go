package compile

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"go4.org/netipx"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/ncptags"
)

// groupRegistry holds the content-addressed groups: a group's key is derived from the hash of its
// normalised content, so every rule that needs the same membership shares one NSX object.
type groupRegistry struct {
	byKey    map[string]*ir.Group
	tagRefs  map[string]ir.Ref   // canonical terms → ref
	addrRefs map[string][]ir.Ref // canonical address set → refs
}

func newGroupRegistry() *groupRegistry {
	return &groupRegistry{byKey: map[string]*ir.Group{}, tagRefs: map[string]ir.Ref{}, addrRefs: map[string][]ir.Ref{}}
}

// groupContent is what a group's hash covers: everything but its name.
type groupContent struct {
	Kind            ir.GroupKind   `json:"kind"`
	Criteria        []ir.Criterion `json:"criteria,omitempty"`
	Family          ir.Family      `json:"family,omitempty"`
	IPs             []string       `json:"ips,omitempty"`
	Members         []string       `json:"members,omitempty"`
	ExternalMembers []string       `json:"externalMembers,omitempty"`
}

var keyPrefix = map[ir.GroupKind]string{ir.KindTagGroup: "tag-", ir.KindNestedGroup: "nest-"}

// add registers a group by content and returns its key. The cluster id is part of the hash
// (tag criteria carry it; IPSets and nested groups of two clusters must not collide either).
func (c *compiler) addGroup(g ir.Group, describe string) string {
	content := groupContent{Kind: g.Kind, Criteria: g.Criteria, Family: g.Family, IPs: g.IPs, Members: g.Members, ExternalMembers: g.ExternalMembers}
	raw, err := json.Marshal(content)
	if err != nil {
		panic(fmt.Sprintf("compile: group content: %v", err))
	}
	hash := contentHash(c.clusterID, string(raw))
	prefix := keyPrefix[g.Kind]
	if g.Kind == ir.KindIPSet {
		prefix = "ips4-"
		if g.Family == ir.FamilyIPv6 {
			prefix = "ips6-"
		}
	}
	key := prefix + hash[:24]
	if have, ok := c.groups.byKey[key]; ok {
		have.Reason = minReasonOrExact(have.Reason, g.Reason)
		c.logGroup(groupOp{kind: opAddExisting, key: key, reason: g.Reason})
		return key
	}
	g.Key, g.Hash = key, hash
	g.DisplayName = c.displayName("microseg "+c.clusterID+" "+describe, hash)
	c.groups.byKey[key] = &g
	c.logGroup(groupOp{kind: opAdd, key: key, group: &g})
	return key
}

// minReasonOrExact is the reason a group needed both ways carries: none when either use is an
// exact selector, the smaller code otherwise.
func minReasonOrExact(a, b ir.GroupReason) ir.GroupReason {
	if a == "" || b == "" {
		return ""
	}
	return min(a, b)
}

// tagGroupRef returns the group selecting the pods of terms by NCP tags: one TagGroup when the
// terms fit the criteria limit, else TagGroups of at most MaxCriteriaPerGroup criteria nested
// under NestedGroups. why is empty when the terms select exactly the pods meant, else the reason
// they only bound them.
func (c *compiler) tagGroupRef(terms []term, why ir.GroupReason) ir.Ref {
	canon := canonicalTerms(terms)
	if ref, ok := c.groups.tagRefs[canon]; ok {
		c.noteReason(ref, why)
		return ref
	}
	var keys []string
	for chunk := range slices.Chunk(terms, c.limits.MaxCriteriaPerGroup) {
		crit := make([]ir.Criterion, len(chunk))
		for i, t := range chunk {
			crit[i] = c.criterion(t)
		}
		desc := "pods " + describeTerm(chunk[0])
		if len(chunk) > 1 {
			desc += fmt.Sprintf(" +%d", len(chunk)-1)
		}
		keys = append(keys, c.addGroup(ir.Group{Kind: ir.KindTagGroup, Criteria: crit, Reason: why}, desc))
	}
	var ref ir.Ref
	if len(keys) == 1 {
		ref = ir.Ref{Group: keys[0]}
	} else {
		ref = c.nestedRef(keys, nil, "pods "+describeTerm(terms[0])+fmt.Sprintf(" +%d", len(terms)-1), ir.ReasonOverLimit)
	}
	c.groups.tagRefs[canon] = ref
	return ref
}

// noteReason records another use of a tag group (or of the tag groups a nested group holds).
func (c *compiler) noteReason(ref ir.Ref, why ir.GroupReason) {
	g := c.groups.byKey[ref.Group]
	if g.Kind == ir.KindTagGroup {
		g.Reason = minReasonOrExact(g.Reason, why)
		c.logGroup(groupOp{kind: opReasonOrExact, key: ref.Group, reason: why})
		return
	}
	for _, m := range g.Members {
		c.noteReason(ir.Ref{Group: m}, why)
	}
}

// criterion renders a term as NCP tag matches: cluster, namespace (or "is a pod"), labels.
func (c *compiler) criterion(t term) ir.Criterion {
	tags := c.termTags(t)
	out := make([]ir.TagMatch, len(tags))
	for i, tag := range tags {
		out[i] = ir.TagMatch{Scope: tag.Scope, Tag: tag.Tag}
	}
	return ir.Criterion{Tags: out}
}

// termTags are the tag conditions of a term's criterion (an empty Tag: any value).
func (c *compiler) termTags(t term) []ncptags.Tag {
	tags := []ncptags.Tag{{Scope: ncptags.ScopeCluster, Tag: c.clusterID}}
	if t.ns != "" {
		tags = append(tags, ncptags.Tag{Scope: ncptags.ScopeProject, Tag: t.ns})
	} else {
		tags = append(tags, ncptags.Tag{Scope: ncptags.ScopePod})
	}
	for _, r := range t.reqs {
		m := ncptags.Tag{Scope: r.key}
		if !r.exists {
			m.Tag = r.value
		}
		tags = append(tags, m)
	}
	return tags
}

func canonicalTerms(terms []term) string {
	var b strings.Builder
	for _, t := range terms {
		b.WriteString(describeTerm(t))
		b.WriteByte('\n')
	}
	return b.String()
}

func describeTerm(t term) string {
	var b strings.Builder
	if t.ns == "" {
		b.WriteString("*")
	} else {
		b.WriteString(t.ns)
	}
	for _, r := range t.reqs {
		b.WriteByte(' ')
		b.WriteString(r.key)
		if !r.exists {
			b.WriteByte('=')
			b.WriteString(r.value)
		}
	}
	return b.String()
}

// ipSetRefs returns IPSets holding the addresses, one family each, split at MaxIPSetEntries; why
// is the reason the addresses are not a tag group.
func (c *compiler) ipSetRefs(addrs *netipx.IPSet, why ir.GroupReason) []ir.Ref {
	if addrs == nil {
		return nil
	}
	canon := strings.Join(rangeStrings(addrs), ",")
	if refs, ok := c.groups.addrRefs[canon]; ok {
		for _, r := range refs {
			g := c.groups.byKey[r.Group]
			g.Reason = minReason(g.Reason, why)
			c.logGroup(groupOp{kind: opReason, key: r.Group, reason: why})
		}
		return refs
	}
	var refs []ir.Ref
	for _, fam := range []int{4, 6} {
		entries := rangeStrings(familyAddrs(addrs, fam))
		family := ir.FamilyIPv4
		if fam == 6 {
			family = ir.FamilyIPv6
		}
		for chunk := range slices.Chunk(entries, c.limits.MaxIPSetEntries) {
			desc := fmt.Sprintf("ipset %s", chunk[0])
			if len(chunk) > 1 {
				desc += fmt.Sprintf(" +%d", len(chunk)-1)
			}
			key := c.addGroup(ir.Group{Kind: ir.KindIPSet, Family: family, IPs: slices.Clone(chunk), Reason: why}, desc)
			refs = append(refs, ir.Ref{Group: key})
		}
	}
	c.groups.addrRefs[canon] = refs
	return refs
}

// nestedRef returns one group whose static members are the given groups and NSX groups, nesting
// further when there are more than MaxGroupMembers; why is the reason one group of refs was needed.
func (c *compiler) nestedRef(members, external []string, describe string, why ir.GroupReason) ir.Ref {
	members = slices.Clone(members)
	slices.Sort(members)
	members = slices.Compact(members)
	external = slices.Clone(external)
	slices.Sort(external)
	external = slices.Compact(external)
	limit := c.limits.MaxGroupMembers
	for len(members)+len(external) > limit {
		// Fold the overflow into sub-groups of limit members each, then retry at this level.
		var next []string
		all := append(slices.Clone(members), externalMarker(external)...)
		for chunk := range slices.Chunk(all, limit) {
			m, e := splitMarked(chunk)
			next = append(next, c.addGroup(ir.Group{Kind: ir.KindNestedGroup, Members: m, ExternalMembers: e, Reason: why}, describe+" (part)"))
		}
		members, external = next, nil
		slices.Sort(members)
	}
	return ir.Ref{Group: c.addGroup(ir.Group{Kind: ir.KindNestedGroup, Members: members, ExternalMembers: external, Reason: why}, describe)}
}

// externalMarker marks NSX group names so that they can be chunked together with group keys
// (keys never start with "\x00").
func externalMarker(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "\x00" + n
	}
	return out
}

func splitMarked(chunk []string) (members, external []string) {
	for _, s := range chunk {
		if strings.HasPrefix(s, "\x00") {
			external = append(external, s[1:])
		} else {
			members = append(members, s)
		}
	}
	return members, external
}

// collapseRefs turns a list of refs into a single nested group (literal addresses go into IPSets
// first), for a negated list that must stay one list.
func (c *compiler) collapseRefs(refs []ir.Ref) ir.Ref {
	var members, external []string
	var b netipx.IPSetBuilder
	hasAddrs := false
	for _, r := range refs {
		switch {
		case r.Group != "":
			members = append(members, r.Group)
		case r.NSXGroup != "":
			external = append(external, r.NSXGroup)
		case r.CIDR != "":
			if p, err := parseCIDROrAddr(r.CIDR); err == nil {
				b.AddPrefix(p)
				hasAddrs = true
			}
		}
	}
	if hasAddrs {
		set, _ := b.IPSet()
		for _, r := range c.ipSetRefs(set, ir.ReasonOverLimit) {
			members = append(members, r.Group)
		}
	}
	return c.nestedRef(members, external, "excluded peers", ir.ReasonOverLimit)
}
