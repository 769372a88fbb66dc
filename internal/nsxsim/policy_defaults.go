package nsxsim

import (
	"github.com/microseg/microseg/nsxclient"
)

// What a fresh manager's Policy tree holds: the domain "default" and the default layer-3 policy
// with its default rule. The default rule is the same rule as the Manager API's default section
// rule (one default for the whole DFW, as on a real manager): its action is read from, and
// written to, the Manager default rule.

const (
	defaultPolicyID = "default-layer3-section"
	defaultRuleID   = "default-layer3-rule"
)

var (
	defaultDomainPath = nsxclient.DomainPath(nsxclient.DefaultDomain)
	defaultPolicyPath = nsxclient.SecurityPolicyPath(nsxclient.DefaultDomain, defaultPolicyID)
	defaultRulePath   = nsxclient.RulePath(nsxclient.DefaultDomain, defaultPolicyID, defaultRuleID)
)

// installPolicyDefaults creates the system objects. They use the Policy state's own random
// source, so the Manager API's generated ids are the same as without the Policy API.
func (st *state) installPolicyDefaults() {
	ps := st.pol
	system := func(r *nsxclient.PolicyResource, kind, path, parent, id, name string) {
		uid := ps.newUUID()
		*r = nsxclient.PolicyResource{ID: id, DisplayName: name, ResourceType: kind, Path: path, ParentPath: parent,
			RelativePath: id, UniqueID: uid, RealizationID: uid, Revision: nsxclient.RevisionOf(0),
			CreateUser: systemUser, LastModifiedUser: systemUser, SystemOwned: true}
	}
	domain := &nsxclient.PolicyDomain{}
	system(&domain.PolicyResource, nsxclient.ResourceDomain, defaultDomainPath, infraPath, nsxclient.DefaultDomain, nsxclient.DefaultDomain)
	ps.set(defaultDomainPath, &pobj{kind: nsxclient.ResourceDomain, path: defaultDomainPath, parent: infraPath, obj: domain})

	// The default policy is last: the simulator gives it the largest sequence_number (its real
	// number is not documented).
	policy := &nsxclient.SecurityPolicy{Category: nsxclient.CategoryApplication, SequenceNumber: nsxclient.MaxSequenceNumber,
		Stateful: boolPtr(true), TCPStrict: boolPtr(true), Scope: []string{anyPath}, IsDefault: true}
	system(&policy.PolicyResource, nsxclient.ResourceSecurityPolicy, defaultPolicyPath, defaultDomainPath, defaultPolicyID, "Default Layer3 Section")
	ps.set(defaultPolicyPath, &pobj{kind: nsxclient.ResourceSecurityPolicy, path: defaultPolicyPath, parent: defaultDomainPath, obj: policy})

	mpRule := st.managerDefaultRule()
	rule := &nsxclient.PolicyRule{Action: mpRule.Action, SourceGroups: []string{anyPath}, DestinationGroups: []string{anyPath},
		Services: []string{anyPath}, Scope: []string{anyPath}, Direction: nsxclient.DirectionInOut,
		IPProtocol: nsxclient.IPProtocolIPv4IPv6, SequenceNumber: 1, IsDefault: true}
	rule.RuleID = mustRuleNumber(mpRule.ID)
	system(&rule.PolicyResource, nsxclient.ResourceRule, defaultRulePath, defaultPolicyPath, defaultRuleID, "Default Layer3 Rule")
	ps.set(defaultRulePath, &pobj{kind: nsxclient.ResourceRule, path: defaultRulePath, parent: defaultPolicyPath, obj: rule})
}

// managerDefaultRule is the default rule of the Manager API's default LAYER3 section.
func (st *state) managerDefaultRule() *nsxclient.FirewallRule {
	rules := st.rules[st.defaultSection[nsxclient.SectionLayer3]]
	return rules[len(rules)-1]
}
