package conformance

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/pipeline"
)

// GenWorld is one generated cluster: the objects as a user would write them (Raw: optional fields
// left out, protocols not defaulted, empty lists kept) and the compiler settings to run with.
type GenWorld struct {
	Seed      uint64
	DualStack bool
	// Tight is true when the compiler runs with tiny NSX limits, so that every split
	// (sections, refs, services, ports, criteria, IPSets, nested groups) is exercised.
	Tight    bool
	Settings compile.Settings
	Raw      pipeline.World
	// Hot are a few (protocol, port) pairs that most policy ports of the world use, so that rules
	// of different policies overlap; every pod pair is tried on all of them.
	Hot []ProtoPort
	// External are addresses outside the cluster (no pod has them), tried as sources and
	// destinations of flows with every pod.
	External []netip.Addr
	// Coverage counts the constructs the generator used.
	Coverage Coverage
}

// Addresses outside the cluster, and CIDRs around them.
var (
	externalV4 = []netip.Addr{netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("198.51.100.9")}
	externalV6 = []netip.Addr{netip.MustParseAddr("2001:db8:ee::7")}
	// the node's addresses, which host-network pods share
	nodeV4, nodeV6 = netip.MustParseAddr("172.18.0.10"), netip.MustParseAddr("fd00:172:18::10")
	extCIDRsV4     = []string{"203.0.113.0/24", "203.0.113.0/29", "198.51.100.0/24", "198.51.100.8/30"}
	extCIDRsV6     = []string{"2001:db8:ee::/48", "2001:db8:ee::/120"}
)

// ProtoPort is a protocol and a port number.
type ProtoPort struct {
	Protocol corev1.Protocol
	Port     int32
}

// Coverage counts generated constructs by name.
type Coverage map[string]int

func (c Coverage) add(k string) { c[k]++ }

// Merge adds o into c.
func (c Coverage) Merge(o Coverage) {
	for k, v := range o {
		c[k] += v
	}
}

// Constructs the generator must produce over a default run; the test fails if one never
// appears, so that the suite cannot pass by not trying.
var RequiredConstructs = []string{
	// selectors
	"sel/empty", "sel/matchLabels", "sel/In", "sel/NotIn", "sel/Exists", "sel/DoesNotExist", "sel/emptyValue",
	"sel/metadataName",
	// NetworkPolicy
	"np/policyTypes/default", "np/policyTypes/Ingress", "np/policyTypes/Egress", "np/policyTypes/both",
	"np/ingress/nil", "np/ingress/empty", "np/ingress/rules", "np/egress/nil", "np/egress/empty", "np/egress/rules",
	"np/ignoredRules", "np/peers/absent", "np/peers/emptyList",
	"np/peer/pod", "np/peer/ns", "np/peer/podAndNs", "np/peer/emptySelectors", "np/peer/ipBlock", "np/peer/ipBlockExcept",
	"np/port/defaultProto", "np/port/TCP", "np/port/UDP", "np/port/SCTP", "np/port/number", "np/port/endPort",
	"np/port/named", "np/port/protoOnly", "np/ports/absent",
	// ClusterSecurityPolicy
	"csp/tier/Security", "csp/tier/Baseline", "csp/subject/namespaces", "csp/subject/pods", "csp/priorityTie",
	"csp/Security/ingress/Allow", "csp/Security/ingress/Deny", "csp/Security/ingress/Reject", "csp/Security/ingress/Pass",
	"csp/Security/egress/Allow", "csp/Security/egress/Deny", "csp/Security/egress/Reject", "csp/Security/egress/Pass",
	"csp/Baseline/ingress/Allow", "csp/Baseline/ingress/Deny", "csp/Baseline/ingress/Reject", "csp/Baseline/ingress/Pass",
	"csp/Baseline/egress/Allow", "csp/Baseline/egress/Deny", "csp/Baseline/egress/Reject", "csp/Baseline/egress/Pass",
	"csp/ingress/peer/namespaces", "csp/ingress/peer/pods", "csp/ingress/peer/networks",
	"csp/egress/peer/namespaces", "csp/egress/peer/pods", "csp/egress/peer/networks",
	"csp/port/TCP", "csp/port/UDP", "csp/port/SCTP", "csp/port/defaultProto", "csp/port/number", "csp/port/range",
	"csp/port/named", "csp/ports/absent",
	// addresses and pods
	"cidr/v4", "cidr/v6", "cidr/universe", "cidr/coversPods", "cidr/outside", "world/dualStack", "world/tightLimits", "world/smallPassBudget", "world/large",
	"pod/namedPortSameNameDifferentNumbers", "pod/initContainerPort", "pod/caseVariantLabel", "pod/manyLabels", "pod/pending", "pod/hostNetwork",
	// labels in NCP's reserved tag scopes, which NCP copies onto the port like any label
	"pod/forged/ncp/project", "pod/forged/ncp/Project", "pod/forged/ncp/pod", "pod/forged/ncp/cluster",
}

