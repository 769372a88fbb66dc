package dataplane

import (
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/microseg/microseg/nsxclient"
)

// Effective membership of Policy groups. A group's expression is an OR of criteria; a criterion
// is a chain of members joined by AND (AND binds tighter than OR, the usual reading; NSX allows
// AND between criteria only for two single conditions of one member type, where the reading
// does not matter). Conditions select segment ports; IP address expressions add addresses; path
// expressions add groups (transitively), segments (their ports) and segment ports.
//
// Conditions, as this package reads them:
//   - Tag on SegmentPort looks at the port's tags, on Segment at its segment's tags. The value
//     is "scope|tag"; an empty side is not checked; a value without "|" is a tag of any scope.
//     Matching is case-insensitive.
//   - EQUALS (or no operator): some tag has the scope and the tag. NOTEQUALS: no tag has the
//     scope and that tag. IN and NOTIN take tags separated by commas: some tag / no tag with
//     the scope has one of them. So NOTEQUALS and NOTIN also select ports without the scope,
//     as Kubernetes' NotIn does (NSX does not document this case).
//   - scope_operator NOTEQUALS: no tag has the scope (Kubernetes' DoesNotExist).
//   - CONTAINS, STARTSWITH, ENDSWITH and MATCHES (a regular expression) look at the tag value
//     of tags with the scope.
//   - Key Name compares the port's (or segment's) display name.
//   - Other member types and keys select nothing: the snapshot has no VMs, pods or the like.

// pgroup is a Policy group's effective membership.
type pgroup struct {
	ports portSet
	// extra are the addresses of IP address expressions (nested ones included).
	extra AddrSet
	// addrs are every effective address: the member ports' and extra.
	addrs AddrSet
}

// policyGroups computes groups on demand, memoized; a cycle of path expressions contributes
// nothing to the group it loops back to.
type policyGroups struct {
	dp         *Dataplane
	snap       *PolicySnapshot
	done       map[string]*pgroup
	inProgress map[string]bool
	segPorts   map[string]portSet // segment path → ports on it
	// segmentPorts are the indexes of the ports that are segment ports; byTag, byScope and
	// byValue index their tags, lower-cased, so that the common condition (a tag EQUALS) is a
	// lookup rather than a scan of every port.
	segmentPorts            []int
	byTag, byScope, byValue map[string][]int
	segments                []string // keys of segPorts, sorted
}

// indexTags fills the tag indexes.
func (pg *policyGroups) indexTags() {
	pg.byTag, pg.byScope, pg.byValue = map[string][]int{}, map[string][]int{}, map[string][]int{}
	pg.segments = slices.Sorted(maps.Keys(pg.segPorts))
	for i := range pg.dp.ports {
		p := &pg.dp.ports[i]
		if p.policyPath == "" {
			continue
		}
		pg.segmentPorts = append(pg.segmentPorts, i)
		for _, t := range p.tags {
			scope, tag := strings.ToLower(t.Scope), strings.ToLower(t.Tag)
			pg.byTag[scope+"\x00"+tag] = append(pg.byTag[scope+"\x00"+tag], i)
			pg.byScope[scope] = append(pg.byScope[scope], i)
			pg.byValue[tag] = append(pg.byValue[tag], i)
		}
	}
}

// conditionPorts returns the ports a Condition selects.
func (pg *policyGroups) conditionPorts(e nsxclient.PolicyExpression, into portSet) {
	switch {
	case e.MemberType == nsxclient.MemberSegment:
		for _, seg := range pg.segments {
			s := pg.snap.Segments[seg]
			if (e.Key == nsxclient.ConditionKeyTag && tagConditionMatches(e, s.Tags)) ||
				(e.Key == nsxclient.ConditionKeyName && valueMatches(e.Operator, s.DisplayName, e.Value)) {
				into.addAll(pg.segPorts[seg])
			}
		}
		return
	case e.MemberType == nsxclient.MemberSegmentPort && e.Key == nsxclient.ConditionKeyTag &&
		(e.Operator == "" || e.Operator == nsxclient.OperatorEquals) && e.ScopeOperator != nsxclient.OperatorNotEquals:
		scope, tag := nsxclient.SplitTagValue(e.Value)
		scope, tag = strings.ToLower(scope), strings.ToLower(tag)
		var hits []int
		switch {
		case scope != "" && tag != "":
			hits = pg.byTag[scope+"\x00"+tag]
		case scope != "":
			hits = pg.byScope[scope]
		default:
			hits = pg.byValue[tag]
		}
		for _, i := range hits {
			into.add(i)
		}
		return
	}
	for _, i := range pg.segmentPorts {
		if pg.conditionMatches(e, &pg.dp.ports[i]) {
			into.add(i)
		}
	}
}

func (pg *policyGroups) get(path string) *pgroup {
	if g, ok := pg.done[path]; ok {
		return g
	}
	empty := &pgroup{ports: newPortSet(len(pg.dp.ports))}
	g, ok := pg.snap.Groups[path]
	if !ok || pg.inProgress[path] {
		return empty
	}
	pg.inProgress[path] = true
	m := pg.evalList(g.Expression)
	delete(pg.inProgress, path)
	var sets []AddrSet
	m.ports.each(func(i int) { sets = append(sets, pg.dp.ports[i].addrs) })
	m.addrs = unionAddrSets(append(sets, m.extra)...)
	pg.done[path] = m
	return m
}

