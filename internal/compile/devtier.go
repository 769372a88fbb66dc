package compile

import (
	"crypto/sha256"
	"slices"
	"strings"

	"github.com/microseg/microseg/internal/ir"
)

// The developer tier on the DFW. Every rule of a NetworkPolicy applies to pods of the policy's own
// namespace (its applied_to names that namespace, or its address restriction holds only that
// namespace's pods), so the rules of different namespaces never meet at a port: the order between
// namespaces does not matter, only the order within one (allows, then isolation). That is what
// lets the tier be small:
//
//   - Isolation is one DROP rule per namespace and direction (isolation.go), not one per policy.
//   - A rule whose match an earlier rule of the namespace covers is never reached and is left
//     out; allow rules whose matches differ in one field only are merged (shadow.go).
//   - Namespaces share sections (pack below).

// devRules is what one namespace's NetworkPolicies compile to before merging: the allow rules in
// policy order, and per direction (0 ingress, 1 egress) the policies that isolate pods.
type devRules struct {
	allow   []ir.Rule
	isolate [2][]isolation
}

// mark and reset undo what one policy added.
func (d *devRules) mark() [3]int { return [3]int{len(d.allow), len(d.isolate[0]), len(d.isolate[1])} }

func (d *devRules) reset(m [3]int) {
	d.allow, d.isolate[0], d.isolate[1] = d.allow[:m[0]], d.isolate[0][:m[1]], d.isolate[1][:m[2]]
}

// devTierSections builds the developer tier: each namespace's rules, merged and pruned, packed
// into sections.
func (c *compiler) devTierSections(dev map[string]*devRules) []ir.Section {
	perNS := map[string][]ir.Rule{}
	for ns, d := range dev {
		if rules := c.namespaceRules(ns, d); len(rules) > 0 {
			perNS[ns] = rules
		}
	}
	return c.pack(perNS)
}

// namespaceRules are one namespace's rules in its section: its allows merged and pruned, then
// its isolation.
func (c *compiler) namespaceRules(ns string, d *devRules) []ir.Rule {
	allow := c.mergeAllows(c.dropShadowed(d.allow))
	rules := slices.Concat(allow, c.isolationRules(ns, ir.DirectionIn, d.isolate[0]), c.isolationRules(ns, ir.DirectionOut, d.isolate[1]))
	return c.dropShadowed(rules)
}

// Packing. A section holds the rules of every namespace whose name hashes into its bucket: a
// binary prefix of SHA-256(namespace). The buckets are the leaves of a binary trie in which a
// node is split in two (by the next bit) exactly when its namespaces have more than
// Settings.SectionFill rules between them and more than one namespace. So which section a
// namespace's rules live in depends only on the namespaces that share its bucket: adding,
// changing or removing a namespace changes its own section (and splits or joins that one bucket
// when it crosses the fill), never the sections of unrelated namespaces, whose keys stay the same.
// Sections follow the trie's order; inside one, namespaces go by name, each namespace's rules
// contiguous and in order. A namespace alone with more rules than a section holds continues in
// "<key>#2"...
//
// The fill is a trade-off priced with the planner's cost model: buckets average about 70% of it,
// and an atomic rewrite of a section costs ~15 ms a rule, but a change to one namespace is
// planned rule by rule (the planner orders single-rule writes so that no guard is needed where
// it can, plan/monotone.go), so the fill only bounds the rare rewrite.

// bucketKeyPrefix starts the key of every developer section: "np/<bits>".
const bucketKeyPrefix = "np/"

type nsHash struct {
	name string
	sum  [sha256.Size]byte
}

func (h nsHash) bit(i int) int { return int(h.sum[i/8]>>(7-i%8)) & 1 }

// pack lays the namespaces' rules out in sections.
func (c *compiler) pack(perNS map[string][]ir.Rule) []ir.Section {
	list := make([]nsHash, 0, len(perNS))
	for ns := range perNS {
		list = append(list, nsHash{name: ns, sum: sha256.Sum256([]byte(ns))})
	}
	slices.SortFunc(list, func(a, b nsHash) int { return strings.Compare(a.name, b.name) })
	var out []ir.Section
	var visit func(prefix string, members []nsHash)
	visit = func(prefix string, members []nsHash) {
		if len(members) == 0 {
			return
		}
		total := 0
		for _, m := range members {
			total += len(perNS[m.name])
		}
		if total > c.settings.SectionFill && len(members) > 1 {
			var zero, one []nsHash
			for _, m := range members {
				if m.bit(len(prefix)) == 0 {
					zero = append(zero, m)
				} else {
					one = append(one, m)
				}
			}
			visit(prefix+"0", zero)
			visit(prefix+"1", one)
			return
		}
		rules := make([]ir.Rule, 0, total)
		for _, m := range members { // by name
			rules = append(rules, perNS[m.name]...)
		}
		name := "NetworkPolicies"
		if prefix != "" {
			name += " bucket " + prefix
		}
		out = append(out, c.sections(bucketKeyPrefix+prefix, name, ir.TierDeveloper, rules, false)...)
	}
	visit("", list)
	return out
}

// BucketOf returns the key of the developer section that holds a namespace's rules in a model
// (the first part, when the namespace alone fills several), or "" when the namespace has none.
func BucketOf(m *ir.Model, namespace string) string {
	for _, s := range m.Sections {
		if s.Tier != ir.TierDeveloper {
			continue
		}
		for _, r := range s.Rules {
			if r.Origin.Object.Namespace == namespace {
				return s.Key
			}
		}
	}
	return ""
}
