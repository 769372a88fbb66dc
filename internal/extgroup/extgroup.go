// Package extgroup is how every backend treats references to NSX groups microseg does not own
// (a ClusterSecurityPolicy's nsxGroups peers, a nested group's external members): resolved by
// display name to the identifier the backend uses (a Manager id, a Policy path), and, when a
// name does not resolve, realized fail-closed — never more permissive than the policy, whatever
// members the group would have had:
//
//   - an ALLOW rule drops the unresolvable entries from a sources/destinations list (a group that
//     does not exist has no members); if nothing is left, or the list is an excluded one ("not in
//     X", where X could be everything), the rule is left out: it allows nothing;
//   - a DROP or REJECT rule treats the entry as "everything": a plain list becomes "any", an
//     excluded list loses the entry ("not in X" with X unknown is widened to all but the rest).
//
// A nested group with a missing external member is realized with the members that exist, and
// every rule referencing it is treated as if the group itself were missing.
package extgroup

import (
	"fmt"
	"strings"

	"github.com/microseg/microseg/internal/ir"
)

// Names maps the display names of the groups microseg does not own to their identifiers.
type Names map[string][]string

// Resolve returns the identifier of the group named name, or why it cannot (missing, ambiguous).
func (n Names) Resolve(name string) (id, why string) {
	switch ids := n[name]; len(ids) {
	case 0:
		return "", fmt.Sprintf("NSX group %q does not exist", name)
	case 1:
		return ids[0], ""
	default:
		return "", fmt.Sprintf("NSX group name %q is ambiguous (%d groups: %s)", name, len(ids), strings.Join(ids, ", "))
	}
}

// Incomplete records in into the nested groups of groups that lack an external member,
// transitively, with why; order lists the group keys members first.
func (n Names) Incomplete(groups map[string]*ir.Group, order []string, into map[string]string) {
	for _, key := range order {
		g := groups[key]
		if g.Kind != ir.KindNestedGroup {
			continue
		}
		for _, name := range g.ExternalMembers {
			if _, why := n.Resolve(name); why != "" {
				into[key] = why
			}
		}
		for _, m := range g.Members {
			if why, bad := into[m]; bad {
				into[key] = why
			}
		}
	}
}

// FailClosed applies the fail-closed policy to one reference list whose resolvable entries are
// out: unresolved says some entry did not resolve, allow whether the rule allows. nothing says
// the rule matches nothing and is left out; an empty out (with nothing false) means "any".
func FailClosed[T any](out []T, excluded, allow, unresolved bool) (list []T, outExcluded, nothing bool) {
	switch {
	case !unresolved:
		return out, excluded, false
	case allow && (excluded || len(out) == 0):
		return nil, false, true
	case allow:
		return out, false, false
	case !excluded:
		return nil, false, false
	default:
		return out, len(out) > 0, false
	}
}
