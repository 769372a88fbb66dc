package compile

import (
	"fmt"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/ir"
)

// Staged ClusterSecurityPolicies (spec.enforcement: Staged) change no traffic. The enforced
// policies of a tier are compiled exactly as if the staged ones did not exist (compileTier over
// the enforced ones alone: a staged Pass restricts nothing). Each staged policy gets its own
// section at its place in the tier's order, holding the rules it would have if it alone were
// enforced (restricted by the Pass rules of the enforced policies before it, and by its own),
// each with ir.Rule.Disabled set: NSX admins see the rules, NSX skips them, and enforcing the
// policy later changes only the disabled flags of one section, a single write, unless the policy
// has Pass rules: those restrict every later rule of the tier and direction, so enforcing it
// also rewrites the sections of the enforced policies after it (as changing any Pass rule does).

func isStaged(p *securityv1alpha1.ClusterSecurityPolicy) bool {
	return p.Spec.Enforcement == securityv1alpha1.EnforcementStaged
}

// tierWithStaged compiles one tier's policies (in evaluation order), staged ones included.
func (c *compiler) tierWithStaged(tier ir.Tier, csps []*compiledCSP) []ir.Section {
	var enforced []*compiledCSP
	for _, p := range csps {
		if !p.staged {
			enforced = append(enforced, p)
		}
	}
	if len(enforced) == len(csps) {
		return c.compileTier(tier, csps)
	}
	enforcedSections := c.sectionsByPolicy(enforced, c.compileTier(tier, enforced))
	var out []ir.Section
	for _, p := range csps {
		if !p.staged {
			out = append(out, enforcedSections[p]...)
			continue
		}
		out = append(out, c.sections(c.limitKey(cspKey(p.name)), "csp "+p.name, tier, c.stagedRules(csps, p), true)...)
	}
	return out
}

// stagedRules are the DFW rules of the staged policy s as if it alone were enforced among the
// tier's policies, disabled.
func (c *compiler) stagedRules(csps []*compiledCSP, s *compiledCSP) []ir.Rule {
	var rules []ir.Rule
	for dir := range 2 {
		var passes []passRule
		for _, p := range csps {
			if p.staged && p != s {
				continue
			}
			list := p.ingress
			if dir == 1 {
				list = p.egress
			}
			for _, r := range list {
				switch {
				case r.pass:
					passes = append(passes, passRule{name: r.name, products: r.products})
				case p == s:
					pieces, ok := c.restrict(r.products, passes, r.ctx)
					if !ok {
						r.ctx.warn(ir.WarnPassTooComplex, fmt.Sprintf("restricting this rule to flows outside the earlier Pass rules "+
							"needs more than %d pieces; it is staged fail-closed (a Deny/Reject keeps its whole match, an Allow is dropped)",
							c.settings.MaxPassPieces))
						pieces = failClosed(r.spec.action, r.products)
					}
					rules = append(rules, c.emit(r.spec, pieces, r.ctx)...)
				}
			}
		}
	}
	for i := range rules {
		rules[i].Disabled = true
	}
	return rules
}

// sectionsByPolicy splits a tier's sections among its policies: each policy has its section
// "csp/<name>" (never omitted) followed by its continuations "#2", "#3", … in order.
func (c *compiler) sectionsByPolicy(csps []*compiledCSP, sections []ir.Section) map[*compiledCSP][]ir.Section {
	out := make(map[*compiledCSP][]ir.Section, len(csps))
	i := 0
	for _, p := range csps {
		key := c.limitKey(cspKey(p.name))
		if i >= len(sections) || sections[i].Key != key {
			panic(fmt.Sprintf("compile: the section of %s is not where the tier's order puts it", p.obj))
		}
		out[p] = append(out[p], sections[i])
		i++
		for n := 2; i < len(sections) && sections[i].Key == c.limitKey(fmt.Sprintf("%s#%d", key, n)); n++ {
			out[p] = append(out[p], sections[i])
			i++
		}
	}
	return out
}
