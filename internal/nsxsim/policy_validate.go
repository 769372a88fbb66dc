package nsxsim

import (
	"fmt"
	"slices"
	"strings"

	"github.com/microseg/microseg/nsxclient"
)

// Field validation of Policy objects, each problem a sentence; the write fails with all of them
// (400, error_code 255). Limits and enums as docs/nsx-policy-api.md lists them. References are
// checked later, on the whole transaction (policy_checks.go).

const (
	maxPolicyRefs       = 128  // entries of source_groups, destination_groups, services, scope
	maxIPExprEntries    = 4000 // entries of one IPAddressExpression
	maxCriteria         = 5    // non-conjunction members of Group.expression
	maxConditionsOneTyp = 5    // conditions of one member type in a criterion
	maxConditionsMixed  = 15   // conditions of mixed member types in a criterion
	maxConditionsGroup  = 35   // conditions in a group
)

var (
	policyCategories = []string{nsxclient.CategoryEthernet, nsxclient.CategoryEmergency, nsxclient.CategoryInfrastructure,
		nsxclient.CategoryEnvironment, nsxclient.CategoryApplication}
	policyActions = []string{nsxclient.ActionAllow, nsxclient.ActionDrop, nsxclient.ActionReject, nsxclient.ActionJumpToApplication}
)

type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

func (p *problems) enum(field, value string, allowed []string) {
	if value != "" && !slices.Contains(allowed, value) {
		p.add("%s has invalid value %q; allowed values are [%s]", field, value, strings.Join(allowed, ", "))
	}
}

func (p *problems) resource(r *nsxclient.PolicyResource) {
	if len(r.DisplayName) > maxDisplayName {
		p.add("display_name has exceeded maximum length %d", maxDisplayName)
	}
	if len(r.Description) > maxDescription {
		p.add("description has exceeded maximum length %d", maxDescription)
	}
	if len(r.Tags) > maxTags {
		p.add("tags has exceeded maximum size %d", maxTags)
	}
	for _, t := range r.Tags {
		if len(t.Scope) > maxTagScope || len(t.Tag) > maxTagValue {
			p.add("tag %q|%q is too long (scope at most %d, tag at most %d characters)", t.Scope, t.Tag, maxTagScope, maxTagValue)
		}
	}
}

// validatePolicyObject returns the field problems of an object about to be stored.
func validatePolicyObject(obj any) []string {
	var p problems
	p.resource(policyResourceOf(obj))
	switch o := obj.(type) {
	case *nsxclient.PolicyGroup:
		validateExpressionList(&p, "expression", o.Expression, false)
		p.enumEach("group_type", o.GroupType, []string{"IPAddress", "ANTREA", "BareMetalServer"})
	case *nsxclient.SecurityPolicy:
		validateSecurityPolicy(&p, o)
	case *nsxclient.PolicyRule:
		validateRule(&p, o)
	case *nsxclient.SegmentPort:
		validateSegmentPort(&p, o)
	}
	return p
}

func (p *problems) enumEach(field string, values, allowed []string) {
	for _, v := range values {
		p.enum(field, v, allowed)
	}
}

func validateSecurityPolicy(p *problems, o *nsxclient.SecurityPolicy) {
	p.enum("category", o.Category, policyCategories)
	if o.SequenceNumber < 0 || o.SequenceNumber > nsxclient.MaxSequenceNumber {
		p.add("sequence_number %d is outside 0 to %d", o.SequenceNumber, nsxclient.MaxSequenceNumber)
	}
	if o.Category == nsxclient.CategoryEthernet && *o.Stateful {
		p.add("an Ethernet (layer-2) policy must be stateless")
	}
	if o.TCPStrict != nil && *o.TCPStrict && !*o.Stateful {
		p.add("tcp_strict is only valid on a stateful policy")
	}
	validatePathList(p, "scope", o.Scope, false)
}

