package compile

import (
	"fmt"
	"net/netip"
	"strings"

	"go4.org/netipx"
)

// Address arithmetic: every set of addresses (CIDR peers, ipBlock minus except, pod addresses,
// differences) is a *netipx.IPSet; nil is the empty set.

var (
	allIPv4 = netip.MustParsePrefix("0.0.0.0/0")
	allIPv6 = netip.MustParsePrefix("::/0")
)

// parseCIDR parses a CIDR and masks host bits away (as net.ParseCIDR does for NetworkPolicy
// ipBlocks; the CRD already insists on the canonical form). IPv4-mapped IPv6 prefixes are
// rejected because NSX would not treat them as IPv4.
func parseCIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid CIDR %q: %w", s, err)
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("invalid CIDR %q: IPv4-mapped IPv6", s)
	}
	return p.Masked(), nil
}

func buildSet(f func(b *netipx.IPSetBuilder)) *netipx.IPSet {
	var b netipx.IPSetBuilder
	f(&b)
	s, err := b.IPSet()
	if err != nil {
		// Only invalid inputs make the builder fail; every input here was parsed before.
		panic(fmt.Sprintf("compile: address set: %v", err))
	}
	if len(s.Ranges()) == 0 {
		return nil
	}
	return s
}

// addrSetOf is the set of the given addresses.
func addrSetOf(addrs []netip.Addr) *netipx.IPSet {
	if len(addrs) == 0 {
		return nil
	}
	return buildSet(func(b *netipx.IPSetBuilder) {
		for _, a := range addrs {
			b.Add(a)
		}
	})
}

func unionAddrs(a, b *netipx.IPSet) *netipx.IPSet {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	return buildSet(func(s *netipx.IPSetBuilder) { s.AddSet(a); s.AddSet(b) })
}

func minusAddrs(a, b *netipx.IPSet) *netipx.IPSet {
	if a == nil || b == nil {
		return a
	}
	return buildSet(func(s *netipx.IPSetBuilder) { s.AddSet(a); s.RemoveSet(b) })
}

// familyAddrs keeps the addresses of one family (4 or 6).
func familyAddrs(a *netipx.IPSet, fam int) *netipx.IPSet {
	if a == nil {
		return nil
	}
	all := allIPv4
	if fam == 6 {
		all = allIPv6
	}
	return buildSet(func(s *netipx.IPSetBuilder) { s.AddSet(a); s.Intersect(setOfPrefix(all)) })
}

func setOfPrefix(p netip.Prefix) *netipx.IPSet {
	return buildSet(func(s *netipx.IPSetBuilder) { s.AddPrefix(p) })
}

// overlapsAddrs walks both sorted range lists once (netipx's Overlaps compares every pair).
func overlapsAddrs(a, b *netipx.IPSet) bool {
	if a == nil || b == nil {
		return false
	}
	ra, rb := a.Ranges(), b.Ranges()
	i, j := 0, 0
	for i < len(ra) && j < len(rb) {
		switch {
		case ra[i].To().Less(rb[j].From()):
			i++
		case rb[j].To().Less(ra[i].From()):
			j++
		default:
			return true
		}
	}
	return false
}

func containsPrefix(a *netipx.IPSet, p netip.Prefix) bool {
	return a != nil && a.ContainsPrefix(p)
}

func sameAddrs(a, b *netipx.IPSet) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(b)
}

// prefixStrings renders a set as canonical prefixes (literal IPv4Address/IPv6Address refs accept
// addresses and CIDRs; ranges are unconfirmed there). Host prefixes are written as addresses.
func prefixStrings(a *netipx.IPSet) []string {
	if a == nil {
		return nil
	}
	var out []string
	for _, p := range a.Prefixes() {
		out = append(out, prefixString(p))
	}
	return out
}

func prefixString(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

// rangeStrings renders a set of one family as IPSet entries: a single address, a CIDR when the
// range is exactly one, or "a-b". Ranges keep large differences (0.0.0.0/0 minus a few pod
// addresses) small.
func rangeStrings(a *netipx.IPSet) []string {
	if a == nil {
		return nil
	}
	var out []string
	for _, r := range a.Ranges() {
		if p, ok := r.Prefix(); ok {
			out = append(out, prefixString(p))
			continue
		}
		out = append(out, r.From().String()+"-"+r.To().String())
	}
	return out
}

// parseCIDROrAddr parses a literal ref: a prefix or a single address.
func parseCIDROrAddr(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return parseCIDR(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
