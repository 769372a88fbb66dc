package nsxsim

import (
	"github.com/microseg/microseg/nsxclient"
)

// Enums of the NSGroup expressions (vendor spec 2.5.1).
var (
	tagExprTargetTypes    = []string{"LogicalSwitch", "LogicalPort", "VirtualMachine", "IPSet"}
	simpleExprTargetTypes = []string{"NSGroup", "IPSet", "MACSet", "LogicalSwitch", "LogicalPort",
		"VirtualMachine", "DirectoryGroup", "VirtualNetworkInterface", "TransportNode"}
	simpleExprOps = []string{"EQUALS", "CONTAINS", "STARTSWITH", "ENDSWITH", "NOTEQUALS"}
	tagOps        = []string{"EQUALS", "CONTAINS", "STARTSWITH", "ENDSWITH"}
)

// validateGroup checks a group body; selfID is the group's id on update ("" on create).
func (st *state) validateGroup(in nsxclient.NSGroup, selfID string) *apiError {
	var f fieldErrors
	f.managed(&in.ManagedResource)
	f.maxItems("members", len(in.Members), maxGroupMembers)
	for _, m := range in.Members {
		st.validateMember(&f, m, selfID)
	}
	f.maxItems("membership_criteria", len(in.MembershipCriteria), maxGroupCriteria)
	for _, e := range in.MembershipCriteria {
		st.validateExpr(&f, "membership_criteria", e, true, selfID)
	}
	if err := f.err(); err != nil {
		return err
	}
	candidate := in
	candidate.ID = selfID
	return st.checkGroupCycle(&candidate)
}

// validateMember checks a static member: the spec types members as NSGroupSimpleExpression.
func (st *state) validateMember(f *fieldErrors, m nsxclient.NSGroupExpression, selfID string) {
	if m.ResourceType != nsxclient.ExprSimple {
		f.add("members.resource_type must be %s, not %q", nsxclient.ExprSimple, m.ResourceType)
		return
	}
	st.validateExpr(f, "members", m, false, selfID)
}

// validateExpr checks one expression. Complex expressions are allowed only at the top level of
// membership_criteria and hold 2–5 tag or simple expressions, ANDed.
func (st *state) validateExpr(f *fieldErrors, field string, e nsxclient.NSGroupExpression, complexOK bool, selfID string) {
	switch e.ResourceType {
	case nsxclient.ExprTag:
		f.required(field+".target_type", e.TargetType == "")
		f.enum(field+".target_type", e.TargetType, tagExprTargetTypes...)
		f.maxLen(field+".scope", e.Scope, maxTagScope)
		f.maxLen(field+".tag", e.Tag, maxTagValue)
		f.enum(field+".scope_op", e.ScopeOp, "EQUALS")
		f.enum(field+".tag_op", e.TagOp, tagOps...)
		if (e.TargetType == "LogicalPort" || e.TargetType == "LogicalSwitch") && e.TagOp != "" && e.TagOp != "EQUALS" {
			f.add("%s.tag_op %s is not supported for target_type %s; only EQUALS is", field, e.TagOp, e.TargetType)
		}
	case nsxclient.ExprComplex:
		if !complexOK {
			f.add("%s: a complex expression cannot be nested or used as a member", field)
			return
		}
		f.required(field+".expressions", e.Expressions == nil)
		if n := len(e.Expressions); n < minComplexExprs || n > maxComplexExprs {
			f.add("%s.expressions must hold between %d and %d expressions", field, minComplexExprs, maxComplexExprs)
		}
		for _, sub := range e.Expressions {
			st.validateExpr(f, field+".expressions", sub, false, selfID)
		}
	case nsxclient.ExprSimple:
		f.required(field+".target_type", e.TargetType == "")
		f.enum(field+".target_type", e.TargetType, simpleExprTargetTypes...)
		f.required(field+".target_property", e.TargetProperty == "")
		f.required(field+".op", e.Op == "")
		f.enum(field+".op", e.Op, simpleExprOps...)
		f.required(field+".value", e.Value == "")
		if e.TargetProperty == "id" && e.Op == "EQUALS" && e.Value != "" {
			if e.TargetType == nsxclient.TargetNSGroup && e.Value == selfID {
				f.add("%s: an NSGroup cannot contain itself", field)
			} else if msg := st.checkTarget(e.TargetType, e.Value); msg != "" {
				f.add("%s: %s", field, msg)
			}
		}
	default:
		f.required(field+".resource_type", e.ResourceType == "")
		f.enum(field+".resource_type", e.ResourceType, nsxclient.ExprSimple, nsxclient.ExprComplex, nsxclient.ExprTag)
	}
}

// checkGroupCycle refuses a group whose nested NSGroup members lead back to itself.
func (st *state) checkGroupCycle(g *nsxclient.NSGroup) *apiError {
	if g.ID == "" {
		return nil // a new group cannot be referenced yet
	}
	seen := map[string]bool{}
	var reaches func(exprs []nsxclient.NSGroupExpression) bool
	reaches = func(exprs []nsxclient.NSGroupExpression) bool {
		for _, e := range exprs {
			if reaches(e.Expressions) {
				return true
			}
			if e.ResourceType != nsxclient.ExprSimple || e.TargetType != nsxclient.TargetNSGroup {
				continue
			}
			if e.Value == g.ID {
				return true
			}
			if seen[e.Value] {
				continue
			}
			seen[e.Value] = true
			if child, ok := st.groups.get(e.Value); ok && (reaches(child.Members) || reaches(child.MembershipCriteria)) {
				return true
			}
		}
		return false
	}
	if reaches(g.Members) || reaches(g.MembershipCriteria) {
		var f fieldErrors
		f.add("members: NSGroup %s would contain itself through nested groups", g.ID)
		return f.err()
	}
	return nil
}