func validateRule(p *problems, o *nsxclient.PolicyRule) {
	if o.Action == "" {
		p.add("action is a required field")
	}
	p.enum("action", o.Action, policyActions)
	for field, list := range map[string][]string{"source_groups": o.SourceGroups, "destination_groups": o.DestinationGroups} {
		if len(list) == 0 {
			p.add("%s is a required field: give group paths, addresses, or [\"ANY\"]", field)
		}
		validatePathList(p, field, list, true)
	}
	if len(o.Services) == 0 {
		p.add("services is a required field: give service paths or [\"ANY\"]")
	}
	validatePathList(p, "services", o.Services, false)
	validatePathList(p, "scope", o.Scope, false)
	p.enum("direction", o.Direction, []string{nsxclient.DirectionIn, nsxclient.DirectionOut, nsxclient.DirectionInOut})
	p.enum("ip_protocol", o.IPProtocol, []string{nsxclient.IPProtocolIPv4, nsxclient.IPProtocolIPv6, nsxclient.IPProtocolIPv4IPv6})
	if o.SequenceNumber < 0 {
		p.add("sequence_number must not be negative")
	}
	for i, e := range o.ServiceEntries {
		validateServiceEntry(p, fmt.Sprintf("service_entries[%d]", i), e)
	}
}

// validatePathList checks an ANY-or-paths list: ANY alone, at most 128 entries, each a path (or,
// where addresses are allowed, an address, CIDR or range).
func validatePathList(p *problems, field string, list []string, addresses bool) {
	if len(list) > maxPolicyRefs {
		p.add("%s has exceeded maximum size %d", field, maxPolicyRefs)
	}
	for _, v := range list {
		switch {
		case strings.EqualFold(v, anyPath):
			if len(list) > 1 {
				p.add("%s: ANY must be the only element", field)
			}
		case strings.HasPrefix(v, "/"):
		case addresses:
			if _, err := parseAddressOrBlockOrRange(v); err != nil {
				p.add("%s: %q is neither a path nor an address, CIDR or range", field, v)
			}
		default:
			p.add("%s: %q is not a path", field, v)
		}
	}
}

func validateServiceEntry(p *problems, field string, e nsxclient.ServiceEntry) {
	switch e.ResourceType {
	case nsxclient.ServiceEntryL4PortSet:
		if e.L4Protocol != nsxclient.L4ProtocolTCP && e.L4Protocol != nsxclient.L4ProtocolUDP {
			p.add("%s.l4_protocol must be TCP or UDP (got %q)", field, e.L4Protocol)
		}
		validatePorts(p, field+".destination_ports", e.DestinationPorts)
		validatePorts(p, field+".source_ports", e.SourcePorts)
	case nsxclient.ServiceEntryIPProtocol:
		if e.ProtocolNumber == nil || *e.ProtocolNumber < 0 || *e.ProtocolNumber > 255 {
			p.add("%s.protocol_number must be 0 to 255", field)
		}
	case nsxclient.ServiceEntryICMPType:
		if e.Protocol != "ICMPv4" && e.Protocol != "ICMPv6" {
			p.add("%s.protocol must be ICMPv4 or ICMPv6", field)
		}
		for name, v := range map[string]*int64{"icmp_type": e.ICMPType, "icmp_code": e.ICMPCode} {
			if v != nil && (*v < 0 || *v > 255) {
				p.add("%s.%s must be 0 to 255", field, name)
			}
		}
	default:
		p.add("%s: resource_type %q is not supported by the simulator (use L4PortSetServiceEntry, IPProtocolServiceEntry or ICMPTypeServiceEntry)", field, e.ResourceType)
	}
}

// validatePorts checks a port list: "80" or "8000-8080", at most 15 values where a range counts
// as two.
func validatePorts(p *problems, field string, ports []string) {
	count := 0
	for _, s := range ports {
		if msg := checkPortOrRange(s); msg != "" {
			p.add("%s: %s", field, msg)
			continue
		}
		count++
		if strings.Contains(s, "-") {
			count++
		}
	}
	if count > maxPortsPerL4Entry {
		p.add("%s holds %d values (a range counts as two); at most %d are allowed", field, count, maxPortsPerL4Entry)
	}
}

func validateSegmentPort(p *problems, o *nsxclient.SegmentPort) {
	p.enum("admin_state", o.AdminState, []string{"UP", "DOWN"})
	if a := o.Attachment; a != nil {
		p.enum("attachment.type", a.Type, []string{"PARENT", "CHILD", "INDEPENDENT", "STATIC"})
	}
	if len(o.AddressBindings) > maxAddressBindings {
		p.add("address_bindings has exceeded maximum size %d", maxAddressBindings)
	}
	for _, b := range o.AddressBindings {
		if b.IPAddress == "" {
			continue
		}
		if _, err := parseAddressOrBlockOrRange(b.IPAddress); err != nil {
			p.add("address_bindings: %v", err)
		}
	}
}