// Generate builds the world of one seed.
func Generate(seed uint64) *GenWorld {
	g := &gen{r: rand.New(rand.NewPCG(seed, 0x6d6963726f736567)), cov: Coverage{}}
	w := &GenWorld{Seed: seed, Coverage: g.cov}
	w.DualStack = g.chance(0.5)
	if w.DualStack {
		g.cov.add("world/dualStack")
	}
	if g.chance(0.3) {
		w.Tight = true
		g.cov.add("world/tightLimits")
		w.Settings = compile.Settings{
			Limits: ir.Limits{MaxRulesPerSection: 3, MaxRefsPerField: 3, MaxServicesPerRule: 2, MaxPortsPerEntry: 2,
				MaxIPSetEntries: 4, MaxCriteriaPerGroup: 1, MaxGroupMembers: 2},
			MaxLiteralAddresses: 1,
			MaxGroupNesting:     2,
			MaxSelectorTerms:    4,
		}
		if g.chance(0.4) {
			// A small Pass budget: rules past it are realized fail-closed (tolerated only where
			// microseg denies what the oracle allows).
			w.Settings.MaxPassPieces = 2 + g.n(6)
			g.cov.add("world/smallPassBudget")
		}
	}
	if g.chance(0.1) {
		g.large = true
		g.cov.add("world/large")
	}
	g.dual = w.DualStack
	g.ext = slices.Clone(externalV4)
	if g.dual {
		g.ext = append(g.ext, externalV6...)
	}
	w.External = g.ext
	for len(g.hot) < 4 {
		pp := ProtoPort{pick(g, corev1.ProtocolTCP, corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP), pick(g, portNumbers...)}
		if !slices.Contains(g.hot, pp) {
			g.hot = append(g.hot, pp)
		}
	}
	w.Hot = g.hot
	g.namespaces(&w.Raw)
	g.pods(&w.Raw)
	if g.hostNet {
		g.ext = append(g.ext, nodeV4)
		if g.dual {
			g.ext = append(g.ext, nodeV6)
		}
		w.External = g.ext
	}
	g.networkPolicies(&w.Raw)
	g.csps(&w.Raw)
	// Last, so that every earlier choice stays what it was for the seed.
	g.forgeLabels(&w.Raw)
	return w
}

// forgeLabels gives some pods a label in NCP's reserved tag scopes, as a tenant may: another
// namespace's ncp/project (or ncp/Project, equal up to case), another pod's ncp/pod, or an
// ncp/cluster. NCP copies it onto the pod's port beside its own identity tag, so the port carries
// two projects (pods, clusters). The oracle treats it as the ordinary label it is, which is what
// microseg must realize: the pod keeps its own namespace's identity and no other.
func (g *gen) forgeLabels(w *pipeline.World) {
	for i := range w.Pods {
		p := &w.Pods[i]
		if p.Spec.HostNetwork || p.Status.Phase != corev1.PodRunning || !g.chance(0.06) {
			continue
		}
		key, value := "ncp/project", pick(g, g.nsNames...)
		switch g.n(5) {
		case 0:
			key = "ncp/Project"
		case 1:
			key, value = "ncp/pod", fmt.Sprintf("pod-%d", g.n(3))
		case 2:
			key, value = "ncp/cluster", pick(g, pipeline.DefaultClusterID, "another-cluster")
		}
		p.Labels[key] = value
		g.cov.add("pod/forged/" + key)
	}
}

