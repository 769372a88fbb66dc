package nsxsim

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/microseg/microseg/nsxclient"
)

// Reference target types the simulator does not model as objects; references to them are accepted
// without an existence check.
const (
	targetLogicalSwitch     = "LogicalSwitch"
	targetLogicalRouter     = "LogicalRouter"
	targetLogicalRouterPort = "LogicalRouterPort"
	targetMACSet            = "MACSet"
)

// Allowed target types per reference list (vendor spec 2.5.1; terraform-provider-nsxt).
var (
	ruleEndpointTypes = []string{nsxclient.TargetNSGroup, nsxclient.TargetIPSet, nsxclient.TargetLogicalPort,
		targetLogicalSwitch, targetMACSet, nsxclient.TargetIPv4Address, nsxclient.TargetIPv6Address}
	ruleAppliedToTypes    = []string{nsxclient.TargetNSGroup, targetLogicalSwitch, nsxclient.TargetLogicalPort, targetLogicalRouterPort, targetLogicalRouter}
	sectionAppliedToTypes = []string{nsxclient.TargetNSGroup, targetLogicalSwitch, targetLogicalRouter, nsxclient.TargetLogicalPort}
)

// checkRefs validates a reference list: size, field lengths, target type, and that modelled targets
// exist. A reference to a missing object is refused with 400 (NSX checks that
// referenced objects exist).
func (st *state) checkRefs(f *fieldErrors, field string, refs []nsxclient.ResourceReference, allowed []string) {
	f.maxItems(field, len(refs), maxRefsPerList)
	for _, r := range refs {
		f.reference(field, r)
		if !slices.Contains(allowed, r.TargetType) {
			f.enum(field+".target_type", r.TargetType, allowed...)
			if r.TargetType == "" {
				f.required(field+".target_type", true)
			}
			continue
		}
		if msg := st.checkTarget(r.TargetType, r.TargetID); msg != "" {
			f.add("%s: %s", field, msg)
		}
	}
}

// checkTarget returns why a reference target is unacceptable, or "".
func (st *state) checkTarget(targetType, id string) string {
	switch targetType {
	case nsxclient.TargetIPv4Address, nsxclient.TargetIPv6Address:
		// Whether ranges are accepted is UNCONFIRMED; we accept an address or a
		// CIDR only, so a client that works here does not depend on ranges.
		want4 := targetType == nsxclient.TargetIPv4Address
		addr, err := netip.ParseAddr(id)
		if err != nil {
			p, perr := netip.ParsePrefix(id)
			if perr != nil {
				return fmt.Sprintf("%s %q is not an IP address or CIDR", targetType, id)
			}
			addr = p.Addr()
		}
		if addr.Is4() != want4 {
			return fmt.Sprintf("%q is not an %s", id, targetType)
		}
		return ""
	}
	if id == "" {
		return ""
	}
	if _, ok := st.targetName(targetType, id); !ok {
		return fmt.Sprintf("%s %s does not exist", targetType, id)
	}
	return ""
}

// targetName returns the display name of a reference target and whether it exists. Unmodelled
// types always exist; literal addresses name themselves.
func (st *state) targetName(targetType, id string) (string, bool) {
	switch targetType {
	case nsxclient.TargetNSGroup:
		if g, ok := st.groups.get(id); ok {
			return g.DisplayName, true
		}
		return "", false
	case nsxclient.TargetIPSet:
		if s, ok := st.ipsets.get(id); ok {
			return s.DisplayName, true
		}
		return "", false
	case nsxclient.TargetLogicalPort:
		if p, ok := st.ports.get(id); ok {
			return p.DisplayName, true
		}
		return "", false
	}
	return id, true
}

// nameRefs fills target_display_name at write time, so the name survives a forced delete of the
// target (NSX keeps showing the reference, flagged is_valid=false).
func (st *state) nameRefs(refs []nsxclient.ResourceReference) []nsxclient.ResourceReference {
	if refs == nil {
		return nil
	}
	out := make([]nsxclient.ResourceReference, len(refs))
	for i, r := range refs {
		r.IsValid = nil
		if name, ok := st.targetName(r.TargetType, r.TargetID); ok {
			r.TargetDisplayName = name
		}
		out[i] = r
	}
	return out
}

// viewRefs is the read-time form of a reference list: current names and is_valid.
func (st *state) viewRefs(refs []nsxclient.ResourceReference) []nsxclient.ResourceReference {
	if refs == nil {
		return nil
	}
	out := make([]nsxclient.ResourceReference, len(refs))
	for i, r := range refs {
		name, ok := st.targetName(r.TargetType, r.TargetID)
		if ok {
			r.TargetDisplayName = name
		}
		valid := ok
		r.IsValid = &valid
		out[i] = r
	}
	return out
}

func refsContain(refs []nsxclient.ResourceReference, targetType, id string) bool {
	for _, r := range refs {
		if r.TargetType == targetType && r.TargetID == id {
			return true
		}
	}
	return false
}

// referrers lists who references an object: group expressions, rules and section applied_tos.
// The result feeds the in-use (400/500030) refusal of a non-forced delete.
func (st *state) referrers(targetType, id string) []string {
	var by []string
	for _, g := range st.groups.list() {
		if g.ID != id && groupReferences(g, targetType, id) {
			by = append(by, "NSGroup/"+g.ID)
		}
	}
	for _, layer := range sortedLayers(st.sectionOrder) {
		for _, sid := range st.sectionOrder[layer] {
			if refsContain(st.sections[sid].AppliedTos, targetType, id) {
				by = append(by, "FirewallSection/"+sid)
			}
			for _, r := range st.rules[sid] {
				if refsContain(r.Sources, targetType, id) || refsContain(r.Destinations, targetType, id) ||
					refsContain(r.AppliedTos, targetType, id) {
					by = append(by, "FirewallRule/"+r.ID)
				}
			}
		}
	}
	return by
}

// groupReferences reports whether a group names the object in a static member or in a simple
// expression of its criteria.
func groupReferences(g *nsxclient.NSGroup, targetType, id string) bool {
	var walk func(exprs []nsxclient.NSGroupExpression) bool
	walk = func(exprs []nsxclient.NSGroupExpression) bool {
		for _, e := range exprs {
			if e.ResourceType == nsxclient.ExprSimple && e.TargetType == targetType && e.Value == id {
				return true
			}
			if walk(e.Expressions) {
				return true
			}
		}
		return false
	}
	return walk(g.Members) || walk(g.MembershipCriteria)
}

func sortedLayers(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
