package nsxsim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/microseg/microseg/nsxclient"
)

// Rule actions that belong to service insertion (L3REDIRECT sections) only.
const (
	actionRedirect      = "REDIRECT"
	actionDoNotRedirect = "DO_NOT_REDIRECT"
)

// Reference target types for services; the simulator models no NSService objects.
const (
	targetNSService      = "NSService"
	targetNSServiceGroup = "NSServiceGroup"
)

// validateRule checks the client-writable fields of one rule (vendor spec 2.5.1: FirewallRule, FirewallService).
func (st *state) validateRule(f *fieldErrors, field string, r nsxclient.FirewallRule, sectionType string) {
	f.maxLen(field+"display_name", r.DisplayName, maxDisplayName)
	f.maxLen(field+"description", r.Description, maxDescription)
	f.required(field+"action", r.Action == "")
	f.enum(field+"action", r.Action, nsxclient.ActionAllow, nsxclient.ActionDrop, nsxclient.ActionReject, actionRedirect, actionDoNotRedirect)
	redirect := r.Action == actionRedirect || r.Action == actionDoNotRedirect
	if redirect != (sectionType == sectionL3Redirect) && r.Action != "" {
		f.add("%saction %s is not allowed in a %s section", field, r.Action, sectionType)
	}
	f.enum(field+"direction", r.Direction, nsxclient.DirectionIn, nsxclient.DirectionOut, nsxclient.DirectionInOut)
	f.enum(field+"ip_protocol", r.IPProtocol, nsxclient.IPProtocolIPv4, nsxclient.IPProtocolIPv6, nsxclient.IPProtocolIPv4IPv6)
	f.maxLen(field+"notes", r.Notes, maxNotes)
	f.maxLen(field+"rule_tag", r.RuleTag, maxRuleTag)
	st.checkRefs(f, field+"sources", r.Sources, ruleEndpointTypes)
	st.checkRefs(f, field+"destinations", r.Destinations, ruleEndpointTypes)
	st.checkRefs(f, field+"applied_tos", r.AppliedTos, ruleAppliedToTypes)
	f.maxItems(field+"services", len(r.Services), maxRefsPerList)
	for _, svc := range r.Services {
		validateService(f, field+"services", svc)
	}
}

// validateService checks one FirewallService: a reference or an inline element.
func validateService(f *fieldErrors, field string, svc nsxclient.FirewallService) {
	if svc.Service == nil {
		f.required(field+".target_id", svc.TargetID == "")
		f.maxLen(field+".target_id", svc.TargetID, maxTargetID)
		f.enum(field+".target_type", svc.TargetType, targetNSService, targetNSServiceGroup)
		if svc.TargetID != "" {
			// The simulator models no NSService objects, so every service reference is dangling.
			f.add("%s: %s %s does not exist", field, svc.TargetType, svc.TargetID)
		}
		return
	}
	el := svc.Service
	field += ".service"
	f.required(field+".resource_type", el.ResourceType == "")
	switch el.ResourceType {
	case "":
	case nsxclient.ServiceL4PortSet:
		f.required(field+".l4_protocol", el.L4Protocol == "")
		f.enum(field+".l4_protocol", el.L4Protocol, nsxclient.L4ProtocolTCP, nsxclient.L4ProtocolUDP)
		f.maxItems(field+".source_ports", len(el.SourcePorts), maxPortsPerL4Entry)
		f.maxItems(field+".destination_ports", len(el.DestinationPorts), maxPortsPerL4Entry)
		for _, p := range slices.Concat(el.SourcePorts, el.DestinationPorts) {
			if msg := checkPortOrRange(p); msg != "" {
				f.add("%s: %s", field, msg)
			}
		}
	case nsxclient.ServiceICMPType:
		f.required(field+".protocol", el.Protocol == "")
		f.enum(field+".protocol", el.Protocol, "ICMPv4", "ICMPv6")
		checkByte(f, field+".icmp_type", el.ICMPType)
		checkByte(f, field+".icmp_code", el.ICMPCode)
	case nsxclient.ServiceIPProtocol:
		f.required(field+".protocol_number", el.ProtocolNumber == nil)
		checkByte(f, field+".protocol_number", el.ProtocolNumber)
	case "EtherTypeNSService", "IGMPTypeNSService", "ALGTypeNSService":
		f.add("%s.resource_type %s is valid NSX but not supported by the simulator", field, el.ResourceType)
	default:
		f.enum(field+".resource_type", el.ResourceType, "EtherTypeNSService", "IPProtocolNSService",
			"IGMPTypeNSService", "ICMPTypeNSService", "ALGTypeNSService", "L4PortSetNSService")
	}
}

func checkByte(f *fieldErrors, field string, v *int64) {
	if v != nil && (*v < 0 || *v > 255) {
		f.add("%s must be between 0 and 255", field)
	}
}

// checkPortOrRange validates the spec's port-or-range format: "80" or "8000-8080". A range must
// be non-empty: "22-22" is refused ("NSX API requires a non-empty range", a comment in VMware's nsxlib).
func checkPortOrRange(p string) string {
	lo, hi, isRange := strings.Cut(p, "-")
	parse := func(s string) (int, bool) {
		n, err := strconv.Atoi(s)
		return n, err == nil && n >= 0 && n <= 65535 && s == strconv.Itoa(n)
	}
	a, okA := parse(lo)
	if !isRange {
		if !okA {
			return fmt.Sprintf("port %q is not a port number", p)
		}
		return ""
	}
	b, okB := parse(hi)
	if !okA || !okB || a >= b {
		return fmt.Sprintf("port range %q is not a non-empty range min-max", p)
	}
	return ""
}