type gen struct {
	r    *rand.Rand
	cov  Coverage
	dual bool
	// what the world holds, for selectors and CIDRs that hit something
	nsNames []string
	v4, v6  []netip.Addr
	ext     []netip.Addr
	hostNet bool
	large   bool
	hot     []ProtoPort
}

// port picks a protocol and a port number for a policy: mostly one of the world's hot pairs.
// A TCP port sometimes leaves the protocol out (defaulted to TCP).
func (g *gen) port() (corev1.Protocol, int32) {
	var pp ProtoPort
	if g.chance(0.6) {
		pp = pick(g, g.hot...)
	} else {
		pp = ProtoPort{g.protocol(), pick(g, portNumbers...)}
	}
	if pp.Protocol == corev1.ProtocolTCP && g.chance(0.3) {
		pp.Protocol = ""
	}
	return pp.Protocol, pp.Port
}

func (g *gen) n(k int) int           { return g.r.IntN(k) }
func (g *gen) chance(p float64) bool { return g.r.Float64() < p }
func pick[T any](g *gen, xs ...T) T  { return xs[g.n(len(xs))] }

// Label universes. Values include "" (a valid label value) and a case variant ("Web").
var (
	nsLabelValues = map[string][]string{"env": {"prod", "dev", "test"}, "team": {"a", "b"}, "zone": {"eu", ""}}
	podLabelValue = map[string][]string{"app": {"web", "db", "api"}, "role": {"fe", "be"}, "ver": {"v1", "v2", ""},
		"example.com/tier": {"gold", "silver"}}
	nsKeys  = []string{"env", "team", "zone"}
	podKeys = []string{"app", "role", "ver", "example.com/tier"}
)

// Named container ports: the same name gets different numbers (and sometimes protocols) on
// different pods.
var portTemplates = []struct {
	name    string
	protos  []corev1.Protocol
	numbers []int32
}{
	{"http", []corev1.Protocol{""}, []int32{80, 8080, 8081}},
	{"metrics", []corev1.Protocol{"", corev1.ProtocolTCP}, []int32{9090, 9100}},
	{"dns", []corev1.Protocol{corev1.ProtocolUDP, ""}, []int32{53, 5353}},
	{"grpc", []corev1.Protocol{""}, []int32{50051, 50052}},
	{"sig", []corev1.Protocol{corev1.ProtocolSCTP}, []int32{3868, 2905}},
}

var (
	portNames   = []string{"http", "metrics", "dns", "grpc", "sig", "absent"}
	portNumbers = []int32{80, 443, 8080, 8081, 53, 5353, 9090, 9100, 50051, 3868, 2905, 7000}
)

func (g *gen) namespaces(w *pipeline.World) {
	n := 3 + g.n(2)
	if g.large {
		n = 5 + g.n(2)
	}
	for i := range n {
		name := fmt.Sprintf("ns-%d", i)
		g.nsNames = append(g.nsNames, name)
		lbl := map[string]string{}
		for _, k := range nsKeys {
			if g.chance(0.6) {
				lbl[k] = pick(g, nsLabelValues[k]...)
			}
		}
		w.Namespaces = append(w.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: lbl}})
	}
}

