package dataplane

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"
)

// addrRange is an inclusive range of addresses of one family, as parsed from NSX notation.
type addrRange struct{ from, to netip.Addr }

// u128 is an address as a 128-bit integer (IPv4 addresses use the low 32 bits). Lookups compare
// integers rather than netip.Addr values: Contains runs for every rule of every trace.
type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

// succ returns a+1; ok is false on overflow.
func (a u128) succ() (u128, bool) {
	if a.lo != ^uint64(0) {
		return u128{a.hi, a.lo + 1}, true
	}
	if a.hi != ^uint64(0) {
		return u128{a.hi + 1, 0}, true
	}
	return u128{}, false
}

func addrKey(a netip.Addr) u128 {
	if a.Is4() {
		b := a.As4()
		return u128{lo: uint64(binary.BigEndian.Uint32(b[:]))}
	}
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func keyAddr(k u128, is4 bool) netip.Addr {
	if is4 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(k.lo))
		return netip.AddrFrom4(b)
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], k.hi)
	binary.BigEndian.PutUint64(b[8:], k.lo)
	return netip.AddrFrom16(b)
}

// span is an inclusive range of address keys.
type span struct{ lo, hi u128 }

// AddrSet is an immutable set of IPv4 and IPv6 addresses, held per family as sorted, disjoint,
// non-adjacent ranges, so that membership is a binary search whatever mix of addresses, CIDRs
// and "a-b" ranges built it.
type AddrSet struct{ v4, v6 []span }

// Contains reports whether a is in the set.
func (s AddrSet) Contains(a netip.Addr) bool {
	if a.Is4() {
		return containsKey(s.v4, addrKey(a))
	}
	return containsKey(s.v6, addrKey(a))
}

func containsKey(spans []span, k u128) bool {
	lo, hi := 0, len(spans)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if spans[m].hi.less(k) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo < len(spans) && !k.less(spans[lo].lo)
}

// IsEmpty reports whether the set holds no address.
func (s AddrSet) IsEmpty() bool { return len(s.v4) == 0 && len(s.v6) == 0 }

// Strings renders the set in NSX's IPSet notation, one entry per range: a single address, a CIDR
// when the range is exactly one prefix, or "a-b" otherwise. The order is IPv4 then IPv6,
// ascending.
func (s AddrSet) Strings() []string {
	out := make([]string, 0, len(s.v4)+len(s.v6))
	for _, sp := range s.v4 {
		out = append(out, addrRange{keyAddr(sp.lo, true), keyAddr(sp.hi, true)}.String())
	}
	for _, sp := range s.v6 {
		out = append(out, addrRange{keyAddr(sp.lo, false), keyAddr(sp.hi, false)}.String())
	}
	return out
}

func (r addrRange) String() string {
	if r.from == r.to {
		return r.from.String()
	}
	if p, ok := r.prefix(); ok {
		return p.String()
	}
	return r.from.String() + "-" + r.to.String()
}