// writableRule keeps the client-writable fields of a rule body and applies the spec defaults.
func (st *state) writableRule(in nsxclient.FirewallRule) *nsxclient.FirewallRule {
	r := &nsxclient.FirewallRule{
		DisplayName:          in.DisplayName,
		Description:          in.Description,
		Action:               in.Action,
		Direction:            in.Direction,
		IPProtocol:           in.IPProtocol,
		Sources:              st.nameRefs(in.Sources),
		Destinations:         st.nameRefs(in.Destinations),
		SourcesExcluded:      in.SourcesExcluded,
		DestinationsExcluded: in.DestinationsExcluded,
		Services:             cloneServices(in.Services),
		AppliedTos:           st.nameRefs(in.AppliedTos),
		Logged:               in.Logged,
		Disabled:             in.Disabled,
		Notes:                in.Notes,
		RuleTag:              in.RuleTag,
	}
	if r.Direction == "" {
		r.Direction = nsxclient.DirectionInOut
	}
	if r.IPProtocol == "" {
		r.IPProtocol = nsxclient.IPProtocolIPv4IPv6
	}
	return r
}

func cloneServices(in []nsxclient.FirewallService) []nsxclient.FirewallService {
	if in == nil {
		return nil
	}
	out := make([]nsxclient.FirewallService, len(in))
	for i, s := range in {
		s.IsValid = nil
		if s.Service != nil {
			el := *s.Service
			el.SourcePorts = slices.Clone(el.SourcePorts)
			el.DestinationPorts = slices.Clone(el.DestinationPorts)
			s.Service = &el
		}
		out[i] = s
	}
	return out
}

// ruleView is the read form of a rule: priority (1-based position in its section), section_id
// and reference validity filled in.
func (st *state) ruleView(r *nsxclient.FirewallRule, index int) nsxclient.FirewallRule {
	v := *r
	v.Priority = int64(index + 1)
	v.Sources = st.viewRefs(r.Sources)
	v.Destinations = st.viewRefs(r.Destinations)
	v.AppliedTos = st.viewRefs(r.AppliedTos)
	return v
}

func (st *state) ruleViews(sectionID string) []nsxclient.FirewallRule {
	rules := st.rules[sectionID]
	out := make([]nsxclient.FirewallRule, len(rules))
	for i, r := range rules {
		out[i] = st.ruleView(r, i)
	}
	return out
}

// refFilter is the sources / destinations / applied_tos / services id filter of list calls, and
// search_invalid_references (rules holding a reference whose target was force-deleted). Each id
// filter takes one id or a comma-separated list of ids (matching any of them): the spec types the
// parameters as plain strings, and whether a real manager accepts lists is UNCONFIRMED; accepting
// them keeps the client's multi-id filters usable here.
type refFilter struct {
	sources, destinations, appliedTos, services []string
	invalidOnly                                 bool
}

func refQuery(c *call) refFilter {
	return refFilter{
		sources:      splitIDs(c.query.Get("sources")),
		destinations: splitIDs(c.query.Get("destinations")),
		appliedTos:   splitIDs(c.query.Get("applied_tos")),
		services:     splitIDs(c.query.Get("services")),
		invalidOnly:  c.query.Get("search_invalid_references") == "true",
	}
}

// splitIDs splits a comma-separated query value, dropping empty entries.
func splitIDs(v string) []string {
	var ids []string
	for _, id := range strings.Split(v, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

func (q refFilter) hasIDs() bool {
	return len(q.sources)+len(q.destinations)+len(q.appliedTos)+len(q.services) > 0
}

func (q refFilter) empty() bool { return !q.hasIDs() && !q.invalidOnly }

// matches reports whether a rule passes the filter; the id filters are ORed, the invalid filter
// is ANDed with them.
func (q refFilter) matches(st *state, r *nsxclient.FirewallRule) bool {
	if q.invalidOnly && !st.hasInvalidRef(r.Sources, r.Destinations, r.AppliedTos) {
		return false
	}
	if !q.hasIDs() {
		return true
	}
	svcMatch := slices.ContainsFunc(r.Services, func(s nsxclient.FirewallService) bool {
		return s.TargetID != "" && slices.Contains(q.services, s.TargetID)
	})
	return refsHaveAnyID(r.Sources, q.sources) || refsHaveAnyID(r.Destinations, q.destinations) ||
		refsHaveAnyID(r.AppliedTos, q.appliedTos) || svcMatch
}

// hasInvalidRef reports whether any reference names an object that no longer exists.
func (st *state) hasInvalidRef(lists ...[]nsxclient.ResourceReference) bool {
	for _, refs := range lists {
		for _, r := range refs {
			if _, ok := st.targetName(r.TargetType, r.TargetID); !ok {
				return true
			}
		}
	}
	return false
}

func refsHaveAnyID(refs []nsxclient.ResourceReference, ids []string) bool {
	return slices.ContainsFunc(refs, func(r nsxclient.ResourceReference) bool { return slices.Contains(ids, r.TargetID) })
}
