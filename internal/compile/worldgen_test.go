package compile

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
)

// testWorld is a cluster snapshot plus what lies around it: NSX groups the security team keeps
// (by display name), addresses outside the cluster, and pods of another cluster on the same NSX.
type testWorld struct {
	in       Input
	external map[string][]netip.Addr
	outside  []netip.Addr
	foreign  []corev1.Pod
}

// The worlds keep the documented assumption about NSX groups true: their members (203.0.113.0/24,
// 2001:db8:ee::/48) are not pods and lie in no CIDR of the pool except the universes.
var (
	worldExternal = map[string][]netip.Addr{
		"ext-a": {netip.MustParseAddr("203.0.113.10"), netip.MustParseAddr("2001:db8:ee::10")},
		"ext-b": {netip.MustParseAddr("203.0.113.20")},
	}
	worldOutside = []netip.Addr{
		netip.MustParseAddr("203.0.113.10"), netip.MustParseAddr("2001:db8:ee::10"), netip.MustParseAddr("203.0.113.20"),
		netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr("192.0.2.9"), netip.MustParseAddr("2001:db8:1::7"),
	}
	worldCIDRs = []string{"10.0.0.0/16", "10.0.1.0/24", "10.0.1.2/32", "10.0.0.0/8", "198.51.100.0/24", "0.0.0.0/0",
		"::/0", "fd00::/16", "fd00::1:0/112", "2001:db8:1::/48", "10.0.2.0/23"}
	worldExcepts = map[string][]string{"10.0.0.0/16": {"10.0.1.0/24"}, "0.0.0.0/0": {"10.0.0.0/8", "198.51.100.0/25"},
		"::/0": {"fd00::1:0/112"}, "10.0.0.0/8": {"10.0.1.2/32", "10.0.2.0/24"}}
	worldApps  = []string{"web", "db", "api"}
	worldTiers = []string{"fe", "be"}
)

// gen makes the generator's choices: from a seeded PRNG for the semantic tests, from fuzz bytes
// for FuzzCompile.
type gen struct{ intn func(k int) int }

func randGen(seed uint64) gen {
	r := rand.New(rand.NewPCG(seed, seed*7919+1))
	return gen{intn: r.IntN}
}

// byteGen reads choices from b; once b runs out every choice is 0.
func byteGen(b []byte) gen {
	return gen{intn: func(k int) int {
		if k <= 1 || len(b) == 0 {
			return 0
		}
		v := int(b[0])
		b = b[1:]
		return v % k
	}}
}

func (g gen) n(k int) int               { return g.intn(k) }
func (g gen) chance(p float64) bool     { return g.intn(1000) < int(p*1000) }
func pick[T any](g gen, xs ...T) T      { return xs[g.n(len(xs))] }
func randomWorld(seed uint64) testWorld { return g2world(randGen(seed)) }

// g2world builds a small world; every construct of the semantics appears with some probability.
func g2world(g gen) testWorld {
	w := testWorld{in: Input{ClusterID: "c1"}, external: worldExternal, outside: worldOutside}
	nsCount := 2 + g.n(3)
	for ns := range nsCount {
		lbls := []string{}
		if g.chance(0.7) {
			lbls = append(lbls, "env="+pick(g, "prod", "dev"))
		}
		if g.chance(0.4) {
			lbls = append(lbls, "team="+pick(g, "a", "b"))
		}
		w.in.Namespaces = append(w.in.Namespaces, namespace(fmt.Sprintf("ns%d", ns), strings.Join(lbls, ",")))
		for i := range 1 + g.n(4) {
			w.in.Pods = append(w.in.Pods, g.pod(ns, i, "c1"))
			if g.chance(0.15) {
				w.foreign = append(w.foreign, g.pod(ns, i+50, "c2"))
			}
		}
	}
	for i := range g.n(5) {
		w.in.NetworkPolicies = append(w.in.NetworkPolicies, g.networkPolicy(i, nsCount))
	}
	for i := range g.n(5) {
		w.in.ClusterSecurityPolicies = append(w.in.ClusterSecurityPolicies, g.clusterPolicy(i))
	}
	// Last, so that every earlier choice (and the worlds of earlier versions) stays the same.
	g.forgeLabels(&w, nsCount)
	return w
}