func (g *gen) pods(w *pipeline.World) {
	usedV4, usedV6 := map[netip.Addr]bool{}, map[netip.Addr]bool{}
	numberOf := map[string]map[int32]bool{}
	for _, ns := range g.nsNames {
		n := 2 + g.n(3)
		if g.large {
			n = 3 + g.n(4)
		}
		for i := range n {
			p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("pod-%d", i), Labels: map[string]string{}}}
			for _, k := range podKeys {
				if g.chance(0.65) {
					p.Labels[k] = pick(g, podLabelValue[k]...)
				}
			}
			if g.chance(0.05) {
				p.Labels["app"] = "Web" // differs from "web" only by case: NSX tags may not tell them apart
				g.cov.add("pod/caseVariantLabel")
			}
			if g.chance(0.03) {
				for j := range 28 {
					p.Labels[fmt.Sprintf("extra-%02d", j)] = "x" // past NCP's 30 tags per port
				}
				g.cov.add("pod/manyLabels")
			}
			// containers and named ports
			containers := 1 + g.n(2)
			for c := range containers {
				p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: fmt.Sprintf("c%d", c), Image: "registry.invalid/app"})
			}
			for _, t := range portTemplates {
				if !g.chance(0.5) {
					continue
				}
				num := pick(g, t.numbers...)
				if numberOf[t.name] == nil {
					numberOf[t.name] = map[int32]bool{}
				}
				numberOf[t.name][num] = true
				c := &p.Spec.Containers[g.n(containers)]
				c.Ports = append(c.Ports, corev1.ContainerPort{Name: t.name, ContainerPort: num, Protocol: pick(g, t.protos...)})
			}
			if g.chance(0.1) {
				// Init containers' ports do not count for named ports.
				p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "registry.invalid/init",
					Ports: []corev1.ContainerPort{{Name: pick(g, "http", "grpc"), ContainerPort: 7000}}}}
				g.cov.add("pod/initContainerPort")
			}
			// addresses: IPv4 from 10.0.0.0/22, IPv6 from fd00:10::/116, anywhere
			var ips []corev1.PodIP
			for {
				a := netip.AddrFrom4([4]byte{10, 0, byte(g.n(4)), byte(1 + g.n(254))})
				if !usedV4[a] {
					usedV4[a] = true
					g.v4 = append(g.v4, a)
					ips = append(ips, corev1.PodIP{IP: a.String()})
					break
				}
			}
			if g.dual {
				for {
					b := netip.MustParseAddr("fd00:10::").As16()
					v := 1 + g.n(4094)
					b[14], b[15] = byte(v>>8), byte(v)
					a := netip.AddrFrom16(b)
					if !usedV6[a] {
						usedV6[a] = true
						g.v6 = append(g.v6, a)
						ips = append(ips, corev1.PodIP{IP: a.String()})
						break
					}
				}
			}
			p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ips[0].IP, PodIPs: ips}
			w.Pods = append(w.Pods, p)
		}
		if g.chance(0.15) {
			// A pod not scheduled yet: no address, no port; it must change no verdict.
			p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pending", Labels: map[string]string{"app": pick(g, podLabelValue["app"]...)}},
				Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.invalid/app", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 9999}}}}},
				Status: corev1.PodStatus{Phase: corev1.PodPending}}
			w.Pods = append(w.Pods, p)
			g.cov.add("pod/pending")
		}
		if g.chance(0.1) {
			// A host-network pod has the node's address, which is not a pod address: selectors
			// never match it, and the node is tried as an address outside the cluster.
			ips := []corev1.PodIP{{IP: nodeV4.String()}}
			if g.dual {
				ips = append(ips, corev1.PodIP{IP: nodeV6.String()})
			}
			p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "host-net", Labels: map[string]string{"app": pick(g, podLabelValue["app"]...)}},
				Spec:   corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{Name: "c", Image: "registry.invalid/agent"}}},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ips[0].IP, PodIPs: ips}}
			w.Pods = append(w.Pods, p)
			g.cov.add("pod/hostNetwork")
			g.hostNet = true
		}
	}
	for _, nums := range numberOf {
		if len(nums) > 1 {
			g.cov.add("pod/namedPortSameNameDifferentNumbers")
		}
	}
}

