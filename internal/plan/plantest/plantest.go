// Package plantest builds small IR models for the tests of the plan and apply packages: groups
// with content-addressed keys, rules and sections with content hashes, following the IR's
// conventions closely enough for the planner. It is test support, not used by the operator.
package plantest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"

	"github.com/microseg/microseg/internal/ir"
)

// Cluster is the cluster id of the models built here.
const Cluster = "cluster-a"

// Hash is a short content hash of v's JSON form.
func Hash(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// TagGroup matches logical ports carrying every "scope=tag" pair ("scope" alone: any value).
func TagGroup(pairs ...string) ir.Group {
	var c ir.Criterion
	for _, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		c.Tags = append(c.Tags, ir.TagMatch{Scope: k, Tag: v})
	}
	g := ir.Group{Kind: ir.KindTagGroup, Criteria: []ir.Criterion{c}}
	g.Hash = Hash(g)
	g.Key = "tag-" + g.Hash
	g.DisplayName = "microseg " + strings.Join(pairs, ",")
	return g
}

// IPSetGroup is an IPv4 IPSet.
func IPSetGroup(ips ...string) ir.Group {
	g := ir.Group{Kind: ir.KindIPSet, Family: ir.FamilyIPv4, IPs: ips}
	g.Hash = Hash(g)
	g.Key = "ips4-" + g.Hash
	g.DisplayName = "microseg ips " + strings.Join(ips, ",")
	return g
}

// NestedGroup has static members (keys of model groups) and external members (NSX names).
func NestedGroup(members []string, external ...string) ir.Group {
	g := ir.Group{Kind: ir.KindNestedGroup, Members: members, ExternalMembers: external}
	g.Hash = Hash(g)
	g.Key = "nest-" + g.Hash
	g.DisplayName = "microseg nested " + g.Hash
	return g
}

// Ref references a group of the model.
func Ref(g ir.Group) ir.Ref { return ir.Ref{Group: g.Key} }

// CIDR references a literal address or prefix.
func CIDR(c string) ir.Ref { return ir.Ref{CIDR: c} }

// Rule builds a rule applied to appliedTo; options set sources, destinations and services. The
// origin is a NetworkPolicy named after the key's first path element.
func Rule(key string, action ir.Action, dir ir.Direction, appliedTo ir.Group, opts ...func(*ir.Rule)) ir.Rule {
	r := ir.Rule{Key: key, DisplayName: key, Action: action, Direction: dir, IPProtocol: ir.IPv4IPv6,
		AppliedTo: []ir.Ref{Ref(appliedTo)},
		Origin:    ir.Origin{Object: ir.ObjectRef{Kind: ir.KindNetworkPolicy, Namespace: "ns", Name: strings.SplitN(key, "/", 2)[0]}, Rule: key}}
	for _, o := range opts {
		o(&r)
	}
	return Rehash(r)
}

// Rehash recomputes a rule's hash after a change.
func Rehash(r ir.Rule) ir.Rule {
	r.Hash = ""
	r.Hash = Hash(r)
	return r
}

// From sets the sources, To the destinations.
func From(refs ...ir.Ref) func(*ir.Rule) { return func(r *ir.Rule) { r.Sources = refs } }

// To sets the destinations.
func To(refs ...ir.Ref) func(*ir.Rule) { return func(r *ir.Rule) { r.Destinations = refs } }

// TCP adds a TCP service on the ports; UDP a UDP one.
func TCP(ports ...string) func(*ir.Rule) { return service("TCP", ports) }

// UDP adds a UDP service on the ports.
func UDP(ports ...string) func(*ir.Rule) { return service("UDP", ports) }

func service(proto string, ports []string) func(*ir.Rule) {
	return func(r *ir.Rule) {
		r.Services = append(r.Services, ir.Service{Kind: ir.ServiceL4PortSet, L4Protocol: proto, DestinationPorts: ports})
	}
}

// Section builds a section with a content hash.
func Section(key string, rules ...ir.Rule) ir.Section {
	s := ir.Section{Key: key, DisplayName: "microseg " + key, Tier: ir.TierDeveloper, Rules: rules}
	s.Hash = Hash(s)
	return s
}

// Model assembles a model for Cluster; groups are deduplicated and sorted by key.
func Model(sections []ir.Section, groups ...ir.Group) *ir.Model {
	m := &ir.Model{ClusterID: Cluster, Sections: sections}
	seen := map[string]bool{}
	for _, g := range groups {
		if !seen[g.Key] {
			seen[g.Key] = true
			m.Groups = append(m.Groups, g)
		}
	}
	slices.SortFunc(m.Groups, func(a, b ir.Group) int { return strings.Compare(a.Key, b.Key) })
	return m
}

// ThreeSections is a small model over the tag groups app=a, app=b and app=c: allow sections for b
// and c, and an isolation section. Creating it takes several writes that change evaluation, so
// the planner wraps the change in a guard.
func ThreeSections() *ir.Model {
	a, b, c := TagGroup("app=a"), TagGroup("app=b"), TagGroup("app=c")
	return Model([]ir.Section{
		Section("np-allow/b", Rule("b/in/0", ir.ActionAllow, ir.DirectionIn, b, From(Ref(a)), TCP("80"))),
		Section("np-allow/c", Rule("c/in/0", ir.ActionAllow, ir.DirectionIn, c, From(Ref(a), Ref(b)), TCP("80"))),
		Section("np-isolate/x", Rule("b/iso", ir.ActionDrop, ir.DirectionIn, b), Rule("c/iso", ir.ActionDrop, ir.DirectionIn, c)),
	}, a, b, c)
}

// DenyRules is a structurally valid stand-in for a guard: every DROP/REJECT rule of the model, as
// is, in sections of at most 1000 rules, with the model's groups. It over-approximates the exact
// deny projection (it ignores the ALLOW rules above a deny), which is fine wherever a test does
// not check the safety invariant.
func DenyRules(m *ir.Model) ([]ir.Section, []ir.Group) {
	var rules []ir.Rule
	for _, s := range m.Sections {
		for _, r := range s.Rules {
			if r.Action != ir.ActionAllow {
				r.Key = "guard/" + r.Key
				rules = append(rules, r)
			}
		}
	}
	var sections []ir.Section
	for i := 0; i < len(rules); i += 1000 {
		s := ir.Section{Key: "guard/" + Hash(i), DisplayName: "microseg guard", Rules: rules[i:min(i+1000, len(rules))]}
		s.Hash = Hash(s)
		sections = append(sections, s)
	}
	return sections, m.Groups
}
