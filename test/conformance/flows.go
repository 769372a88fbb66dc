package conformance

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/pipeline"
)

// chooseFlows picks the flows of a world: every ordered pair of distinct pods, and every pod with
// every external address, both ways, in every family the world has, on each of the destination's
// container ports (with their protocol), on
// the world's hot ports, and on PortsPerPair (protocol, port) pairs drawn from those the policies name (ports, both ends of
// ranges and their neighbours), the container ports of the world, and a few no policy names.
func chooseFlows(gw *GenWorld, norm pipeline.World, opts RunOptions) ([]Flow, int) {
	r := rand.New(rand.NewPCG(gw.Seed, 0x666c6f7773))
	type pp struct {
		proto corev1.Protocol
		port  int
	}
	cand := map[pp]bool{{corev1.ProtocolTCP, 443}: true, {corev1.ProtocolUDP, 9999}: true, {corev1.ProtocolSCTP, 7777}: true, {corev1.ProtocolTCP, 1}: true}
	addRange := func(proto corev1.Protocol, lo, hi int) {
		for _, p := range []int{lo - 1, lo, (lo + hi) / 2, hi, hi + 1} {
			if p >= 1 && p <= 65535 {
				cand[pp{proto, p}] = true
				// the same number in another protocol
				cand[pp{[]corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}[p%3], p}] = true
			}
		}
	}
	npPorts := func(ports []networkingv1.NetworkPolicyPort) {
		for _, p := range ports {
			if p.Port == nil || p.Port.StrVal != "" {
				continue
			}
			hi := int(p.Port.IntVal)
			if p.EndPort != nil {
				hi = int(*p.EndPort)
			}
			addRange(*p.Protocol, int(p.Port.IntVal), hi)
		}
	}
	for _, np := range norm.NetworkPolicies {
		for _, r := range np.Spec.Ingress {
			npPorts(r.Ports)
		}
		for _, r := range np.Spec.Egress {
			npPorts(r.Ports)
		}
	}
	for i := range norm.ClusterSecurityPolicies {
		for _, ports := range cspPortLists(&norm.ClusterSecurityPolicies[i]) {
			for _, p := range ports {
				if p.Port == nil {
					continue
				}
				hi := int(*p.Port)
				if p.EndPort != nil {
					hi = int(*p.EndPort)
				}
				addRange(corev1.Protocol(p.Protocol), int(*p.Port), hi)
			}
		}
	}
	own := map[pipeline.PodRef][]pp{}
	for _, p := range norm.Pods {
		for _, c := range p.Spec.Containers {
			for _, cp := range c.Ports {
				x := pp{cp.Protocol, int(cp.ContainerPort)}
				cand[x] = true
				ref := pipeline.PodRef{Namespace: p.Namespace, Name: p.Name}
				own[ref] = append(own[ref], x)
			}
		}
	}
	var all []pp
	for x := range cand {
		all = append(all, x)
	}
	slices.SortFunc(all, func(a, b pp) int {
		if a.proto != b.proto {
			return strings.Compare(string(a.proto), string(b.proto))
		}
		return a.port - b.port
	})
	fams := []int{4}
	if gw.DualStack {
		fams = append(fams, 6)
	}
	var refs []pipeline.PodRef // pods with an address of their own
	for _, p := range norm.Pods {
		if !p.Spec.HostNetwork && len(p.Status.PodIPs) > 0 {
			refs = append(refs, pipeline.PodRef{Namespace: p.Namespace, Name: p.Name})
		}
	}
	// The oracle's AdminNetworkPolicy and BaselineAdminNetworkPolicy ingress rules never match
	// a source that is not a pod (their ingress peers are pods and namespaces only), so a flow
	// from outside the cluster to pod p cannot be compared when a CSP selecting p has an ingress
	// networks peer covering the source; those flows are left out (and counted).
	uncomparable := func(src netip.Addr, dst pipeline.PodRef) bool {
		for _, c := range norm.ClusterSecurityPolicies {
			covers := false
			for _, r := range c.Spec.Ingress {
				for _, p := range r.From {
					for _, n := range p.Networks {
						covers = covers || netip.MustParsePrefix(string(n)).Contains(src)
					}
				}
			}
			if covers && objectApplies(norm, ir.ObjectRef{Kind: ir.KindClusterSecurityPolicy, Name: c.Name}, dst) {
				return true
			}
		}
		return false
	}
	excluded := 0
	var flows []Flow
	ports := func(d pipeline.PodRef) []pp {
		set := map[pp]bool{}
		for _, x := range own[d] {
			set[x] = true
		}
		for _, h := range gw.Hot {
			set[pp{h.Protocol, int(h.Port)}] = true
		}
		for range opts.PortsPerPair {
			set[all[r.IntN(len(all))]] = true
		}
		var xs []pp
		for x := range set {
			xs = append(xs, x)
		}
		slices.SortFunc(xs, func(a, b pp) int {
			if a.proto != b.proto {
				return strings.Compare(string(a.proto), string(b.proto))
			}
			return a.port - b.port
		})
		return xs
	}
	for _, fam := range fams {
		for _, s := range refs {
			for _, d := range refs {
				if s == d {
					continue
				}
				for _, x := range ports(d) {
					flows = append(flows, Flow{Src: s, Dst: d, Protocol: x.proto, Port: x.port, Family: fam})
				}
			}
		}
		for _, e := range gw.External {
			if e.Is4() != (fam == 4) {
				continue
			}
			for _, p := range refs {
				for _, x := range ports(pipeline.PodRef{}) {
					flows = append(flows, Flow{Src: p, DstExt: e, Protocol: x.proto, Port: x.port, Family: fam})
				}
				for _, x := range ports(p) {
					if uncomparable(e, p) {
						excluded++
						continue
					}
					flows = append(flows, Flow{SrcExt: e, Dst: p, Protocol: x.proto, Port: x.port, Family: fam})
				}
			}
		}
	}
	return flows, excluded
}
