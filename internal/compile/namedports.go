package compile

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/microseg/microseg/internal/ir"
)

// product is the unit of compilation: the flows between a set of pods where the rule is enforced
// (self: the destination pods of an ingress rule, the source pods of an egress rule), a set of
// peer addresses, and a set of services, in one address family or both (fam 0, 4 or 6: the
// rule's ip_protocol). A source rule is a union of products; a DFW rule realizes one product (or
// a part of it, when limits split it).
type product struct {
	self podSet
	peer peerSet
	svc  svcSet
	fam  int
}

// namedPort is a destination port given by container port name.
type namedPort struct {
	proto corev1.Protocol
	name  string
}

// portSpec is a rule's port list: numeric ports and ranges, plus named ports resolved per
// destination pod. all means the rule lists no ports (every protocol and port).
type portSpec struct {
	all     bool
	numeric svcSet
	named   []namedPort // sorted, unique
}

func (ps *portSpec) addNamed(n namedPort) {
	i, found := slices.BinarySearchFunc(ps.named, n, compareNamed)
	if !found {
		ps.named = slices.Insert(ps.named, i, n)
	}
}

func compareNamed(a, b namedPort) int {
	if c := strings.Compare(string(a.proto), string(b.proto)); c != 0 {
		return c
	}
	return strings.Compare(a.name, b.name)
}

// expandIngress builds the products of an ingress rule. A named port resolves on the rule's own
// pods (the destinations), so the self set is split by the number each pod gives the name: one
// product per distinct number, holding the pods that resolve to it. Pods without the name get
// none. When every pod resolves to the same number the self set (and its tag group) is kept.
func (c *compiler) expandIngress(self podSet, peers []famPeer, ps portSpec) []product {
	var out []product
	for _, fp := range peers {
		peer, fam := fp.peer, fp.fam
		if ps.all {
			out = append(out, product{self: self, peer: peer, svc: anyService(), fam: fam})
			continue
		}
		if !ps.numeric.empty() {
			out = append(out, product{self: self, peer: peer, svc: ps.numeric, fam: fam})
		}
		for _, np := range ps.named {
			byNumber := map[int32][]int32{}
			for _, i := range self.members {
				if n := c.snap.resolvePort(i, np.proto, np.name); n != 0 {
					byNumber[n] = append(byNumber[n], i)
				}
			}
			for _, n := range slices.Sorted(maps.Keys(byNumber)) {
				out = append(out, product{self: subsetPods(self, byNumber[n]), peer: peer, svc: protoPorts(string(np.proto), n, n), fam: fam})
			}
		}
	}
	return mergeProducts(out)
}

// expandEgress builds the products of an egress rule. A named port resolves on the destination,
// a peer: the peer is split by the number each destination pod gives the name. Only pods can
// resolve a name: addresses outside the cluster's pods (CIDRs, NSX groups) never match a named
// port. A pod inside a CIDR peer only by some of its addresses keeps just those addresses.
func (c *compiler) expandEgress(self podSet, peers []famPeer, ps portSpec, ctx *ruleCtx) []product {
	var out []product
	for _, fp := range peers {
		peer, fam := fp.peer, fp.fam
		if ps.all {
			out = append(out, product{self: self, peer: peer, svc: anyService(), fam: fam})
			continue
		}
		if !ps.numeric.empty() {
			out = append(out, product{self: self, peer: peer, svc: ps.numeric, fam: fam})
		}
		if len(ps.named) == 0 {
			continue
		}
		if len(peer.external) > 0 {
			ctx.warn(ir.WarnExternalGroup, fmt.Sprintf("named ports cannot be resolved on members of NSX groups %s; "+
				"the rule's named ports match no traffic to them (NSX group members are assumed not to be pods of this cluster)",
				quoteList(peer.external)))
		}
		cands := c.namedPortCandidates(peer, fam)
		for _, np := range ps.named {
			type split struct {
				fromPods, whole []int32
				partial         []netip.Addr
			}
			byNumber := map[int32]*split{}
			for _, cd := range cands {
				n := c.snap.resolvePort(cd.pod, np.proto, np.name)
				if n == 0 {
					continue
				}
				s := byNumber[n]
				if s == nil {
					s = &split{}
					byNumber[n] = s
				}
				switch {
				case cd.fromPods:
					s.fromPods = append(s.fromPods, cd.pod)
				case cd.addrs == nil:
					s.whole = append(s.whole, cd.pod)
				default:
					s.partial = append(s.partial, cd.addrs...)
				}
			}
			for _, n := range slices.Sorted(maps.Keys(byNumber)) {
				s := byNumber[n]
				sub := peerSet{ips: addrSetOf(s.partial)}
				if len(s.fromPods) > 0 {
					sub.pods = subsetPods(peer.pods, s.fromPods)
				}
				if len(s.whole) > 0 {
					sub.pods = podSet{members: unionSorted(sub.pods.members, s.whole), why: ir.ReasonNamedPort}
				}
				out = append(out, product{self: self, peer: sub, svc: protoPorts(string(np.proto), n, n), fam: fam})
			}
		}
	}
	return mergeProducts(out)
}

// candidate is a destination pod a named port may resolve on: a member of the peer's pod set,
// a whole pod (every address inside the peer), or some of a pod's addresses.
type candidate struct {
	pod      int32
	fromPods bool
	addrs    []netip.Addr // nil: every address of the pod
}

func (c *compiler) namedPortCandidates(peer peerSet, fam int) []candidate {
	var out []candidate
	if peer.negated {
		// Only "any" reaches here (splitUniverse makes no other negation); fam narrows it.
		for _, i := range c.snap.allPods {
			ips := c.snap.pods[i].ips
			var in []netip.Addr
			for _, ip := range ips {
				if fam == 0 || (fam == 4) == ip.Is4() {
					in = append(in, ip)
				}
			}
			switch {
			case fam == 0 || len(in) == len(ips):
				out = append(out, candidate{pod: i})
			case len(in) > 0:
				out = append(out, candidate{pod: i, addrs: in})
			}
		}
		return out
	}
	for _, i := range peer.pods.members {
		out = append(out, candidate{pod: i, fromPods: true})
	}
	if peer.ips == nil {
		return out
	}
	for _, i := range c.snap.allPods {
		if _, found := slices.BinarySearch(peer.pods.members, i); found {
			continue
		}
		ips := c.snap.pods[i].ips
		var in []netip.Addr
		for _, ip := range ips {
			if peer.ips.Contains(ip) {
				in = append(in, ip)
			}
		}
		switch {
		case len(in) == 0:
		case len(in) == len(ips):
			out = append(out, candidate{pod: i})
		default:
			out = append(out, candidate{pod: i, addrs: in})
		}
	}
	slices.SortStableFunc(out, func(a, b candidate) int { return int(a.pod - b.pod) })
	return out
}

// mergeProducts merges products with the same pods and peers into one (union of services), in
// order of first appearance: numeric ports and named ports resolving alike share a rule.
func mergeProducts(ps []product) []product {
	var out []product
	for _, p := range ps {
		merged := false
		for i := range out {
			if out[i].fam == p.fam && samePods(out[i].self, p.self) && samePeers(out[i].peer, p.peer) {
				out[i].svc = out[i].svc.union(p.svc)
				merged = true
				break
			}
		}
		if !merged {
			out = append(out, p)
		}
	}
	return out
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
