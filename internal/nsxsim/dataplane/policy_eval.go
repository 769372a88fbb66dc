package dataplane

// evaluate runs first-match over the Policy API's policies at one port. It returns true when a
// rule decided (v filled in). A JUMP_TO_APPLICATION rule that matches skips the rest of the
// Environment category (every later Environment policy, whoever owns it) and resumes at the
// first Application policy; it is recorded in v.JumpedBy. When nothing matches, evaluation goes
// on to the Manager API's sections.
func (pl *policyPlane) evaluate(f *resolvedFlow, idx int, outbound bool, v *SideVerdict) bool {
policies:
	for i := 0; i < len(pl.policies); i++ {
		p := &pl.policies[i]
		if p.appliesTo != nil && !p.appliesTo.has(idx) {
			continue
		}
		for ri := range p.rules {
			r := &p.rules[ri]
			if !r.matches(f, idx, outbound) {
				continue
			}
			if r.action == actionJump {
				v.JumpedBy = r.id
				i = max(i, pl.firstApp-1)
				continue policies
			}
			v.Action, v.API, v.Category = r.action, "policy", p.category
			v.SectionID, v.SectionName = p.path, p.name
			v.RuleID, v.RuleName = r.id, r.name
			return true
		}
	}
	return false
}