// forgeLabels gives some pods labels in NCP's reserved scopes, which NCP copies onto their ports
// like any label: another namespace's ncp/project (exact or in another case), another pod's
// ncp/pod, the cluster's own or another cluster's ncp/cluster. The reference semantics treat them
// as ordinary labels, which is exactly what the DFW must realize. Pods of the other cluster only
// forge what does not name this cluster: the compiler cannot see them (docs/security.md).
func (g gen) forgeLabels(w *testWorld, nsCount int) {
	forge := func(p *corev1.Pod, ours bool) {
		if !g.chance(0.04) {
			return
		}
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		other := fmt.Sprintf("ns%d", g.n(nsCount))
		switch x := g.n(6); {
		case x == 0:
			p.Labels["ncp/Project"] = other // NSX ≥ 3 may compare scopes without regard to case
		case x == 1:
			p.Labels["ncp/pod"] = fmt.Sprintf("p%d", g.n(3))
		case x == 2 && ours:
			p.Labels["ncp/cluster"] = pick(g, "c1", "c2")
		default:
			p.Labels["ncp/project"] = other
		}
	}
	for i := range w.in.Pods {
		forge(&w.in.Pods[i], true)
	}
	for i := range w.foreign {
		forge(&w.foreign[i], false)
	}
}

func (g gen) pod(ns, i int, cluster string) corev1.Pod {
	var lbls []string
	if g.chance(0.9) {
		app := pick(g, worldApps...)
		if g.chance(0.05) {
			app = strings.ToUpper(app[:1]) + app[1:] // a case variant: NSX ≥3 would confuse it
		}
		lbls = append(lbls, "app="+app)
	}
	if g.chance(0.5) {
		lbls = append(lbls, "tier="+pick(g, worldTiers...))
	}
	if g.chance(0.03) {
		for k := range 28 { // more labels than NCP can copy
			lbls = append(lbls, fmt.Sprintf("extra%02d=x", k))
		}
	}
	if g.chance(0.03) {
		lbls = append(lbls, strings.Repeat("k", 130)+"=long")
	}
	net := 0
	if cluster != "c1" {
		net = 99 // another cluster's pods: 10.99.x.x, fd99::
	}
	v4 := fmt.Sprintf("10.%d.%d.%d", net, ns, i+1)
	v6 := fmt.Sprintf("fd%02d::%d:%d", net, ns, i+1)
	var ips []string
	switch x := g.n(20); {
	case x < 13:
		ips = []string{v4, v6}
	case x < 17:
		ips = []string{v4}
	case x < 19:
		ips = []string{v6}
	}
	var ports []string
	if g.chance(0.6) {
		ports = append(ports, "http:"+pick(g, "8080", "9090"))
	}
	if g.chance(0.3) {
		ports = append(ports, "dns:53/UDP")
	}
	if g.chance(0.2) {
		ports = append(ports, "sig:7777/SCTP")
	}
	return testPod(fmt.Sprintf("ns%d", ns), fmt.Sprintf("p%d", i), strings.Join(lbls, ","), ips, ports...)
}

func (g gen) podSelector() *metav1.LabelSelector {
	switch g.n(8) {
	case 0:
		return &metav1.LabelSelector{}
	case 1:
		return selExpr("tier", metav1.LabelSelectorOpIn, worldTiers...)
	case 2:
		return selExpr("app", metav1.LabelSelectorOpNotIn, pick(g, worldApps...))
	case 3:
		return selExpr("tier", metav1.LabelSelectorOpDoesNotExist)
	case 4:
		return selExpr("app", metav1.LabelSelectorOpExists)
	case 5:
		return &metav1.LabelSelector{MatchLabels: labels("app=" + pick(g, worldApps...)),
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{pick(g, worldTiers...)}}}}
	}
	return sel("app=" + pick(g, worldApps...))
}

func (g gen) nsSelector() *metav1.LabelSelector {
	switch g.n(5) {
	case 0:
		return &metav1.LabelSelector{}
	case 1:
		return sel("env=" + pick(g, "prod", "dev"))
	case 2:
		return selExpr("team", metav1.LabelSelectorOpDoesNotExist)
	case 3:
		return selExpr("kubernetes.io/metadata.name", metav1.LabelSelectorOpIn, "ns0", "ns2")
	}
	return sel(fmt.Sprintf("kubernetes.io/metadata.name=ns%d", g.n(3)))
}

func (g gen) networkPolicy(i, nsCount int) networkingv1.NetworkPolicy {
	np := networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: fmt.Sprintf("ns%d", g.n(nsCount)), Name: fmt.Sprintf("np%d", i)}}
	np.Spec.PodSelector = *g.podSelector()
	switch g.n(4) {
	case 1:
		np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	case 2:
		np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
	case 3:
		np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
	}
	if g.chance(0.2) {
		np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{} // isolates
	}
	for range g.n(3) {
		np.Spec.Ingress = append(np.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{From: g.npPeers(), Ports: g.npPorts()})
	}
	for range g.n(3) {
		np.Spec.Egress = append(np.Spec.Egress, networkingv1.NetworkPolicyEgressRule{To: g.npPeers(), Ports: g.npPorts()})
	}
	return np
}