// evalList evaluates an expression list: OR of AND-chains.
func (pg *policyGroups) evalList(list []nsxclient.PolicyExpression) *pgroup {
	out := &pgroup{ports: newPortSet(len(pg.dp.ports))}
	var chain *pgroup
	flush := func() {
		if chain != nil {
			out.ports.addAll(chain.ports)
			out.extra = unionAddrSets(out.extra, chain.extra)
		}
		chain = nil
	}
	for i := 0; i < len(list); i += 2 {
		term := pg.evalTerm(list[i])
		and := i > 0 && list[i-1].ConjunctionOperator == nsxclient.ConjunctionAnd
		if and && chain != nil {
			chain = intersect(chain, term)
			continue
		}
		flush()
		chain = term
	}
	flush()
	return out
}

func (pg *policyGroups) evalTerm(e nsxclient.PolicyExpression) *pgroup {
	t := &pgroup{ports: newPortSet(len(pg.dp.ports))}
	switch e.ResourceType {
	case nsxclient.ExprCondition:
		pg.conditionPorts(e, t.ports)
	case nsxclient.ExprNested:
		return pg.evalList(e.Expressions) // validation keeps nested lists AND-only
	case nsxclient.ExprIPAddress:
		t.extra = parseAddrEntries(e.IPAddresses)
	case nsxclient.ExprPath:
		for _, p := range e.Paths {
			switch {
			case hasKey(pg.snap.Groups, p):
				g := pg.get(p)
				t.ports.addAll(g.ports)
				t.extra = unionAddrSets(t.extra, g.extra)
			case hasKey(pg.snap.Segments, p):
				t.ports.addAll(pg.segPorts[p])
			default:
				if i, ok := pg.dp.portIndex[p]; ok {
					t.ports.add(i)
				}
			}
		}
	}
	return t
}

func hasKey[V any](m map[string]V, k string) bool {
	_, ok := m[k]
	return ok
}

func intersect(a, b *pgroup) *pgroup {
	out := &pgroup{ports: newPortSet(len(a.ports) * 64)}
	for i := range a.ports {
		out.ports[i] = a.ports[i] & b.ports[i]
	}
	out.extra = intersectAddrSets(a.extra, b.extra)
	return out
}

// conditionMatches reports whether one Condition selects a port.
func (pg *policyGroups) conditionMatches(e nsxclient.PolicyExpression, p *portInfo) bool {
	if p.policyPath == "" {
		return false // a port created through the Manager API is no Policy segment port
	}
	var tags []nsxclient.Tag
	var name string
	switch e.MemberType {
	case nsxclient.MemberSegmentPort:
		tags, name = p.tags, p.name
	case nsxclient.MemberSegment:
		seg := pg.snap.Segments[p.segment]
		tags, name = seg.Tags, seg.DisplayName
	default:
		return false
	}
	switch e.Key {
	case nsxclient.ConditionKeyTag:
		return tagConditionMatches(e, tags)
	case nsxclient.ConditionKeyName:
		return valueMatches(e.Operator, name, e.Value)
	}
	return false
}

func tagConditionMatches(e nsxclient.PolicyExpression, tags []nsxclient.Tag) bool {
	scope, tag := nsxclient.SplitTagValue(e.Value)
	withScope := func(t nsxclient.Tag) bool { return scope == "" || strings.EqualFold(t.Scope, scope) }
	some := func(pred func(t nsxclient.Tag) bool) bool { return slices.ContainsFunc(tags, pred) }
	if e.ScopeOperator == nsxclient.OperatorNotEquals && e.Operator == "" {
		return !some(func(t nsxclient.Tag) bool { return strings.EqualFold(t.Scope, scope) })
	}
	listed := func(t nsxclient.Tag) bool {
		return slices.ContainsFunc(strings.Split(tag, ","), func(v string) bool { return strings.EqualFold(t.Tag, strings.TrimSpace(v)) })
	}
	switch e.Operator {
	case "", nsxclient.OperatorEquals:
		return some(func(t nsxclient.Tag) bool { return withScope(t) && (tag == "" || strings.EqualFold(t.Tag, tag)) })
	case nsxclient.OperatorNotEquals:
		return !some(func(t nsxclient.Tag) bool { return withScope(t) && strings.EqualFold(t.Tag, tag) })
	case nsxclient.OperatorIn:
		return some(func(t nsxclient.Tag) bool { return withScope(t) && listed(t) })
	case nsxclient.OperatorNotIn:
		return !some(func(t nsxclient.Tag) bool { return withScope(t) && listed(t) })
	}
	return some(func(t nsxclient.Tag) bool { return withScope(t) && valueMatches(e.Operator, t.Tag, tag) })
}

// valueMatches applies CONTAINS, STARTSWITH, ENDSWITH, MATCHES or EQUALS, case-insensitively.
func valueMatches(op, have, want string) bool {
	h, w := strings.ToLower(have), strings.ToLower(want)
	switch op {
	case "", nsxclient.OperatorEquals:
		return h == w
	case nsxclient.OperatorNotEquals:
		return h != w
	case opContains:
		return strings.Contains(h, w)
	case opStartsWith:
		return strings.HasPrefix(h, w)
	case opEndsWith:
		return strings.HasSuffix(h, w)
	case "MATCHES":
		re, err := regexp.Compile("(?i)^(?:" + want + ")$")
		return err == nil && re.MatchString(have)
	}
	return false
}

// PolicyGroupMembers returns a Policy group's effective segment ports (paths, sorted) and
// addresses; ok is false for an unknown group.
func (dp *Dataplane) PolicyGroupMembers(path string) (ports []string, addrs AddrSet, ok bool) {
	if dp.policy == nil {
		return nil, AddrSet{}, false
	}
	g, found := dp.policy.groups[path]
	if !found {
		return nil, AddrSet{}, false
	}
	g.ports.each(func(i int) {
		if pp := dp.ports[i].policyPath; pp != "" {
			ports = append(ports, pp)
		}
	})
	slices.Sort(ports)
	return ports, g.addrs, true
}