// labelSelector returns a selector over the given keys and values (empty one time in five).
func (g *gen) labelSelector(keys []string, values map[string][]string) metav1.LabelSelector {
	if g.chance(0.2) {
		g.cov.add("sel/empty")
		return metav1.LabelSelector{}
	}
	var s metav1.LabelSelector
	terms := 1 + g.n(2)
	for range terms {
		k := pick(g, keys...)
		v := pick(g, values[k]...)
		if v == "" {
			g.cov.add("sel/emptyValue")
		}
		switch g.n(6) {
		case 0, 1:
			if s.MatchLabels == nil {
				s.MatchLabels = map[string]string{}
			}
			s.MatchLabels[k] = v
			g.cov.add("sel/matchLabels")
		case 2:
			vals := []string{v}
			if g.chance(0.4) {
				vals = append(vals, pick(g, values[k]...))
			}
			s.MatchExpressions = append(s.MatchExpressions, metav1.LabelSelectorRequirement{Key: k, Operator: metav1.LabelSelectorOpIn, Values: dedup(vals)})
			g.cov.add("sel/In")
		case 3:
			s.MatchExpressions = append(s.MatchExpressions, metav1.LabelSelectorRequirement{Key: k, Operator: metav1.LabelSelectorOpNotIn, Values: []string{v}})
			g.cov.add("sel/NotIn")
		case 4:
			s.MatchExpressions = append(s.MatchExpressions, metav1.LabelSelectorRequirement{Key: k, Operator: metav1.LabelSelectorOpExists})
			g.cov.add("sel/Exists")
		case 5:
			s.MatchExpressions = append(s.MatchExpressions, metav1.LabelSelectorRequirement{Key: k, Operator: metav1.LabelSelectorOpDoesNotExist})
			g.cov.add("sel/DoesNotExist")
		}
	}
	return s
}

func dedup(xs []string) []string {
	slices.Sort(xs)
	return slices.Compact(xs)
}

func (g *gen) podSelector() metav1.LabelSelector {
	return g.labelSelector(podKeys, podLabelValue)
}

func (g *gen) nsSelector() metav1.LabelSelector {
	if g.chance(0.2) {
		// The usual way to name namespaces: the label the API server sets.
		names := []string{pick(g, g.nsNames...)}
		if g.chance(0.5) {
			names = append(names, pick(g, g.nsNames...))
		}
		g.cov.add("sel/metadataName")
		return metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: namespaceNameLabel, Operator: metav1.LabelSelectorOpIn, Values: dedup(names)}}}
	}
	return g.labelSelector(nsKeys, nsLabelValues)
}

// cidr returns a canonical CIDR: the universe of a family, one around addresses outside the
// cluster, a prefix around a pod address (so it covers some pods), or one that covers nothing.
func (g *gen) cidr() netip.Prefix {
	v6 := len(g.v6) > 0 && g.chance(0.35) || len(g.v6) == 0 && g.chance(0.05)
	var p netip.Prefix
	switch x := g.r.Float64(); {
	case x < 0.1:
		p = netip.MustParsePrefix("0.0.0.0/0")
		if v6 {
			p = netip.MustParsePrefix("::/0")
		}
		g.cov.add("cidr/universe")
	case x < 0.19:
		p = netip.MustParsePrefix("192.168.0.0/16")
		if v6 {
			p = netip.MustParsePrefix("2001:db8:1::/48")
		}
	case x < 0.31:
		p = netip.MustParsePrefix(pick(g, extCIDRsV4...))
		if v6 {
			p = netip.MustParsePrefix(pick(g, extCIDRsV6...))
		}
		g.cov.add("cidr/outside")
	case v6 && len(g.v6) > 0:
		p = netip.PrefixFrom(pick(g, g.v6...), 116+g.n(13)).Masked()
		g.cov.add("cidr/coversPods")
	case v6:
		p = netip.MustParsePrefix("fd00:10::/112") // no pod has an IPv6 address
	default:
		p = netip.PrefixFrom(pick(g, g.v4...), 22+g.n(11)).Masked()
		g.cov.add("cidr/coversPods")
	}
	if p.Addr().Is4() {
		g.cov.add("cidr/v4")
	} else {
		g.cov.add("cidr/v6")
	}
	return p
}

