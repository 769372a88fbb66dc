package compile

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/microseg/microseg/internal/ir"
)

// Shadowed rules. The DFW decides a flow at a port by the first rule that matches it, so a rule
// whose whole match an earlier rule of the same evaluation covers (same direction, every
// applied_to, peer, address and service at least as wide) is never reached, whatever the actions:
// it is left out. Coverage is decided on the rules as written, soundly and not completely: groups
// by their tag criteria (a criterion implied by another's tags), nested members, IPSet and CIDR
// contents; NSX groups microseg does not own only by name, never by membership. Disabled rules
// match nothing, so they cover nothing (and are kept, for NSX admins to see).

// dropShadowed returns the rules of one evaluation order (a tier, or one namespace of the
// developer tier) without those an earlier rule covers.
func (c *compiler) dropShadowed(rules []ir.Rule) []ir.Rule {
	var kept []int
	dropped := false
	for i := range rules {
		r := &rules[i]
		if !r.Disabled && slices.ContainsFunc(kept, func(q int) bool { return c.covers(&rules[q], r) }) {
			dropped = true
			continue
		}
		kept = append(kept, i)
	}
	if !dropped {
		return rules
	}
	out := make([]ir.Rule, len(kept))
	for i, k := range kept {
		out[i] = rules[k]
	}
	return out
}

// covers reports whether every flow r matches, q matches too.
func (c *compiler) covers(q, r *ir.Rule) bool {
	if q.Disabled || q.Direction != r.Direction || (q.IPProtocol != ir.IPv4IPv6 && q.IPProtocol != r.IPProtocol) {
		return false
	}
	// Cheapest first: services need no group.
	return servicesCover(q.Services, r.Services) &&
		c.listCovers(q.AppliedTo, false, r.AppliedTo, false) &&
		c.listCovers(q.Sources, q.SourcesExcluded, r.Sources, r.SourcesExcluded) &&
		c.listCovers(q.Destinations, q.DestinationsExcluded, r.Destinations, r.DestinationsExcluded)
}

// listCovers compares two address (or port) lists, each "any" when empty and the complement of
// its entries when excluded.
func (c *compiler) listCovers(q []ir.Ref, qExcluded bool, r []ir.Ref, rExcluded bool) bool {
	switch {
	case len(q) == 0:
		return true
	case len(r) == 0:
		return false
	case !qExcluded && !rExcluded:
		return c.refsCover(q, r)
	case qExcluded && rExcluded:
		return c.refsCover(r, q) // not R ⊆ not Q iff Q ⊆ R
	}
	return false
}

// refsCover reports whether each of small's entries lies within some entry of big.
func (c *compiler) refsCover(big, small []ir.Ref) bool {
	for _, s := range small {
		if !slices.ContainsFunc(big, func(b ir.Ref) bool { return c.refCovers(b, s) }) {
			return false
		}
	}
	return true
}

// refCovers reports whether ref b holds everything ref s does.
func (c *compiler) refCovers(b, s ir.Ref) bool {
	if b == s {
		return true
	}
	if s.NSXGroup != "" || b.NSXGroup != "" {
		return false // membership unknown (and realized fail-closed when missing)
	}
	if s.Group != "" {
		if g := c.groups.byKey[s.Group]; g.Kind == ir.KindNestedGroup {
			if len(g.ExternalMembers) > 0 {
				return false
			}
			for _, m := range g.Members {
				if !c.refCovers(b, ir.Ref{Group: m}) {
					return false
				}
			}
			return true
		}
	}
	if b.Group != "" {
		bg := c.groups.byKey[b.Group]
		switch bg.Kind {
		case ir.KindNestedGroup:
			return slices.ContainsFunc(bg.Members, func(m string) bool { return c.refCovers(ir.Ref{Group: m}, s) })
		case ir.KindTagGroup:
			if s.Group == "" {
				return false
			}
			sg := c.groups.byKey[s.Group]
			return sg.Kind == ir.KindTagGroup && criteriaCover(bg.Criteria, sg.Criteria)
		}
	}
	// Address sets: IPSets and literals.
	bs, sa := c.refAddrs(b), c.refAddrs(s)
	return bs != nil && sa != nil && setContains(bs, sa)
}

// refAddrs is the address set of an IPSet or literal ref (nil for anything else).
func (c *compiler) refAddrs(r ir.Ref) *netipx.IPSet {
	if s, ok := c.refAddrCache[r]; ok {
		return s
	}
	s := c.parseRefAddrs(r)
	c.refAddrCache[r] = s
	return s
}

