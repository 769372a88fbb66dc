package nsxsim

import (
	"fmt"
	"strings"

	"github.com/microseg/microseg/nsxclient"
)

// The grammar of Group.expression (docs/nsx-policy-api.md, "Groups"): members at even indexes,
// ConjunctionOperators at odd ones; at most 5 criteria and 35 conditions per group; a criterion
// holds at most 5 conditions of one member type, 15 of mixed types; AND between two criteria
// only when both are single conditions of the same member type; a NestedExpression holds only
// Conditions joined by AND.

var (
	conditionMemberTypes = []string{"IPSet", "VirtualMachine", "LogicalPort", "LogicalSwitch", "Segment", "SegmentPort",
		"Pod", "Service", "Namespace", "TransportNode", "Group", "DVPG", "DVPort", "IPAddress", "VpcSubnet", "VpcSubnetPort",
		"KubernetesCluster", "KubernetesNamespace", "KubernetesIngress", "KubernetesGateway", "KubernetesService",
		"KubernetesNode", "AntreaEgress", "AntreaIPPool", "BareMetalServer", "BareMetalServerInterface", "Tier0", "Tier1"}
	conditionKeys = []string{"Tag", "Name", "OSName", "ComputerName", "NodeType", "GroupType", "ALL", "IPAddress", "PodCidr",
		"ManagementInterface", "OSVersion"}
	conditionOperators = []string{"EQUALS", "CONTAINS", "STARTSWITH", "ENDSWITH", "NOTEQUALS", "NOTIN", "MATCHES", "IN"}
)

// validateExpressionList checks a group's expression list (nested false) or a
// NestedExpression's (nested true).
func validateExpressionList(p *problems, field string, list []nsxclient.PolicyExpression, nested bool) {
	if len(list) == 0 {
		if nested {
			p.add("%s: a NestedExpression needs at least one condition", field)
		}
		return
	}
	if len(list)%2 == 0 {
		p.add("%s has %d entries; it must alternate members and ConjunctionOperators, so its length is odd", field, len(list))
	}
	criteria, conditions := 0, 0
	for i, e := range list {
		at := fmt.Sprintf("%s[%d]", field, i)
		if i%2 == 1 {
			validateConjunction(p, at, e, nested, list, i)
			continue
		}
		criteria++
		switch e.ResourceType {
		case nsxclient.ExprCondition:
			conditions++
			validateCondition(p, at, e)
		case nsxclient.ExprNested:
			if nested {
				p.add("%s: a NestedExpression cannot contain another", at)
				continue
			}
			conditions += validateNested(p, at, e)
		case nsxclient.ExprIPAddress, nsxclient.ExprPath:
			if nested {
				p.add("%s: a NestedExpression holds only Conditions", at)
				continue
			}
			validateStaticMembers(p, at, e)
		case nsxclient.ExprConjunction:
			p.add("%s: a ConjunctionOperator cannot stand at an even index", at)
		default:
			p.add("%s: expression type %q is not supported by the simulator", at, e.ResourceType)
		}
	}
	if nested {
		return
	}
	if criteria > maxCriteria {
		p.add("%s holds %d criteria; at most %d are allowed (nest groups for more)", field, criteria, maxCriteria)
	}
	if conditions > maxConditionsGroup {
		p.add("%s holds %d conditions; at most %d are allowed per group", field, conditions, maxConditionsGroup)
	}
}

func validateConjunction(p *problems, at string, e nsxclient.PolicyExpression, nested bool, list []nsxclient.PolicyExpression, i int) {
	if e.ResourceType != nsxclient.ExprConjunction {
		p.add("%s: odd indexes must hold a ConjunctionOperator, not %q", at, e.ResourceType)
		return
	}
	op := e.ConjunctionOperator
	if op != nsxclient.ConjunctionAnd && op != nsxclient.ConjunctionOr {
		p.add("%s: conjunction_operator must be AND or OR", at)
		return
	}
	if nested {
		if op != nsxclient.ConjunctionAnd {
			p.add("%s: conditions inside a NestedExpression are joined by AND only", at)
		}
		return
	}
	if op == nsxclient.ConjunctionAnd && i+1 < len(list) {
		a, b := list[i-1], list[i+1]
		if a.ResourceType != nsxclient.ExprCondition || b.ResourceType != nsxclient.ExprCondition || a.MemberType != b.MemberType {
			p.add("%s: AND between criteria is allowed only between two single Conditions of the same member type; use a NestedExpression", at)
		}
	}
}

