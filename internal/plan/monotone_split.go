package plan

import (
	"slices"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/nsxclient"
)

// Splitting a mixed rule update into a narrowing and a widening write (see monotone.go).

// splitUpdate turns a mixed rule update into two writes that are each narrowing or widening: the
// first (returned, with its kind) takes the rule to an intermediate form, the second (the update
// itself, of secondKind) to the desired one. The intermediate is the rule disabled (removing it,
// then adding the new one) — except for a DROP/REJECT that stays one, where removing it first
// would widen before the new denial is in: there it is one rule matching both the old and the
// new match (entry lists united, "any" where a list cannot be), which only adds denials, then
// narrows to the new match. ok is false when that union passes a limit or the direction changes.
func splitUpdate(cur *nsxclient.FirewallRule, s *Step, limits ir.Limits, exists func(nsxclient.ResourceReference) bool) (first Step, firstKind, secondKind writeKind, ok bool) {
	if cur == nil || s.Rule == nil {
		return Step{}, 0, 0, false
	}
	// The intermediate keeps references of the current rule: each must still resolve.
	for _, list := range [][]nsxclient.ResourceReference{cur.AppliedTos, cur.Sources, cur.Destinations} {
		for _, r := range list {
			if !exists(r) {
				return Step{}, 0, 0, false
			}
		}
	}
	inter := *cur
	first = *s
	first.Reason = s.Reason + " (first of two writes: "
	switch {
	case verdictOf(cur) != "deny" || verdictOf(s.Rule) != "deny":
		inter.Disabled = true
		first.Reason += "the old rule disabled)"
		firstKind, secondKind = deleteKind(cur), createKind(s.Rule)
	default:
		u, fits := unionMatch(cur, s.Rule, limits)
		if !fits {
			return Step{}, 0, 0, false
		}
		inter = u
		first.Reason += "a denial of both the old and the new match)"
		firstKind, secondKind = writeNarrowing, writeWidening
	}
	if firstKind == writeWidening && secondKind == writeNarrowing {
		return Step{}, 0, 0, false // cannot happen: kept as a guard against a wrong order
	}
	first.Rule = &inter
	return first, firstKind, secondKind, true
}

// unionMatch is a deny rule matching everything old or new matches: new's body with every field
// the union of both (IPV4_IPV6 for different families, "any" for lists that cannot be united).
func unionMatch(old, new *nsxclient.FirewallRule, limits ir.Limits) (nsxclient.FirewallRule, bool) {
	u := *new
	u.ID, u.Revision = old.ID, old.Revision
	if orDefault(old.Direction, nsxclient.DirectionInOut) != orDefault(new.Direction, nsxclient.DirectionInOut) {
		return u, false
	}
	if orDefault(old.IPProtocol, nsxclient.IPProtocolIPv4IPv6) != orDefault(new.IPProtocol, nsxclient.IPProtocolIPv4IPv6) {
		u.IPProtocol = nsxclient.IPProtocolIPv4IPv6
	}
	var fits bool
	if u.AppliedTos, fits = unionRefs(old.AppliedTos, new.AppliedTos, limits.MaxRefsPerField); !fits || len(u.AppliedTos) == 0 {
		return u, false
	}
	u.Sources, u.SourcesExcluded = unionList(old.Sources, old.SourcesExcluded, new.Sources, new.SourcesExcluded, limits.MaxRefsPerField)
	u.Destinations, u.DestinationsExcluded = unionList(old.Destinations, old.DestinationsExcluded, new.Destinations, new.DestinationsExcluded, limits.MaxRefsPerField)
	if len(old.Services) == 0 || len(new.Services) == 0 {
		u.Services = nil
	} else {
		u.Services = slices.Clone(new.Services)
		for _, x := range old.Services {
			if !slices.ContainsFunc(u.Services, func(y nsxclient.FirewallService) bool { return serviceString(x) == serviceString(y) }) {
				u.Services = append(u.Services, x)
			}
		}
		if len(u.Services) > limits.MaxServicesPerRule {
			u.Services = nil // any service: still a superset of both
		}
	}
	return u, matchContains(&u, old) && matchContains(&u, new)
}

// unionRefs unites two reference lists (fits is false past max entries).
func unionRefs(a, b []nsxclient.ResourceReference, max int) ([]nsxclient.ResourceReference, bool) {
	out := slices.Clone(a)
	for _, r := range b {
		if !slices.ContainsFunc(out, func(x nsxclient.ResourceReference) bool {
			return x.TargetType == r.TargetType && x.TargetID == r.TargetID
		}) {
			out = append(out, r)
		}
	}
	return out, len(out) <= max
}

// unionList is a list matching whatever either list matches: the entries of both, the entries
// two excluded lists share (excluded), or "any" when that is all that fits.
func unionList(a []nsxclient.ResourceReference, aExcluded bool, b []nsxclient.ResourceReference, bExcluded bool, max int) ([]nsxclient.ResourceReference, bool) {
	switch {
	case len(a) == 0 || len(b) == 0:
		return nil, false
	case !aExcluded && !bExcluded:
		if u, fits := unionRefs(a, b, max); fits {
			return u, false
		}
	case aExcluded && bExcluded:
		var both []nsxclient.ResourceReference
		for _, r := range a {
			if slices.ContainsFunc(b, func(x nsxclient.ResourceReference) bool {
				return x.TargetType == r.TargetType && x.TargetID == r.TargetID
			}) {
				both = append(both, r)
			}
		}
		if len(both) > 0 {
			return both, true
		}
	}
	return nil, false
}