func (c *compiler) parseRefAddrs(r ir.Ref) *netipx.IPSet {
	var b netipx.IPSetBuilder
	switch {
	case r.CIDR != "":
		p, err := parseCIDROrAddr(r.CIDR)
		if err != nil {
			return nil
		}
		b.AddPrefix(p)
	case r.Group != "" && c.groups.byKey[r.Group].Kind == ir.KindIPSet:
		for _, e := range c.groups.byKey[r.Group].IPs {
			if lo, hi, ok := strings.Cut(e, "-"); ok {
				from, err1 := netip.ParseAddr(lo)
				to, err2 := netip.ParseAddr(hi)
				if err1 != nil || err2 != nil {
					return nil
				}
				b.AddRange(netipx.IPRangeFrom(from, to))
				continue
			}
			p, err := parseCIDROrAddr(e)
			if err != nil {
				return nil
			}
			b.AddPrefix(p)
		}
	default:
		return nil
	}
	s, err := b.IPSet()
	if err != nil {
		return nil
	}
	return s
}

func setContains(big, small *netipx.IPSet) bool {
	for _, r := range small.Ranges() {
		if !big.ContainsRange(r) {
			return false
		}
	}
	return true
}

// criteriaCover reports whether every port matching one of small's criteria matches one of
// big's: some criterion of big asks only for tags that criterion has.
func criteriaCover(big, small []ir.Criterion) bool {
	for _, s := range small {
		if !slices.ContainsFunc(big, func(b ir.Criterion) bool { return criterionImplied(b, s) }) {
			return false
		}
	}
	return true
}

// criterionImplied reports whether every port with s's tags has b's: each tag b asks for is one
// s asks for (a scope-only tag of b is met by any tag of s with that scope).
func criterionImplied(b, s ir.Criterion) bool {
	for _, want := range b.Tags {
		if !slices.ContainsFunc(s.Tags, func(t ir.TagMatch) bool {
			return t.Scope == want.Scope && (want.Tag == "" || t.Tag == want.Tag)
		}) {
			return false
		}
	}
	return true
}

// servicesCover reports whether the services q lists (empty: every service) hold those of r.
func servicesCover(q, r []ir.Service) bool {
	if len(q) == 0 {
		return true
	}
	if len(r) == 0 {
		return false
	}
	for _, s := range r {
		if !serviceCovered(q, s) {
			return false
		}
	}
	return true
}

func serviceCovered(q []ir.Service, s ir.Service) bool {
	number := func(l4 string) int {
		switch l4 {
		case "TCP":
			return protoTCP
		case "UDP":
			return protoUDP
		}
		return -1
	}
	if s.Kind == ir.ServiceIPProtocol {
		return slices.ContainsFunc(q, func(x ir.Service) bool {
			return (x.Kind == ir.ServiceIPProtocol && x.ProtocolNumber == s.ProtocolNumber) ||
				(x.Kind == ir.ServiceL4PortSet && number(x.L4Protocol) == s.ProtocolNumber && len(x.DestinationPorts) == 0)
		})
	}
	var have ports
	for _, x := range q {
		switch {
		case x.Kind == ir.ServiceIPProtocol && x.ProtocolNumber == number(s.L4Protocol),
			x.Kind == ir.ServiceL4PortSet && x.L4Protocol == s.L4Protocol && len(x.DestinationPorts) == 0:
			return true
		case x.Kind == ir.ServiceL4PortSet && x.L4Protocol == s.L4Protocol:
			have = have.union(parsePortEntries(x.DestinationPorts))
		}
	}
	if len(s.DestinationPorts) == 0 {
		return have.full()
	}
	want := parsePortEntries(s.DestinationPorts)
	return want != nil && len(want.minus(have)) == 0
}

// parsePortEntries reads "80" and "8000-8080" entries (nil if one does not parse).
func parsePortEntries(entries []string) ports {
	var out ports
	for _, e := range entries {
		lo, hi, isRange := strings.Cut(e, "-")
		if !isRange {
			hi = lo
		}
		l, err1 := strconv.Atoi(lo)
		h, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || l < 1 || h > 65535 || l > h {
			return nil
		}
		out = out.union(ports{{int32(l), int32(h)}})
	}
	return out
}

// dropShadowedInTier applies dropShadowed to a tier whose rules are given per policy, in
// evaluation order, and returns them per policy again.
func (c *compiler) dropShadowedInTier(perPolicy [][]ir.Rule) [][]ir.Rule {
	var all []ir.Rule
	owner := map[string]int{}
	for i, rules := range perPolicy {
		for _, r := range rules {
			owner[r.Key] = i
			all = append(all, r)
		}
	}
	out := make([][]ir.Rule, len(perPolicy))
	for _, r := range c.dropShadowed(all) {
		out[owner[r.Key]] = append(out[owner[r.Key]], r)
	}
	return out
}