// except returns strict subnets of p, each around a pod or external address inside p, if any.
func (g *gen) except(p netip.Prefix) []string {
	var inside []netip.Addr
	for _, a := range slices.Concat(g.v4, g.v6, g.ext) {
		if p.Contains(a) {
			inside = append(inside, a)
		}
	}
	if len(inside) == 0 || p.Bits() == p.Addr().BitLen() {
		return nil
	}
	var out []string
	for range 1 + g.n(2) {
		a := pick(g, inside...)
		bits := p.Bits() + 1 + g.n(p.Addr().BitLen()-p.Bits())
		out = append(out, netip.PrefixFrom(a, bits).Masked().String())
	}
	return dedup(out)
}

func (g *gen) networkPolicies(w *pipeline.World) {
	for _, ns := range g.nsNames {
		for i := range g.n(4) {
			np := networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("np-%d", i)}}
			np.Spec.PodSelector = g.podSelector()
			switch g.n(8) {
			case 0, 1, 2:
				g.cov.add("np/policyTypes/default")
			case 3, 4:
				np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
				g.cov.add("np/policyTypes/Ingress")
			case 5:
				np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
				g.cov.add("np/policyTypes/Egress")
			default:
				np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
				if g.chance(0.3) {
					np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress, networkingv1.PolicyTypeIngress}
				}
				g.cov.add("np/policyTypes/both")
			}
			switch g.n(10) {
			case 0, 1:
				g.cov.add("np/ingress/nil")
			case 2, 3:
				np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{}
				g.cov.add("np/ingress/empty")
			default:
				for range 1 + g.n(3) {
					from, ports := g.npRule()
					np.Spec.Ingress = append(np.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{From: from, Ports: ports})
				}
				g.cov.add("np/ingress/rules")
			}
			switch g.n(10) {
			case 0, 1, 2, 3:
				g.cov.add("np/egress/nil")
			case 4, 5:
				np.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{}
				g.cov.add("np/egress/empty")
			default:
				for range 1 + g.n(3) {
					to, ports := g.npRule()
					np.Spec.Egress = append(np.Spec.Egress, networkingv1.NetworkPolicyEgressRule{To: to, Ports: ports})
				}
				g.cov.add("np/egress/rules")
			}
			if pt := np.Spec.PolicyTypes; len(pt) > 0 &&
				(len(np.Spec.Ingress) > 0 && !slices.Contains(pt, networkingv1.PolicyTypeIngress) ||
					len(np.Spec.Egress) > 0 && !slices.Contains(pt, networkingv1.PolicyTypeEgress)) {
				g.cov.add("np/ignoredRules") // rules of a direction policyTypes leaves out
			}
			w.NetworkPolicies = append(w.NetworkPolicies, np)
		}
	}
}

