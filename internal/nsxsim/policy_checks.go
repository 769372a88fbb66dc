package nsxsim

import (
	"maps"
	"slices"

	"github.com/microseg/microseg/nsxclient"
)

// Checks that need the whole transaction: references, rules against their policy, group cycles.
// They run on the state the transaction would leave, so the order of operations inside a
// hierarchical body does not matter.

func (tx *policyTx) check() *apiError {
	for _, path := range slices.Sorted(maps.Keys(tx.deleted)) {
		if by := tx.ps.liveReferrers(path); len(by) > 0 {
			return errPolicyInUse(path, by)
		}
	}
	written := slices.Sorted(maps.Keys(tx.written))
	for _, path := range written {
		if o := tx.ps.live(path); o != nil {
			if err := tx.checkRefs(o); err != nil {
				return err
			}
		}
	}
	if err := tx.checkRulesAgainstPolicies(); err != nil {
		return err
	}
	for _, path := range written {
		if o := tx.ps.live(path); o != nil && o.kind == nsxclient.ResourceGroup {
			if cycle := tx.groupCycle(path); cycle != nil {
				return errPolicyInvalid(path, "path expressions form a cycle: %v", cycle)
			}
		}
	}
	tx.bumpPoliciesOfChangedRules()
	return nil
}

// checkRefs checks that every path o references exists and is of a kind that may stand there.
func (tx *policyTx) checkRefs(o *pobj) *apiError {
	expect := func(field, ref string, kinds ...string) *apiError {
		target := tx.ps.live(ref)
		if target == nil {
			return errPolicyInvalid(o.path, "%s references %s, which does not exist", field, ref)
		}
		if !slices.Contains(kinds, target.kind) {
			return errPolicyInvalid(o.path, "%s references %s, a %s; expected a %v", field, ref, target.kind, kinds)
		}
		return nil
	}
	scope := func(field string, list []string) *apiError {
		for _, ref := range list {
			if isAny([]string{ref}) {
				continue
			}
			if err := expect(field, ref, nsxclient.ResourceGroup); err != nil {
				return err
			}
			if ipOnlyGroup(tx.ps.live(ref)) {
				return errPolicyInvalid(o.path, "%s: group %s holds only IP addresses and cannot be used as applied-to", field, ref)
			}
		}
		return nil
	}
	paths := func(field string, list []string, kinds ...string) *apiError {
		for _, ref := range list {
			if len(ref) > 0 && ref[0] == '/' {
				if err := expect(field, ref, kinds...); err != nil {
					return err
				}
			}
		}
		return nil
	}
	switch v := o.obj.(type) {
	case *nsxclient.PolicyGroup:
		for _, e := range v.Expression {
			if e.ResourceType == nsxclient.ExprPath {
				if err := paths("expression.paths", e.Paths, nsxclient.ResourceGroup, nsxclient.ResourceSegment, nsxclient.ResourceSegmentPort); err != nil {
					return err
				}
			}
		}
	case *nsxclient.SecurityPolicy:
		return scope("scope", v.Scope)
	case *nsxclient.PolicyRule:
		if err := paths("source_groups", v.SourceGroups, nsxclient.ResourceGroup); err != nil {
			return err
		}
		if err := paths("destination_groups", v.DestinationGroups, nsxclient.ResourceGroup); err != nil {
			return err
		}
		for _, svc := range v.Services {
			if !isAny([]string{svc}) {
				return errPolicyInvalid(o.path, "services references %s, which does not exist (the simulator models no Service objects: use [\"ANY\"] with service_entries)", svc)
			}
		}
		return scope("scope", v.Scope)
	}
	return nil
}

// ipOnlyGroup reports whether a group's members are only IP addresses (NSX refuses such groups
// as applied-to).
func ipOnlyGroup(o *pobj) bool {
	g := o.obj.(*nsxclient.PolicyGroup)
	if len(g.Expression) == 0 {
		return false
	}
	for i, e := range g.Expression {
		if i%2 == 0 && e.ResourceType != nsxclient.ExprIPAddress {
			return false
		}
	}
	return true
}

// checkRulesAgainstPolicies checks written rules, and every rule of written policies, against
// their policy: JUMP_TO_APPLICATION only in Environment; no rule whose applied-to, sources and
// destinations are all ANY; no ip_protocol in the Ethernet category.
func (tx *policyTx) checkRulesAgainstPolicies() *apiError {
	policies := map[string]bool{}
	for path := range tx.written {
		if o := tx.ps.live(path); o != nil {
			switch o.kind {
			case nsxclient.ResourceSecurityPolicy:
				policies[path] = true
			case nsxclient.ResourceRule:
				policies[o.parent] = true
			}
		}
	}
	for _, pp := range slices.Sorted(maps.Keys(policies)) {
		po := tx.ps.live(pp)
		if po == nil {
			continue
		}
		policy := po.obj.(*nsxclient.SecurityPolicy)
		for _, ro := range tx.ps.childrenOf(pp, nsxclient.ResourceRule, false) {
			if !tx.written[ro.path] && !tx.written[pp] {
				continue
			}
			if err := checkRuleInPolicy(ro.path, policy, ro.obj.(*nsxclient.PolicyRule)); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkRuleInPolicy(path string, policy *nsxclient.SecurityPolicy, r *nsxclient.PolicyRule) *apiError {
	var p problems
	if r.Action == nsxclient.ActionJumpToApplication && policy.Category != nsxclient.CategoryEnvironment {
		p.add("JUMP_TO_APPLICATION is allowed only in rules of Environment policies (this policy's category is %q)", policy.Category)
	}
	if !r.IsDefault && isAny(policy.Scope) && isAny(r.Scope) && isAny(r.SourceGroups) && isAny(r.DestinationGroups) {
		p.add("the rule's applied-to, sources and destinations are all ANY: restrict at least one (or set the policy's scope)")
	}
	if policy.Category == nsxclient.CategoryEthernet && r.IPProtocol != "" {
		p.add("ip_protocol must be empty in an Ethernet (layer-2) policy")
	}
	return errPolicyInvalidAll(path, p)
}

// groupCycle returns a cycle of groups through path expressions that starts at path, or nil.
func (tx *policyTx) groupCycle(start string) []string {
	var walk func(path string, trail []string) []string
	seen := map[string]bool{}
	walk = func(path string, trail []string) []string {
		o := tx.ps.live(path)
		if o == nil || o.kind != nsxclient.ResourceGroup {
			return nil
		}
		for _, ref := range o.refs {
			if ref == start {
				return append(trail, ref)
			}
			if !seen[ref] {
				seen[ref] = true
				if c := walk(ref, append(trail, ref)); c != nil {
					return c
				}
			}
		}
		return nil
	}
	return walk(start, []string{start})
}

// bumpPoliciesOfChangedRules gives a policy whose rules changed a new revision (unless the
// policy itself was written), so that a PUT of the policy built on the old rule set is refused
// as stale. The simulator's strict choice: NSX does not document whether rule changes bump the
// parent.
func (tx *policyTx) bumpPoliciesOfChangedRules() {
	for _, pp := range slices.Sorted(maps.Keys(tx.rulesChanged)) {
		po := tx.ps.live(pp)
		if po == nil || tx.written[pp] {
			continue
		}
		sp := *po.obj.(*nsxclient.SecurityPolicy)
		sp.Revision = nsxclient.RevisionOf(*sp.Revision + 1)
		sp.LastModifiedUser, sp.LastModifiedTime = tx.user, tx.now.UnixMilli()
		bumped := *po
		bumped.obj, bumped.writtenAt = &sp, tx.now
		tx.put(pp, &bumped)
	}
}