func (g gen) npPeers() []networkingv1.NetworkPolicyPeer {
	var out []networkingv1.NetworkPolicyPeer
	for range g.n(3) {
		switch g.n(4) {
		case 0:
			out = append(out, networkingv1.NetworkPolicyPeer{PodSelector: g.podSelector()})
		case 1:
			out = append(out, networkingv1.NetworkPolicyPeer{NamespaceSelector: g.nsSelector()})
		case 2:
			out = append(out, networkingv1.NetworkPolicyPeer{NamespaceSelector: g.nsSelector(), PodSelector: g.podSelector()})
		default:
			cidr := pick(g, worldCIDRs...)
			blk := &networkingv1.IPBlock{CIDR: cidr}
			if g.chance(0.5) {
				blk.Except = worldExcepts[cidr]
			}
			out = append(out, networkingv1.NetworkPolicyPeer{IPBlock: blk})
		}
	}
	return out
}

func (g gen) npPorts() []networkingv1.NetworkPolicyPort {
	var out []networkingv1.NetworkPolicyPort
	for range g.n(3) {
		switch g.n(9) {
		case 8:
			out = append(out, npPort("TCP", "dns")) // the pods' dns port is UDP: matches nothing
		case 0:
			out = append(out, npPort("", 80))
		case 1:
			out = append(out, npPort("TCP", "http"))
		case 2:
			out = append(out, npPort("UDP", 53))
		case 3:
			out = append(out, npPort("TCP", 8000, 8100))
		case 4:
			out = append(out, npPort("SCTP", 7777))
		case 5:
			out = append(out, npPort("UDP", "dns"))
		case 6:
			out = append(out, npPort("TCP", nil))
		default:
			out = append(out, npPort("SCTP", "sig"))
		}
	}
	return out
}

func (g gen) clusterPolicy(i int) securityv1alpha1.ClusterSecurityPolicy {
	tier := securityv1alpha1.TierSecurity
	if g.chance(0.4) {
		tier = securityv1alpha1.TierBaseline
	}
	var subject securityv1alpha1.Subject
	if g.chance(0.4) {
		subject = subjectNamespaces(g.nsSelector())
	} else {
		subject = subjectPods(g.nsSelector(), g.podSelector())
	}
	p := csp(fmt.Sprintf("csp%d", i), tier, int32(g.n(3)), subject)
	for k := range g.n(4) {
		p.Spec.Ingress = append(p.Spec.Ingress, securityv1alpha1.IngressRule{Name: fmt.Sprintf("in%d", k), Action: g.action(),
			From: g.cspPeers(), Ports: g.cspPorts(), Logged: g.chance(0.2)})
	}
	for k := range g.n(4) {
		p.Spec.Egress = append(p.Spec.Egress, securityv1alpha1.EgressRule{Name: fmt.Sprintf("out%d", k), Action: g.action(),
			To: g.cspPeers(), Ports: g.cspPorts()})
	}
	return p
}

func (g gen) action() securityv1alpha1.RuleAction {
	return pick(g, securityv1alpha1.ActionAllow, securityv1alpha1.ActionDeny, securityv1alpha1.ActionReject,
		securityv1alpha1.ActionPass, securityv1alpha1.ActionPass)
}

func (g gen) cspPeers() []securityv1alpha1.Peer {
	var out []securityv1alpha1.Peer
	for range 1 + g.n(2) {
		switch g.n(5) {
		case 0:
			out = append(out, nsPeer(g.nsSelector()))
		case 1, 2:
			out = append(out, podsPeer(g.nsSelector(), g.podSelector()))
		case 3:
			var cidrs []string
			for range 1 + g.n(2) {
				cidrs = append(cidrs, pick(g, worldCIDRs...))
			}
			out = append(out, networks(cidrs...))
		default:
			out = append(out, nsxGroups(pick(g, "ext-a", "ext-b")))
		}
	}
	return out
}

func (g gen) cspPorts() []securityv1alpha1.Port {
	var out []securityv1alpha1.Port
	for range g.n(3) {
		switch g.n(7) {
		case 6:
			out = append(out, cspPortNamed("TCP", "dns")) // the pods' dns port is UDP
		case 0:
			out = append(out, cspPortNum("TCP", 80))
		case 1:
			out = append(out, cspPortNamed("TCP", "http"))
		case 2:
			out = append(out, cspPortNum("UDP", 53))
		case 3:
			out = append(out, cspPortNum("TCP", 8000, 9000))
		case 4:
			out = append(out, cspPortNum("SCTP", 7777))
		default:
			out = append(out, cspPortNamed("UDP", "dns"))
		}
	}
	return out
}