// npRule returns the peers and ports of one NetworkPolicy rule.
func (g *gen) npRule() ([]networkingv1.NetworkPolicyPeer, []networkingv1.NetworkPolicyPort) {
	var peers []networkingv1.NetworkPolicyPeer
	switch g.n(10) {
	case 0:
		g.cov.add("np/peers/absent")
	case 1:
		peers = []networkingv1.NetworkPolicyPeer{}
		g.cov.add("np/peers/emptyList")
	default:
		for range 1 + g.n(3) {
			var p networkingv1.NetworkPolicyPeer
			switch g.n(10) {
			case 0, 1, 2:
				s := g.podSelector()
				p.PodSelector = &s
				g.cov.add("np/peer/pod")
			case 3, 4:
				s := g.nsSelector()
				p.NamespaceSelector = &s
				g.cov.add("np/peer/ns")
			case 5, 6:
				ps, ns := g.podSelector(), g.nsSelector()
				p.PodSelector, p.NamespaceSelector = &ps, &ns
				g.cov.add("np/peer/podAndNs")
			default:
				c := g.cidr()
				p.IPBlock = &networkingv1.IPBlock{CIDR: c.String()}
				if g.chance(0.7) {
					p.IPBlock.Except = g.except(c)
					if len(p.IPBlock.Except) > 0 {
						g.cov.add("np/peer/ipBlockExcept")
					}
				}
				g.cov.add("np/peer/ipBlock")
			}
			if p.PodSelector != nil && len(p.PodSelector.MatchLabels)+len(p.PodSelector.MatchExpressions) == 0 ||
				p.NamespaceSelector != nil && len(p.NamespaceSelector.MatchLabels)+len(p.NamespaceSelector.MatchExpressions) == 0 {
				g.cov.add("np/peer/emptySelectors")
			}
			peers = append(peers, p)
		}
	}
	var ports []networkingv1.NetworkPolicyPort
	switch g.n(10) {
	case 0, 1, 2:
		g.cov.add("np/ports/absent")
	default:
		for range 1 + g.n(3) {
			var p networkingv1.NetworkPolicyPort
			proto, n := g.port()
			if proto == "" {
				g.cov.add("np/port/defaultProto")
			} else {
				p.Protocol = &proto
				g.cov.add("np/port/" + string(proto))
			}
			switch g.n(10) {
			case 0:
				g.cov.add("np/port/protoOnly")
			case 1, 2, 3:
				v := intstr.FromString(pick(g, portNames...))
				p.Port = &v
				g.cov.add("np/port/named")
			default:
				v := intstr.FromInt32(n)
				p.Port = &v
				g.cov.add("np/port/number")
				if g.chance(0.3) {
					end := n + int32(g.n(60))
					p.EndPort = &end
					g.cov.add("np/port/endPort")
				}
			}
			ports = append(ports, p)
		}
	}
	return peers, ports
}

// protocol picks TCP, UDP or, less often, SCTP.
func (g *gen) protocol() corev1.Protocol {
	switch x := g.n(20); {
	case x < 11:
		return corev1.ProtocolTCP
	case x < 18:
		return corev1.ProtocolUDP
	default:
		return corev1.ProtocolSCTP
	}
}