// prefix returns the CIDR that covers exactly r, if there is one.
func (r addrRange) prefix() (netip.Prefix, bool) {
	for bits := 0; bits <= r.from.BitLen(); bits++ {
		p := netip.PrefixFrom(r.from, bits).Masked()
		if p.Addr() == r.from && lastAddr(p) == r.to {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

// newAddrSet builds a set from parsed ranges.
func newAddrSet(ranges []addrRange) AddrSet {
	var s AddrSet
	for _, r := range ranges {
		sp := span{addrKey(r.from), addrKey(r.to)}
		if r.from.Is4() {
			s.v4 = append(s.v4, sp)
		} else {
			s.v6 = append(s.v6, sp)
		}
	}
	return AddrSet{v4: mergeSpans(s.v4), v6: mergeSpans(s.v6)}
}

// unionAddrSets merges several sets into one.
func unionAddrSets(sets ...AddrSet) AddrSet {
	switch len(sets) {
	case 0:
		return AddrSet{}
	case 1:
		return sets[0]
	}
	var v4, v6 []span
	for _, s := range sets {
		v4 = append(v4, s.v4...)
		v6 = append(v6, s.v6...)
	}
	return AddrSet{v4: mergeSpans(v4), v6: mergeSpans(v6)}
}

// mergeSpans sorts spans and merges overlapping and adjacent ones. It takes ownership of the
// slice.
func mergeSpans(spans []span) []span {
	if len(spans) == 0 {
		return nil
	}
	slices.SortFunc(spans, func(a, b span) int {
		switch {
		case a.lo.less(b.lo):
			return -1
		case b.lo.less(a.lo):
			return 1
		}
		return 0
	})
	merged := spans[:1]
	for _, sp := range spans[1:] {
		last := &merged[len(merged)-1]
		if next, ok := last.hi.succ(); !ok || !next.less(sp.lo) {
			if last.hi.less(sp.hi) {
				last.hi = sp.hi
			}
			continue
		}
		merged = append(merged, sp)
	}
	return slices.Clip(merged)
}

// parseAddrEntry parses one NSX address entry: "10.0.0.1", "10.0.0.0/24", "10.0.0.1-10.0.0.9"
// or their IPv6 forms. CIDRs with host bits set are accepted and masked, as NSX does. Zones and
// mixed-family ranges are rejected.
func parseAddrEntry(s string) (addrRange, bool) {
	s = strings.TrimSpace(s)
	if from, to, isRange := strings.Cut(s, "-"); isRange {
		a, errA := netip.ParseAddr(strings.TrimSpace(from))
		b, errB := netip.ParseAddr(strings.TrimSpace(to))
		if errA != nil || errB != nil || a.Zone() != "" || b.Zone() != "" || a.Is4() != b.Is4() || b.Less(a) {
			return addrRange{}, false
		}
		return addrRange{a, b}, true
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return addrRange{}, false
		}
		p = p.Masked()
		return addrRange{p.Addr(), lastAddr(p)}, true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return addrRange{}, false
	}
	return addrRange{a, a}, true
}

// parseAddrEntries parses entries into a set; malformed entries are dropped (the server
// validates IPSets on write, so they only appear in hand-built snapshots).
func parseAddrEntries(entries []string) AddrSet {
	ranges := make([]addrRange, 0, len(entries))
	for _, e := range entries {
		if r, ok := parseAddrEntry(e); ok {
			ranges = append(ranges, r)
		}
	}
	return newAddrSet(ranges)
}

// lastAddr is the highest address of a masked prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr()
	if a.Is4() {
		b := a.As4()
		setHostBits(b[:], p.Bits())
		return netip.AddrFrom4(b)
	}
	b := a.As16()
	setHostBits(b[:], p.Bits())
	return netip.AddrFrom16(b)
}

func setHostBits(b []byte, prefixBits int) {
	for i := range b {
		switch bit := i * 8; {
		case bit >= prefixBits:
			b[i] = 0xff
		case bit+8 > prefixBits:
			b[i] |= 0xff >> (prefixBits - bit)
		}
	}
}

// intersectAddrSets returns the addresses in both a and b.
func intersectAddrSets(a, b AddrSet) AddrSet {
	return AddrSet{v4: intersectSpans(a.v4, b.v4), v6: intersectSpans(a.v6, b.v6)}
}

// intersectSpans intersects two sorted, disjoint span lists.
func intersectSpans(a, b []span) []span {
	var out []span
	for i, j := 0, 0; i < len(a) && j < len(b); {
		lo, hi := a[i].lo, a[i].hi
		if lo.less(b[j].lo) {
			lo = b[j].lo
		}
		if b[j].hi.less(hi) {
			hi = b[j].hi
		}
		if !hi.less(lo) {
			out = append(out, span{lo, hi})
		}
		if a[i].hi.less(b[j].hi) {
			i++
		} else {
			j++
		}
	}
	return out
}
