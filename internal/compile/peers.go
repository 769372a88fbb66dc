package compile

import (
	"net/netip"
	"slices"

	"go4.org/netipx"

	"github.com/microseg/microseg/internal/ir"
)

// peerSet is the other end of a connection, matched by address (sources of IN rules,
// destinations of OUT rules): the union of a pod set (all addresses of its pods), an address set
// and NSX groups named by display name, or, when negated, the complement of that union (the
// sources_excluded / destinations_excluded form). "any" is the negated empty set.
type peerSet struct {
	negated  bool
	pods     podSet
	ips      *netipx.IPSet
	external []string // NSX group display names, sorted, unique
}

func anyPeer() peerSet { return peerSet{negated: true} }

// partsEmpty reports whether the listed parts are empty (and stay empty while no pod changes).
func (p peerSet) partsEmpty() bool {
	return p.pods.nothing() && p.ips == nil && len(p.external) == 0
}

// nothing reports whether a positive peer set matches no address.
func (p peerSet) nothing() bool { return !p.negated && p.partsEmpty() }

func samePeers(a, b peerSet) bool {
	return a.negated == b.negated && samePods(a.pods, b.pods) &&
		sameAddrs(a.ips, b.ips) && slices.Equal(a.external, b.external)
}

// unionParts unions the listed parts of two peer sets (the sign is the caller's business).
func unionParts(a, b peerSet) peerSet {
	ext := append(slices.Clone(a.external), b.external...)
	slices.Sort(ext)
	return peerSet{negated: a.negated, pods: unionPods(a.pods, b.pods),
		ips: unionAddrs(a.ips, b.ips), external: slices.Compact(ext)}
}

// addrs is every address a peer's pods and address set stand for (NSX groups are unknown).
func (c *compiler) addrs(p peerSet) *netipx.IPSet {
	return unionAddrs(p.ips, addrSetOf(c.snap.ipsOf(p.pods.members)))
}

// famPeer is a peer set together with the address family the flows are restricted to
// (0 both, 4 or 6): the rule's ip_protocol.
type famPeer struct {
	fam  int
	peer peerSet
}

// splitUniverse rewrites a positive peer set that covers a whole address family into "any peer,
// this family only" plus the rest, so that a later Pass can be subtracted exactly (with
// *_excluded) even when it names NSX groups. Both families covered is simply "any".
func splitUniverse(p peerSet) []famPeer {
	if p.negated {
		return []famPeer{{peer: p}}
	}
	full4, full6 := containsPrefix(p.ips, allIPv4), containsPrefix(p.ips, allIPv6)
	switch {
	case full4 && full6:
		return []famPeer{{peer: anyPeer()}}
	case !full4 && !full6:
		return []famPeer{{peer: p}}
	}
	fam, other := 4, 6
	if full6 {
		fam, other = 6, 4
	}
	rest := p
	rest.ips = familyAddrs(p.ips, other)
	out := []famPeer{{fam: fam, peer: anyPeer()}}
	if !rest.nothing() {
		out = append(out, famPeer{peer: rest})
	}
	return out
}

// peerOverlap says whether two peer sets (b positive) can share an address. assumed is true when
// the answer relies on the documented assumption about NSX groups (see doc.go): a group is
// disjoint from every pod of this cluster, every address set and every other group.
func (c *compiler) peerOverlap(a, b peerSet) (overlap, assumed bool) {
	if b.negated {
		return !a.nothing(), false
	}
	if a.negated {
		// A complement overlaps almost anything; the difference is exact and cheap anyway.
		return true, false
	}
	if c.podsMeet(a.pods.members, b.pods.members) || c.podsIn(a.pods.members, b.ips) ||
		c.podsIn(b.pods.members, a.ips) || overlapsAddrs(a.ips, b.ips) {
		overlap = true
	}
	for _, n := range a.external {
		if _, found := slices.BinarySearch(b.external, n); found {
			overlap = true
		}
	}
	assumed = externalUnknown(a, b)
	return overlap, assumed
}

// externalUnknown reports whether a comparison between a and b involves an NSX group on one side
// and something other than the same group on the other.
func externalUnknown(a, b peerSet) bool {
	aOther := !a.pods.nothing() || a.ips != nil || hasOtherNames(a.external, b.external)
	bOther := !b.pods.nothing() || b.ips != nil || hasOtherNames(b.external, a.external)
	return (len(b.external) > 0 && aOther) || (len(a.external) > 0 && bOther)
}

// hasOtherNames reports whether names has an element not in others.
func hasOtherNames(names, others []string) bool {
	for _, n := range names {
		if _, found := slices.BinarySearch(others, n); !found {
			return true
		}
	}
	return false
}

// diffPeers is a \ b. A negated b only ever is "any" (Pass rules are never restricted, and
// splitUniverse is the only source of negation in them), and a \ any is empty. With a negated,
// the result is exact: b joins the excluded list. With a positive, pods and addresses are
// subtracted exactly at the address level; NSX groups only cancel groups of the same name, and
// assumed reports that the documented disjointness assumption was needed.
func (c *compiler) diffPeers(a, b peerSet) (peerSet, bool) {
	if b.negated {
		if !b.partsEmpty() {
			panic("compile: subtracting a negated peer set other than any")
		}
		return peerSet{}, false
	}
	if a.negated {
		return unionParts(a, b), false
	}
	assumed := externalUnknown(a, b)
	out := peerSet{}
	// External groups: same names cancel.
	for _, n := range a.external {
		if _, found := slices.BinarySearch(b.external, n); !found {
			out.external = append(out.external, n)
		}
	}
	// Pods: a pod of b goes entirely; a pod some of whose addresses fall in b's addresses loses
	// those addresses (the rest stay, as plain addresses).
	kept := diffSorted(a.pods.members, b.pods.members)
	byAddress := false
	var leftovers []netip.Addr
	if b.ips != nil {
		var stay []int32
		for _, i := range kept {
			ips := c.snap.pods[i].ips
			var outside []netip.Addr
			for _, ip := range ips {
				if !b.ips.Contains(ip) {
					outside = append(outside, ip)
				}
			}
			if len(outside) == len(ips) {
				stay = append(stay, i)
				continue
			}
			byAddress = true
			leftovers = append(leftovers, outside...)
		}
		kept = stay
	}
	switch {
	case len(kept) == len(a.pods.members):
		out.pods = a.pods
	case !byAddress:
		out.pods = c.diffPods(a.pods, b.pods)
	default:
		out.pods = podSet{members: kept, form: a.pods.superset(ir.ReasonPass), why: ir.ReasonPass}
	}
	if a.ips != nil {
		out.ips = minusAddrs(a.ips, c.addrs(b))
	}
	out.ips = unionAddrs(out.ips, addrSetOf(leftovers))
	return out, assumed
}

// podsMeet reports whether two pod sets share a pod that has an address (only addresses can
// meet on the wire).
func (c *compiler) podsMeet(a, b []int32) bool {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			if len(c.snap.pods[a[i]].ips) > 0 {
				return true
			}
			i++
			j++
		}
	}
	return false
}

// podsIn reports whether some address of the pods lies in the set.
func (c *compiler) podsIn(pods []int32, set *netipx.IPSet) bool {
	if set == nil {
		return false
	}
	for _, i := range pods {
		for _, ip := range c.snap.pods[i].ips {
			if set.Contains(ip) {
				return true
			}
		}
	}
	return false
}

// podsOnlyPeer is a peer set of whole pods.
func podsOnlyPeer(p podSet) peerSet { return peerSet{pods: p} }