func (g *gen) csps(w *pipeline.World) {
	for _, tier := range []securityv1alpha1.Tier{securityv1alpha1.TierSecurity, securityv1alpha1.TierBaseline} {
		n := 1 + g.n(4)
		if tier == securityv1alpha1.TierSecurity {
			n = 2 + g.n(4)
		}
		prio := map[int32]int{}
		for i := range n {
			prefix := "sec"
			if tier == securityv1alpha1.TierBaseline {
				prefix = "base"
			}
			c := securityv1alpha1.ClusterSecurityPolicy{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%02d", prefix, i)}}
			c.Spec.Priority = pick[int32](g, 5, 10, 10, 20, 100)
			prio[c.Spec.Priority]++
			if prio[c.Spec.Priority] == 2 {
				g.cov.add("csp/priorityTie")
			}
			if tier == securityv1alpha1.TierBaseline || g.chance(0.5) {
				c.Spec.Tier = tier // otherwise left to the CRD default, Security
			}
			g.cov.add("csp/tier/" + string(tier))
			if g.chance(0.5) {
				s := g.nsSelector()
				c.Spec.Subject.Namespaces = &s
				g.cov.add("csp/subject/namespaces")
			} else {
				c.Spec.Subject.Pods = &securityv1alpha1.NamespacedPods{NamespaceSelector: g.nsSelector(), PodSelector: g.podSelector()}
				g.cov.add("csp/subject/pods")
			}
			for i := range g.n(5) {
				a := g.action()
				g.cov.add(fmt.Sprintf("csp/%s/ingress/%s", tier, a))
				c.Spec.Ingress = append(c.Spec.Ingress, securityv1alpha1.IngressRule{Name: fmt.Sprintf("in-%d", i), Action: a,
					From: g.cspPeers("ingress"), Ports: g.cspPorts()})
			}
			for i := range g.n(5) {
				a := g.action()
				g.cov.add(fmt.Sprintf("csp/%s/egress/%s", tier, a))
				c.Spec.Egress = append(c.Spec.Egress, securityv1alpha1.EgressRule{Name: fmt.Sprintf("out-%d", i), Action: a,
					To: g.cspPeers("egress"), Ports: g.cspPorts()})
			}
			w.ClusterSecurityPolicies = append(w.ClusterSecurityPolicies, c)
		}
	}
	// The pipeline must not depend on the order objects come in.
	g.r.Shuffle(len(w.ClusterSecurityPolicies), func(i, j int) {
		w.ClusterSecurityPolicies[i], w.ClusterSecurityPolicies[j] = w.ClusterSecurityPolicies[j], w.ClusterSecurityPolicies[i]
	})
}

func (g *gen) action() securityv1alpha1.RuleAction {
	switch x := g.n(20); {
	case x < 6:
		return securityv1alpha1.ActionAllow
	case x < 10:
		return securityv1alpha1.ActionDeny
	case x < 13:
		return securityv1alpha1.ActionReject
	default:
		return securityv1alpha1.ActionPass
	}
}

func (g *gen) cspPeers(dir string) []securityv1alpha1.Peer {
	var out []securityv1alpha1.Peer
	for range 1 + g.n(2) {
		var p securityv1alpha1.Peer
		switch g.n(7) {
		case 0, 1:
			s := g.nsSelector()
			p.Namespaces = &s
			g.cov.add("csp/" + dir + "/peer/namespaces")
		case 2, 3, 4:
			p.Pods = &securityv1alpha1.NamespacedPods{NamespaceSelector: g.nsSelector(), PodSelector: g.podSelector()}
			g.cov.add("csp/" + dir + "/peer/pods")
		default:
			for range 1 + g.n(3) {
				p.Networks = append(p.Networks, securityv1alpha1.CIDR(g.cidr().String()))
			}
			g.cov.add("csp/" + dir + "/peer/networks")
		}
		out = append(out, p)
	}
	return out
}

func (g *gen) cspPorts() []securityv1alpha1.Port {
	if g.chance(0.35) {
		g.cov.add("csp/ports/absent")
		return nil
	}
	var out []securityv1alpha1.Port
	for range 1 + g.n(3) {
		var p securityv1alpha1.Port
		proto, n := g.port()
		p.Protocol = securityv1alpha1.Protocol(proto)
		if p.Protocol == "" {
			g.cov.add("csp/port/defaultProto")
		} else {
			g.cov.add("csp/port/" + string(p.Protocol))
		}
		switch g.n(10) {
		case 0, 1, 2:
			p.NamedPort = pick(g, portNames...)
			g.cov.add("csp/port/named")
		default:
			p.Port = &n
			g.cov.add("csp/port/number")
			if g.chance(0.3) {
				end := n + int32(g.n(60))
				p.EndPort = &end
				g.cov.add("csp/port/range")
			}
		}
		out = append(out, p)
	}
	return out
}

// describe is a one-line summary of a world, for logs.
func (w *GenWorld) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d: %d namespaces, %d pods, %d NetworkPolicies, %d ClusterSecurityPolicies",
		w.Seed, len(w.Raw.Namespaces), len(w.Raw.Pods), len(w.Raw.NetworkPolicies), len(w.Raw.ClusterSecurityPolicies))
	if w.DualStack {
		b.WriteString(", dual stack")
	}
	if w.Tight {
		b.WriteString(", tight NSX limits")
	}
	return b.String()
}
