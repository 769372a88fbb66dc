package nsxclient

import (
	"context"
	"net/url"
)

// ListSecurityPolicies returns every security policy of a domain, without their rules.
func (p *PolicyClient) ListSecurityPolicies(ctx context.Context, domain string, opts ListSecurityPoliciesOptions) ([]SecurityPolicy, error) {
	var extra url.Values
	if opts.IncludeRuleCount {
		extra = url.Values{"include_rule_count": {"true"}}
	}
	return policyList[SecurityPolicy](ctx, p, opts.PolicyListOptions, extra, pPolicies, domain)
}

// GetSecurityPolicy returns one security policy with its rules, ordered by sequence_number.
func (p *PolicyClient) GetSecurityPolicy(ctx context.Context, domain, id string) (*SecurityPolicy, error) {
	return policyGet[SecurityPolicy](ctx, p, pPolicy, domain, id)
}

// PatchSecurityPolicy creates policy sp.ID or replaces its attributes. NSX documents this PATCH
// as a full replace: fields left empty take their defaults. With sp.Rules set, the rules replace
// the policy's whole rule set (rules left out are deleted); with sp.Rules nil the rules are
// untouched. Whether NSX deletes omitted rules on PATCH is not confirmed, so to change some rules
// only, prefer PatchInfra with ChildRule and DeleteRuleNode children.
func (p *PolicyClient) PatchSecurityPolicy(ctx context.Context, domain string, sp SecurityPolicy) error {
	return p.policyPatch(ctx, sp, pPolicy, domain, sp.ID)
}

// PutSecurityPolicy creates policy sp.ID or replaces it together with its whole rule set;
// replacing needs sp.Revision to be the current _revision. It returns the stored policy.
func (p *PolicyClient) PutSecurityPolicy(ctx context.Context, domain string, sp SecurityPolicy) (*SecurityPolicy, error) {
	return policyPut[SecurityPolicy](ctx, p, sp, pPolicy, domain, sp.ID)
}

// DeleteSecurityPolicy deletes a security policy and its rules.
func (p *PolicyClient) DeleteSecurityPolicy(ctx context.Context, domain, id string) error {
	return p.policyDelete(ctx, pPolicy, domain, id)
}

// ListRules returns every rule of a security policy, ordered by sequence_number.
func (p *PolicyClient) ListRules(ctx context.Context, domain, policy string, opts PolicyListOptions) ([]PolicyRule, error) {
	return policyList[PolicyRule](ctx, p, opts, nil, pRules, domain, policy)
}

// GetRule returns one rule.
func (p *PolicyClient) GetRule(ctx context.Context, domain, policy, id string) (*PolicyRule, error) {
	return policyGet[PolicyRule](ctx, p, pRule, domain, policy, id)
}

// PatchRule creates rule r.ID in a policy or replaces it (a full replace, like the policy's).
func (p *PolicyClient) PatchRule(ctx context.Context, domain, policy string, r PolicyRule) error {
	return p.policyPatch(ctx, r, pRule, domain, policy, r.ID)
}

// PutRule creates rule r.ID or replaces it; replacing needs r.Revision to be current. It returns
// the stored rule.
func (p *PolicyClient) PutRule(ctx context.Context, domain, policy string, r PolicyRule) (*PolicyRule, error) {
	return policyPut[PolicyRule](ctx, p, r, pRule, domain, policy, r.ID)
}

// DeleteRule deletes a rule.
func (p *PolicyClient) DeleteRule(ctx context.Context, domain, policy, id string) error {
	return p.policyDelete(ctx, pRule, domain, policy, id)
}
