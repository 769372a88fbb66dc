package plan

import (
	"slices"

	"github.com/microseg/microseg/nsxclient"
)

// How one rule write changes the verdict at its side (see monotone.go): narrowing, widening,
// mixed, or neither, decided by whether one rule's match contains the other's.

// verdictOf is what a matching rule does: "allow", "deny", or "" when it is disabled.
func verdictOf(r *nsxclient.FirewallRule) string {
	switch {
	case r == nil || r.Disabled:
		return ""
	case r.Action == nsxclient.ActionAllow:
		return "allow"
	}
	return "deny" // DROP, REJECT
}

func createKind(r *nsxclient.FirewallRule) writeKind {
	switch verdictOf(r) {
	case "allow":
		return writeWidening
	case "deny":
		return writeNarrowing
	}
	return writeNeutral
}

// deleteKind is the opposite of creating the rule.
func deleteKind(r *nsxclient.FirewallRule) writeKind {
	switch k := createKind(r); k {
	case writeWidening:
		return writeNarrowing
	case writeNarrowing:
		return writeWidening
	default:
		return k
	}
}

func updateKind(old, new *nsxclient.FirewallRule) writeKind {
	if old == nil {
		return writeMixed
	}
	vo, vn := verdictOf(old), verdictOf(new)
	switch {
	case vo == "" && vn == "":
		return writeNeutral
	case vo == "":
		return createKind(new)
	case vn == "":
		return deleteKind(old)
	case vo != vn:
		return writeMixed
	}
	wider, narrower := matchContains(new, old), matchContains(old, new)
	switch {
	case wider && narrower:
		return writeNeutral
	case !wider && !narrower:
		return writeMixed
	case wider == (vn == "allow"): // a wider allow, or a narrower deny
		return writeWidening
	}
	return writeNarrowing
}

// matchContains reports whether every flow b matches, a matches too (comparing the rules as
// written: entry sets, "any" lists, address families).
func matchContains(a, b *nsxclient.FirewallRule) bool {
	if orDefault(a.Direction, nsxclient.DirectionInOut) != orDefault(b.Direction, nsxclient.DirectionInOut) {
		return false
	}
	if pa := orDefault(a.IPProtocol, nsxclient.IPProtocolIPv4IPv6); pa != nsxclient.IPProtocolIPv4IPv6 && pa != orDefault(b.IPProtocol, nsxclient.IPProtocolIPv4IPv6) {
		return false
	}
	svc := func(r *nsxclient.FirewallRule) []string {
		out := make([]string, len(r.Services))
		for i, s := range r.Services {
			out[i] = serviceString(s)
		}
		return out
	}
	return listContains(refStrings(a.AppliedTos), false, refStrings(b.AppliedTos), false) &&
		listContains(refStrings(a.Sources), a.SourcesExcluded, refStrings(b.Sources), b.SourcesExcluded) &&
		listContains(refStrings(a.Destinations), a.DestinationsExcluded, refStrings(b.Destinations), b.DestinationsExcluded) &&
		listContains(svc(a), false, svc(b), false)
}

// listContains compares two lists of entries, each "any" when empty and the complement of its
// entries when excluded.
func listContains(a []string, aExcluded bool, b []string, bExcluded bool) bool {
	subset := func(small, big []string) bool {
		for _, x := range small {
			if !slices.Contains(big, x) {
				return false
			}
		}
		return true
	}
	switch {
	case len(a) == 0:
		return true
	case len(b) == 0:
		return false
	case !aExcluded && !bExcluded:
		return subset(b, a)
	case aExcluded && bExcluded:
		return subset(a, b)
	}
	return false
}
