package compile

import (
	"fmt"
	"slices"

	"github.com/microseg/microseg/internal/ir"
)

// sections packs rules into sections of at most MaxRulesPerSection rules: "<key>", "<key>#2",
// ... A policy's section exists even when it has no rules (keepEmpty), so that its status always
// names one; the developer tier only has sections for namespaces with rules.
func (c *compiler) sections(key, name string, tier ir.Tier, rules []ir.Rule, keepEmpty bool) []ir.Section {
	if len(rules) == 0 && !keepEmpty {
		return nil
	}
	parts := chunks(rules, c.limits.MaxRulesPerSection)
	out := make([]ir.Section, len(parts))
	for i, part := range parts {
		k, n := key, "microseg "+c.clusterID+" "+name
		if i > 0 {
			k = c.limitKey(fmt.Sprintf("%s#%d", key, i+1))
			n += fmt.Sprintf(" (part %d)", i+1)
		}
		out[i] = ir.Section{Key: k, DisplayName: c.displayName(n, contentHash(k)), Tier: tier, Rules: slices.Clone(part)}
		if out[i].Rules == nil {
			out[i].Rules = []ir.Rule{}
		}
	}
	return out
}
