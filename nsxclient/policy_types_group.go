package nsxclient

import "strings"

// PolicyGroup is a Policy group (/infra/domains/{domain}/groups/{id}). Its Expression is a list
// that alternates member expressions (even indexes) and ConjunctionOperators (odd indexes).
type PolicyGroup struct {
	PolicyResource
	Expression []PolicyExpression `json:"expression,omitempty"`
	// GroupType is empty for a generic group, or e.g. ["IPAddress"].
	GroupType []string `json:"group_type,omitempty"`
	// State is read-only: the group's realization (IN_PROGRESS, SUCCESS, FAILURE).
	State string `json:"state,omitempty"`
}

// Expression resource types.
const (
	ExprCondition   = "Condition"
	ExprConjunction = "ConjunctionOperator"
	ExprNested      = "NestedExpression"
	ExprIPAddress   = "IPAddressExpression"
	ExprPath        = "PathExpression"
)

// Condition member types, keys and operators microseg uses.
const (
	MemberSegmentPort = "SegmentPort"
	MemberSegment     = "Segment"

	ConditionKeyTag  = "Tag"
	ConditionKeyName = "Name"

	OperatorEquals    = "EQUALS"
	OperatorNotEquals = "NOTEQUALS"
	OperatorNotIn     = "NOTIN"
	OperatorIn        = "IN"
	OperatorContains  = "CONTAINS"

	ConjunctionAnd = "AND"
	ConjunctionOr  = "OR"
)

// PolicyExpression is the polymorphic group expression, told apart by ResourceType:
//   - Condition: MemberType, Key, Operator, ScopeOperator and Value. For Key Tag the value is
//     "<scope>|<tag>"; an empty side matches anything, so "app|" is "has scope app".
//   - ConjunctionOperator: ConjunctionOperator (AND or OR) between two neighbours.
//   - NestedExpression: Expressions, Conditions joined by AND.
//   - IPAddressExpression: IPAddresses (addresses, CIDRs or ranges of one family, 1 to 4000).
//   - PathExpression: Paths of groups, segments or segment ports.
type PolicyExpression struct {
	ResourceType string `json:"resource_type"`
	ID           string `json:"id,omitempty"`

	MemberType    string `json:"member_type,omitempty"`
	Key           string `json:"key,omitempty"`
	Operator      string `json:"operator,omitempty"`
	ScopeOperator string `json:"scope_operator,omitempty"`
	Value         string `json:"value,omitempty"`

	ConjunctionOperator string `json:"conjunction_operator,omitempty"`

	Expressions []PolicyExpression `json:"expressions,omitempty"`

	IPAddresses []string `json:"ip_addresses,omitempty"`

	Paths []string `json:"paths,omitempty"`
}

// TagValue encodes a tag condition's value, "<scope>|<tag>".
func TagValue(scope, tag string) string { return scope + "|" + tag }

// SplitTagValue decodes a tag condition's value; a value without "|" is a tag with any scope.
func SplitTagValue(v string) (scope, tag string) {
	if s, t, ok := strings.Cut(v, "|"); ok {
		return s, t
	}
	return "", v
}

// TagEquals is the Condition "memberType has a tag with this scope and tag" (either may be empty
// for "any").
func TagEquals(memberType, scope, tag string) PolicyExpression {
	return PolicyExpression{ResourceType: ExprCondition, MemberType: memberType, Key: ConditionKeyTag,
		Operator: OperatorEquals, Value: TagValue(scope, tag)}
}

// TagNotIn is the Condition "memberType has no tag with this scope whose value is one of tags".
func TagNotIn(memberType, scope string, tags ...string) PolicyExpression {
	return PolicyExpression{ResourceType: ExprCondition, MemberType: memberType, Key: ConditionKeyTag,
		Operator: OperatorNotIn, Value: TagValue(scope, strings.Join(tags, ","))}
}

// ScopeAbsent is the Condition "memberType has no tag with this scope" (scope_operator NOTEQUALS,
// no operator), the Kubernetes DoesNotExist.
func ScopeAbsent(memberType, scope string) PolicyExpression {
	return PolicyExpression{ResourceType: ExprCondition, MemberType: memberType, Key: ConditionKeyTag,
		ScopeOperator: OperatorNotEquals, Value: TagValue(scope, "")}
}

// Conjunction joins two neighbouring expressions with AND or OR.
func Conjunction(op string) PolicyExpression {
	return PolicyExpression{ResourceType: ExprConjunction, ConjunctionOperator: op}
}

// AllOf is a NestedExpression whose conditions must all hold: the conditions joined by AND.
func AllOf(conditions ...PolicyExpression) PolicyExpression {
	return PolicyExpression{ResourceType: ExprNested, Expressions: Join(ConjunctionAnd, conditions...)}
}

// Join interleaves expressions with conjunctions, the shape Group.expression and
// NestedExpression.expressions must have.
func Join(op string, exprs ...PolicyExpression) []PolicyExpression {
	out := make([]PolicyExpression, 0, 2*len(exprs))
	for i, e := range exprs {
		if i > 0 {
			out = append(out, Conjunction(op))
		}
		out = append(out, e)
	}
	return out
}

// IPAddresses is an IPAddressExpression; keep IPv4 and IPv6 in separate expressions.
func IPAddresses(addrs ...string) PolicyExpression {
	return PolicyExpression{ResourceType: ExprIPAddress, IPAddresses: addrs}
}

// Paths is a PathExpression naming static members (groups, segments or segment ports) by path.
func Paths(paths ...string) PolicyExpression {
	return PolicyExpression{ResourceType: ExprPath, Paths: paths}
}

// ListGroupsOptions filters ListGroups.
type ListGroupsOptions struct {
	PolicyListOptions
	// MemberTypes keeps groups whose member types are among these (comma-joined on the wire).
	MemberTypes []string
}
