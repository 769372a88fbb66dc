package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/nsxclient"
)

// The address guard. When every write of a plan that changes DFW evaluation only changes which
// addresses some rules match — IPSet content updates, and rule rewrites whose only difference is
// which IPSets or literal addresses their sources and destinations hold — only the flows from or
// to the addresses whose membership changes can change verdict: every other match of every rule
// is the same in every intermediate state (IPSets are never applied-tos). So the guard need only
// deny those flows while the change is applied: DROP rules with the changed addresses as
// sources, then as destinations, at both sides (docs/architecture.md, "The guard", has the
// proof); a range of addresses becomes the CIDRs that cover it. A pod added or removed whose address sits in IPSets is so guarded by one small section
// instead of the whole model's denies.

// addressGuard returns the address guard when it applies and costs no more than the guard over
// the model's deny rules (deny of them), else nil.
func (p *planner) addressGuard(total, deny int) *Guard {
	gp := p.gp
	if gp.nsGroupContentUpdates > 0 {
		return nil
	}
	addrs := slices.Clone(gp.changedAddresses)
	scoped := gp.contentUpdates
	for _, o := range p.obsolete {
		if len(o.rules) > 0 {
			return nil
		}
	}
	for i := range p.changes {
		c := &p.changes[i]
		if c.evalWrites() == 0 {
			continue
		}
		diff, ok := p.addressDiff(c)
		if !ok {
			return nil
		}
		addrs = append(addrs, diff...)
		scoped += c.evalWrites()
	}
	if scoped != total || len(addrs) == 0 {
		return nil
	}
	addrs, ok := asPrefixes(addrs)
	if !ok {
		return nil
	}
	limits := p.opts.Limits.WithDefaults()
	per := limits.MaxRefsPerField
	var rules []ir.Rule
	for i := 0; i < len(addrs); i += per {
		var refs []ir.Ref
		for _, a := range addrs[i:min(i+per, len(addrs))] {
			refs = append(refs, ir.Ref{CIDR: a})
		}
		n := strconv.Itoa(i / per)
		for _, dir := range []ir.Direction{ir.DirectionOut, ir.DirectionIn} {
			d := strings.ToLower(string(dir))
			rules = append(rules,
				guardRule("addresses/"+n+"/from/"+d, dir, func(r *ir.Rule) { r.Sources = refs }),
				guardRule("addresses/"+n+"/to/"+d, dir, func(r *ir.Rule) { r.Destinations = refs }))
		}
	}
	if len(rules) > limits.MaxRulesPerSection || p.cost.guardCost(len(rules)) > p.cost.guardCost(deny) {
		return nil
	}
	return &Guard{Sections: guardSections(rules, limits.MaxRulesPerSection)}
}

// addressDiff returns the addresses whose membership in the sources or destinations of an
// existing section's rules the change alters, when that is all it alters: the section stays in
// place, its rules keep their keys and order, and each rule differs from its current form at most
// in the IPSets and literal addresses of its sources and destinations (and in the content hash
// of its notes).
func (p *planner) addressDiff(c *sectionChange) ([]string, bool) {
	if c.current == nil || c.moved || !c.rulesDiff || len(c.desired.rules) != len(c.currentRules) {
		return nil, false
	}
	var out []string
	for i := range c.desired.rules {
		cur, want := c.currentRules[i], c.desired.rules[i]
		if !cur.ok || cur.key != want.encKey {
			return nil, false
		}
		if cur.rule.Notes == want.body.Notes && ruleFP(&cur.rule) == want.fp {
			continue
		}
		a, b := cur.rule, want.body
		a.Sources, a.Destinations, a.Notes = nil, nil, ""
		b.Sources, b.Destinations, b.Notes = nil, nil, ""
		if ruleFP(&a) != ruleFP(&b) {
			return nil, false
		}
		for _, pair := range [][2][]nsxclient.ResourceReference{{cur.rule.Sources, want.body.Sources}, {cur.rule.Destinations, want.body.Destinations}} {
			diff, ok := p.refsAddressDiff(pair[0], pair[1])
			if !ok {
				return nil, false
			}
			out = append(out, diff...)
		}
	}
	return out, true
}