// validateNested checks a NestedExpression and returns how many conditions it holds.
func validateNested(p *problems, at string, e nsxclient.PolicyExpression) int {
	validateExpressionList(p, at+".expressions", e.Expressions, true)
	perType := map[string]int{}
	n := 0
	for i, c := range e.Expressions {
		if i%2 == 0 && c.ResourceType == nsxclient.ExprCondition {
			perType[c.MemberType]++
			n++
		}
	}
	switch {
	case len(perType) == 1 && n > maxConditionsOneTyp:
		p.add("%s holds %d conditions of one member type; at most %d are allowed", at, n, maxConditionsOneTyp)
	case len(perType) > 1 && n > maxConditionsMixed:
		p.add("%s holds %d conditions of mixed member types; at most %d are allowed", at, n, maxConditionsMixed)
	}
	return n
}

func validateCondition(p *problems, at string, e nsxclient.PolicyExpression) {
	p.enum(at+".member_type", e.MemberType, conditionMemberTypes)
	p.enum(at+".key", e.Key, conditionKeys)
	p.enum(at+".operator", e.Operator, conditionOperators)
	p.enum(at+".scope_operator", e.ScopeOperator, []string{"EQUALS", "NOTEQUALS"})
	switch e.MemberType {
	case "":
		p.add("%s.member_type is a required field", at)
	case "LogicalPort", "LogicalSwitch":
		p.add("%s.member_type %s is no longer supported in Policy groups; use SegmentPort or Segment", at, e.MemberType)
	}
	if e.Key == "" {
		p.add("%s.key is a required field", at)
	}
	tagOnPorts := e.Key == nsxclient.ConditionKeyTag && (e.MemberType == nsxclient.MemberSegment || e.MemberType == nsxclient.MemberSegmentPort)
	if e.Operator == "" && !tagOnPorts {
		p.add("%s.operator is a required field for this member type and key", at)
	}
	if e.Value == "" {
		p.add("%s.value is a required field", at)
		return
	}
	if e.Key == nsxclient.ConditionKeyTag && strings.Contains(e.Value, "|") {
		scope, tag := nsxclient.SplitTagValue(e.Value)
		if scope == "" && tag == "" {
			p.add("%s.value %q names neither a scope nor a tag", at, e.Value)
		}
		if (e.Operator == nsxclient.OperatorNotIn || e.Operator == nsxclient.OperatorIn) && tag == "" {
			p.add("%s.value %q lists no tags for %s", at, e.Value, e.Operator)
		}
	}
	if e.ScopeOperator == nsxclient.OperatorNotEquals && e.Key != nsxclient.ConditionKeyTag {
		p.add("%s.scope_operator applies to Tag conditions only", at)
	}
}

func validateStaticMembers(p *problems, at string, e nsxclient.PolicyExpression) {
	if e.ResourceType == nsxclient.ExprPath {
		if len(e.Paths) == 0 {
			p.add("%s.paths is empty", at)
		}
		for _, path := range e.Paths {
			if !strings.HasPrefix(path, "/") {
				p.add("%s.paths: %q is not a path", at, path)
			}
		}
		return
	}
	if n := len(e.IPAddresses); n == 0 || n > maxIPExprEntries {
		p.add("%s.ip_addresses holds %d entries; it must hold 1 to %d", at, n, maxIPExprEntries)
	}
	families := map[bool]bool{}
	for _, a := range e.IPAddresses {
		is4, err := parseAddressOrBlockOrRange(a)
		if err != nil {
			p.add("%s.ip_addresses: %v", at, err)
			continue
		}
		families[is4] = true
	}
	if len(families) > 1 {
		p.add("%s.ip_addresses mixes IPv4 and IPv6; use one expression per family", at)
	}
}
