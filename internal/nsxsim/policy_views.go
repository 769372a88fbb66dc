package nsxsim

import (
	"cmp"
	"slices"
	"strings"

	"github.com/microseg/microseg/nsxclient"
)

// How stored Policy objects are shown: a copy with the fields that depend on the reader or on
// time (_protection, a group's realization state, the default rule's action, a policy's rules).

// policyView returns what a reader sees of o. Stored objects are shared, so only fields set here
// differ from the stored copy; the reply is encoded under the state lock.
func (s *Server) policyView(o *pobj, user string) any {
	out := shallowCopy(o.obj)
	policyResourceOf(out).Protection = s.protectionFor(o, user)
	switch v := out.(type) {
	case *nsxclient.PolicyGroup:
		v.State = groupState(s.realizationState(o))
	case *nsxclient.PolicyRule:
		if v.IsDefault {
			v.Action = s.st.managerDefaultRule().Action
		}
	}
	return out
}

// shallowCopy copies a stored object's struct; its slices stay shared with the stored object.
func shallowCopy(obj any) any {
	switch v := obj.(type) {
	case *nsxclient.PolicyDomain:
		c := *v
		return &c
	case *nsxclient.PolicyGroup:
		c := *v
		return &c
	case *nsxclient.SecurityPolicy:
		c := *v
		return &c
	case *nsxclient.PolicyRule:
		c := *v
		return &c
	case *nsxclient.Segment:
		c := *v
		return &c
	case *nsxclient.SegmentPort:
		c := *v
		return &c
	}
	panic("nsxsim: not a Policy object")
}

// protectionFor is _protection as user sees it: objects of a protected principal identity need
// an override from anyone else.
func (s *Server) protectionFor(o *pobj, user string) string {
	owner := o.resource().CreateUser
	if owner != user && slices.Contains(s.opts.ProtectedPrincipals, owner) {
		return "REQUIRE_OVERRIDE"
	}
	return "NOT_PROTECTED"
}

func groupState(state string, _ *RealizationFault) string {
	switch state {
	case nsxclient.StateRealized:
		return "SUCCESS"
	case nsxclient.StateError:
		return "FAILURE"
	}
	return "IN_PROGRESS"
}

// policyWithRules is a security policy as GET shows it: its rules embedded, in evaluation order.
func (s *Server) policyWithRules(o *pobj, user string) *nsxclient.SecurityPolicy {
	out := s.policyView(o, user).(*nsxclient.SecurityPolicy)
	rules := s.sortedRules(o.path, false)
	out.Rules = make([]nsxclient.PolicyRule, 0, len(rules))
	for _, r := range rules {
		out.Rules = append(out.Rules, *s.policyView(r, user).(*nsxclient.PolicyRule))
	}
	out.RuleCount = int64(len(rules))
	return out
}

// sortedRules returns a policy's rules by sequence_number, then id.
func (s *Server) sortedRules(policyPath string, includeDeleting bool) []*pobj {
	rules := s.st.pol.childrenOf(policyPath, nsxclient.ResourceRule, includeDeleting)
	slices.SortStableFunc(rules, func(a, b *pobj) int {
		ra, rb := a.obj.(*nsxclient.PolicyRule), b.obj.(*nsxclient.PolicyRule)
		return cmp.Or(cmp.Compare(ra.SequenceNumber, rb.SequenceNumber), strings.Compare(ra.ID, rb.ID))
	})
	return rules
}