// refsAddressDiff compares a current and a desired reference list: the references that are not
// IPSets or literal addresses must be the same; the addresses the two lists stand for (IPSet
// contents — current in NSX, desired after this plan — and literals) are compared as entries,
// and the entries in exactly one of them are returned.
func (p *planner) refsAddressDiff(current, desired []nsxclient.ResourceReference) ([]string, bool) {
	var curOther, wantOther, curAddrs, wantAddrs []string
	for _, r := range current {
		switch r.TargetType {
		case nsxclient.TargetIPSet:
			g := p.x.groupsByID[r.TargetID]
			if g == nil || g.ipSet == nil {
				return nil, false
			}
			curAddrs = append(curAddrs, g.ipSet.IPAddresses...)
		case nsxclient.TargetIPv4Address, nsxclient.TargetIPv6Address:
			curAddrs = append(curAddrs, r.TargetID)
		default:
			curOther = append(curOther, r.TargetType+"|"+r.TargetID)
		}
	}
	for _, r := range desired {
		switch r.TargetType {
		case nsxclient.TargetIPSet:
			key := p.gp.claimed[r.TargetID]
			if kind, k, ok := ParsePlaceholder(r.TargetID); ok && kind == PlaceholderGroup {
				key = k
			}
			g := p.r.groups[key]
			if g == nil || g.Kind != ir.KindIPSet {
				return nil, false
			}
			wantAddrs = append(wantAddrs, g.IPs...)
		case nsxclient.TargetIPv4Address, nsxclient.TargetIPv6Address:
			wantAddrs = append(wantAddrs, r.TargetID)
		default:
			wantOther = append(wantOther, r.TargetType+"|"+r.TargetID)
		}
	}
	slices.Sort(curOther)
	slices.Sort(wantOther)
	if !slices.Equal(curOther, wantOther) {
		return nil, false
	}
	return symmetricDifference(curAddrs, wantAddrs), true
}

// asPrefixes returns the entries sorted and unique, each range ("a-b") replaced by the CIDRs that
// cover exactly it: whether a rule's address reference takes a range is not confirmed (*strict*).
// ok is false for an entry that is none of address, CIDR or range.
func asPrefixes(entries []string) ([]string, bool) {
	var out []string
	for _, e := range entries {
		if !strings.Contains(e, "-") {
			out = append(out, e)
			continue
		}
		r, err := netipx.ParseIPRange(e)
		if err != nil {
			return nil, false
		}
		for _, p := range r.Prefixes() {
			out = append(out, p.String())
		}
	}
	slices.Sort(out)
	return slices.Compact(out), true
}

// guardRule is a DROP rule of the address guard, applied everywhere.
func guardRule(key string, dir ir.Direction, set func(*ir.Rule)) ir.Rule {
	r := ir.Rule{Key: guardKeyPrefix + key, DisplayName: "microseg guard: addresses whose groups change", Action: ir.ActionDrop,
		Direction: dir, IPProtocol: ir.IPv4IPv6}
	set(&r)
	b, _ := json.Marshal(r) // ir types always marshal
	sum := sha256.Sum256(b)
	r.Hash = hex.EncodeToString(sum[:16])
	return r
}

// symmetricDifference lists the entries in exactly one of a and b.
func symmetricDifference(a, b []string) []string {
	count := make(map[string]int, len(a)+len(b))
	for _, x := range a {
		count[x] |= 1
	}
	for _, x := range b {
		count[x] |= 2
	}
	var out []string
	for x, c := range count {
		if c != 3 {
			out = append(out, x)
		}
	}
	return out
}

// ownedBlockDenies reports whether any rule of microseg's sections (guards included) is not an
// ALLOW.
func (x *stateIndex) ownedBlockDenies() bool {
	for _, o := range x.ownedList {
		for _, r := range o.rules {
			if r.Action != string(ir.ActionAllow) {
				return true
			}
		}
	}
	return false
}
