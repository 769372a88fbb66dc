package conformance

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	npav1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/pipeline"
)

// Synthetic pod labels the mapping adds in the oracle's copy of the world (never in microseg's).
// No generated selector names these keys, so they change nothing else.
const (
	syntheticPrefix  = "conformance.microseg.io/"
	baselineClassKey = syntheticPrefix + "baseline-class"
)

// mutation, when set (by TestHarnessDetectsMutations only), plants one known error in the
// mapping or in microseg's input, to show that the comparison notices it.
var mutation string

func netLabelKey(i int) string { return syntheticPrefix + "net-" + strconv.Itoa(i) }

// direction is one half of the evaluation of a connection.
type direction int

const (
	egress  direction = iota // at the source
	ingress                  // at the destination
)

func (d direction) String() string {
	if d == egress {
		return "egress"
	}
	return "ingress"
}

// oracleWorld is a normalised world laid out for the oracle in one address family.
//
// The oracle decides both directions of a packet in one call. To get each direction's verdict
// on its own (and to work around the deviation described at npView), the oracle is loaded with
// one view per direction: in the egress view every policy keeps only its egress side, in the
// ingress view only its ingress side, so the other direction allows everything and the verdict
// is that of the direction under test.
type oracleWorld struct {
	fam        int
	namespaces []*corev1.Namespace
	nsLabels   map[string]labels.Set
	pods       []*corev1.Pod // with the synthetic labels of this family
	podByRef   map[pipeline.PodRef]*corev1.Pod
	npViews    [2][]*networkingv1.NetworkPolicy
	security   []*securityv1alpha1.ClusterSecurityPolicy
	// baselineClasses[k] are the Baseline CSPs selecting the pods labelled baseline-class=k,
	// in evaluation order.
	baselineClasses [][]*securityv1alpha1.ClusterSecurityPolicy
	netKeys         map[string]string // CIDR → synthetic label key
	// named are the (protocol, name) pairs of every CSP namedPort, sorted.
	named []namedPort
}

type namedPort struct {
	proto corev1.Protocol
	name  string
}

// newOracleWorld prepares a normalised world for family fam (4 or 6).
func newOracleWorld(w pipeline.World, fam int) (*oracleWorld, error) {
	ow := &oracleWorld{fam: fam, nsLabels: map[string]labels.Set{}, podByRef: map[pipeline.PodRef]*corev1.Pod{}, netKeys: map[string]string{}}
	for i := range w.Namespaces {
		ns := w.Namespaces[i].DeepCopy()
		ow.namespaces = append(ow.namespaces, ns)
		ow.nsLabels[ns.Name] = labels.Set(ns.Labels)
	}
	var security, baseline []*securityv1alpha1.ClusterSecurityPolicy
	var cidrs []string
	namedSeen := map[namedPort]bool{}
	for i := range w.ClusterSecurityPolicies {
		c := w.ClusterSecurityPolicies[i].DeepCopy()
		switch c.Spec.Tier {
		case securityv1alpha1.TierSecurity:
			security = append(security, c)
		case securityv1alpha1.TierBaseline:
			baseline = append(baseline, c)
		default:
			return nil, fmt.Errorf("ClusterSecurityPolicy %s: tier %q (not normalised?)", c.Name, c.Spec.Tier)
		}
		for _, r := range c.Spec.Ingress {
			for _, p := range r.From {
				for _, n := range p.Networks {
					cidrs = append(cidrs, string(n))
				}
				if len(p.NSXGroups) > 0 {
					return nil, fmt.Errorf("ClusterSecurityPolicy %s: nsxGroups peers cannot be given to the oracle", c.Name)
				}
			}
		}
		for _, r := range c.Spec.Egress {
			for _, p := range r.To {
				if len(p.NSXGroups) > 0 {
					return nil, fmt.Errorf("ClusterSecurityPolicy %s: nsxGroups peers cannot be given to the oracle", c.Name)
				}
			}
		}
		for _, ports := range cspPortLists(c) {
			for _, p := range ports {
				if p.NamedPort != "" {
					namedSeen[namedPort{corev1.Protocol(p.Protocol), p.NamedPort}] = true
				}
			}
		}
	}
	byPriority := func(a, b *securityv1alpha1.ClusterSecurityPolicy) int {
		return cmp.Or(cmp.Compare(a.Spec.Priority, b.Spec.Priority), strings.Compare(a.Name, b.Name))
	}
	slices.SortFunc(security, byPriority)
	slices.SortFunc(baseline, byPriority)
	if mutation == "reverse-baseline-order" {
		slices.Reverse(baseline)
	}
	ow.security = security
	for np := range namedSeen {
		ow.named = append(ow.named, np)
	}
	slices.SortFunc(ow.named, func(a, b namedPort) int {
		return cmp.Or(strings.Compare(string(a.proto), string(b.proto)), strings.Compare(a.name, b.name))
	})
	slices.Sort(cidrs)
	cidrs = slices.Compact(cidrs)
	prefixes := make([]netip.Prefix, len(cidrs))
	for i, c := range cidrs {
		ow.netKeys[c] = netLabelKey(i)
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, err
		}
		prefixes[i] = p
	}
	classOf := map[string]int{}
	for i := range w.Pods {
		p := w.Pods[i].DeepCopy()
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		for k := range p.Labels {
			if strings.HasPrefix(k, syntheticPrefix) {
				return nil, fmt.Errorf("pod %s/%s uses the reserved label prefix %s", p.Namespace, p.Name, syntheticPrefix)
			}
		}
		addr, ok := podAddr(p, fam)
		for i, pre := range prefixes {
			if ok && pre.Contains(addr) {
				p.Labels[netLabelKey(i)] = "in"
			}
		}
		var class []*securityv1alpha1.ClusterSecurityPolicy
		var names []string
		for _, c := range baseline {
			if ow.subjectSelects(c.Spec.Subject, p) {
				class = append(class, c)
				names = append(names, c.Name)
			}
		}
		if len(class) > 0 {
			key := strings.Join(names, ",")
			k, ok := classOf[key]
			if !ok {
				k = len(ow.baselineClasses)
				classOf[key] = k
				ow.baselineClasses = append(ow.baselineClasses, class)
			}
			p.Labels[baselineClassKey] = strconv.Itoa(k)
		}
		ow.pods = append(ow.pods, p)
		ow.podByRef[pipeline.PodRef{Namespace: p.Namespace, Name: p.Name}] = p
	}
	for _, d := range []direction{egress, ingress} {
		ow.npViews[d] = npView(w.NetworkPolicies, d)
	}
	return ow, nil
}

// npView keeps the NetworkPolicies that have direction d in policyTypes, reduced to that
// direction. By the NetworkPolicy API this changes no verdict of direction d.
//
// It also works around a deviation of the oracle: kube-network-policies v0.8.0 skips the
// BaselineAdminNetworkPolicy of a direction as soon as any NetworkPolicy selects the pod, even
// one whose policyTypes leave that direction out (getNetworkPoliciesForPod ignores policyTypes),
// whereas the API (and microseg) apply the baseline tier unless a NetworkPolicy isolates the pod
// for that direction. See TestOracleDeviations.
func npView(nps []networkingv1.NetworkPolicy, d direction) []*networkingv1.NetworkPolicy {
	want := networkingv1.PolicyTypeEgress
	if d == ingress {
		want = networkingv1.PolicyTypeIngress
	}
	var out []*networkingv1.NetworkPolicy
	if mutation == "no-direction-views" {
		var out []*networkingv1.NetworkPolicy
		for i := range nps {
			out = append(out, nps[i].DeepCopy())
		}
		return out
	}
	for i := range nps {
		if !slices.Contains(nps[i].Spec.PolicyTypes, want) {
			continue
		}
		np := nps[i].DeepCopy()
		np.Spec.PolicyTypes = []networkingv1.PolicyType{want}
		if d == egress {
			np.Spec.Ingress = nil
		} else {
			np.Spec.Egress = nil
		}
		out = append(out, np)
	}
	return out
}

func podAddr(p *corev1.Pod, fam int) (netip.Addr, bool) {
	for _, ip := range p.Status.PodIPs {
		a, err := netip.ParseAddr(ip.IP)
		if err == nil && a.Is4() == (fam == 4) {
			return a, true
		}
	}
	return netip.Addr{}, false
}

func selects(sel *metav1.LabelSelector, set labels.Set) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		panic(fmt.Sprintf("generated an invalid selector %v: %v", sel, err))
	}
	return s.Matches(set)
}

// subjectSelects reports whether a CSP subject selects the pod.
func (ow *oracleWorld) subjectSelects(s securityv1alpha1.Subject, p *corev1.Pod) bool {
	nsl := ow.nsLabels[p.Namespace]
	switch {
	case s.Namespaces != nil:
		return selects(s.Namespaces, nsl)
	case s.Pods != nil:
		return selects(&s.Pods.NamespaceSelector, nsl) && selects(&s.Pods.PodSelector, userLabels(p))
	}
	return false
}

// userLabels are a pod's labels without the synthetic ones.
func userLabels(p *corev1.Pod) labels.Set {
	out := labels.Set{}
	for k, v := range p.Labels {
		if !strings.HasPrefix(k, syntheticPrefix) {
			out[k] = v
		}
	}
	return out
}

func cspPortLists(c *securityv1alpha1.ClusterSecurityPolicy) [][]securityv1alpha1.Port {
	var out [][]securityv1alpha1.Port
	for _, r := range c.Spec.Ingress {
		out = append(out, r.Ports)
	}
	for _, r := range c.Spec.Egress {
		out = append(out, r.Ports)
	}
	return out
}

// resolve is the number a named port has on pod p (app containers only, name and protocol
// equal), or 0.
func resolve(p *corev1.Pod, np namedPort) int32 {
	if p == nil {
		return 0 // outside the cluster: no named ports
	}
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == np.name && cp.Protocol == np.proto {
				return cp.ContainerPort
			}
		}
	}
	return 0
}

// profile identifies what the CSPs' named ports resolve to on a destination pod: destinations
// with the same profile share one set of admin policies in the oracle.
func (ow *oracleWorld) profile(dst *corev1.Pod) string {
	var b strings.Builder
	for _, np := range ow.named {
		fmt.Fprintf(&b, "%s/%s=%d;", np.proto, np.name, resolve(dst, np))
	}
	return b.String()
}

// admin maps the CSPs onto AdminNetworkPolicies (Security tier) and BaselineAdminNetworkPolicies
// (Baseline tier) for flows of direction d to the destination pod dst.
//
// Named ports: the oracle's AdminNetworkPolicy namedPort matches any destination pod that has a
// container port of that name, whatever its number and protocol (and, for ingress, it looks at
// the source pod). So named ports are resolved here, on the destination pod of the flows being
// evaluated: a namedPort becomes portNumber{protocol, n} when dst has an app container port of
// that name and protocol with number n, and is dropped otherwise; a rule all of whose ports were
// dropped can match nothing and is left out (an empty ports list would mean "every port").
func (ow *oracleWorld) admin(d direction, dst *corev1.Pod) ([]*npav1alpha1.AdminNetworkPolicy, []*npav1alpha1.BaselineAdminNetworkPolicy) {
	var anps []*npav1alpha1.AdminNetworkPolicy
	for _, c := range ow.security {
		anp := &npav1alpha1.AdminNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: c.Name}}
		anp.Spec.Priority = c.Spec.Priority
		if mutation == "reverse-priority" {
			anp.Spec.Priority = 1000 - c.Spec.Priority
		}
		if mutation == "reverse-ties" {
			anp.Name = reverseOrder(c.Name)
		}
		anp.Spec.Subject = anpSubject(c.Spec.Subject)
		if d == ingress {
			for _, r := range c.Spec.Ingress {
				if ports, ok := ow.ports(r.Ports, dst); ok {
					anp.Spec.Ingress = append(anp.Spec.Ingress, npav1alpha1.AdminNetworkPolicyIngressRule{Name: r.Name,
						Action: anpAction(r.Action), From: ow.ingressPeers(r.From), Ports: ports})
				}
			}
		} else {
			for _, r := range c.Spec.Egress {
				if ports, ok := ow.ports(r.Ports, dst); ok {
					anp.Spec.Egress = append(anp.Spec.Egress, npav1alpha1.AdminNetworkPolicyEgressRule{Name: r.Name,
						Action: anpAction(r.Action), To: egressPeers(r.To), Ports: ports})
				}
			}
		}
		anps = append(anps, anp)
	}
	var banps []*npav1alpha1.BaselineAdminNetworkPolicy
	for k, class := range ow.baselineClasses {
		banp := &npav1alpha1.BaselineAdminNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "default-" + strconv.Itoa(k)}}
		banp.Spec.Subject.Pods = &npav1alpha1.NamespacedPod{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{baselineClassKey: strconv.Itoa(k)}}}
		for _, c := range class {
			if d == ingress {
				for _, r := range c.Spec.Ingress {
					if ports, ok := ow.ports(r.Ports, dst); ok {
						banp.Spec.Ingress = append(banp.Spec.Ingress, npav1alpha1.BaselineAdminNetworkPolicyIngressRule{
							Name: c.Name + "/" + r.Name, Action: banpAction(r.Action), From: ow.ingressPeers(r.From), Ports: ports})
					}
				}
			} else {
				for _, r := range c.Spec.Egress {
					if ports, ok := ow.ports(r.Ports, dst); ok {
						var to []npav1alpha1.BaselineAdminNetworkPolicyEgressPeer
						for _, p := range egressPeers(r.To) {
							to = append(to, npav1alpha1.BaselineAdminNetworkPolicyEgressPeer{Namespaces: p.Namespaces, Pods: p.Pods, Networks: p.Networks})
						}
						banp.Spec.Egress = append(banp.Spec.Egress, npav1alpha1.BaselineAdminNetworkPolicyEgressRule{
							Name: c.Name + "/" + r.Name, Action: banpAction(r.Action), To: to, Ports: ports})
					}
				}
			}
		}
		banps = append(banps, banp)
	}
	return anps, banps
}

func anpSubject(s securityv1alpha1.Subject) npav1alpha1.AdminNetworkPolicySubject {
	var out npav1alpha1.AdminNetworkPolicySubject
	if s.Namespaces != nil {
		out.Namespaces = s.Namespaces.DeepCopy()
	}
	if s.Pods != nil {
		out.Pods = &npav1alpha1.NamespacedPod{NamespaceSelector: *s.Pods.NamespaceSelector.DeepCopy(), PodSelector: *s.Pods.PodSelector.DeepCopy()}
	}
	return out
}

// anpAction: Reject drops like Deny (it also answers the client, which no verdict shows).
func anpAction(a securityv1alpha1.RuleAction) npav1alpha1.AdminNetworkPolicyRuleAction {
	switch {
	case mutation == "security-pass-as-allow" && a == securityv1alpha1.ActionPass,
		mutation == "reject-as-allow" && a == securityv1alpha1.ActionReject:
		return npav1alpha1.AdminNetworkPolicyRuleActionAllow
	case mutation == "security-pass-as-deny" && a == securityv1alpha1.ActionPass:
		return npav1alpha1.AdminNetworkPolicyRuleActionDeny
	}
	switch a {
	case securityv1alpha1.ActionAllow:
		return npav1alpha1.AdminNetworkPolicyRuleActionAllow
	case securityv1alpha1.ActionDeny, securityv1alpha1.ActionReject:
		return npav1alpha1.AdminNetworkPolicyRuleActionDeny
	case securityv1alpha1.ActionPass:
		return npav1alpha1.AdminNetworkPolicyRuleActionPass
	}
	panic("unknown action " + string(a))
}

// banpAction: the Baseline tier is the last one microseg owns, and what lies below it is NSX's
// default section, which allows. So a Baseline Pass (skip the rest of the tier) has the verdict
// of a BANP Allow, which ends the baseline evaluation with an allow.
func banpAction(a securityv1alpha1.RuleAction) npav1alpha1.BaselineAdminNetworkPolicyRuleAction {
	if mutation == "baseline-pass-as-deny" && a == securityv1alpha1.ActionPass {
		return npav1alpha1.BaselineAdminNetworkPolicyRuleActionDeny
	}
	switch a {
	case securityv1alpha1.ActionAllow, securityv1alpha1.ActionPass:
		return npav1alpha1.BaselineAdminNetworkPolicyRuleActionAllow
	case securityv1alpha1.ActionDeny, securityv1alpha1.ActionReject:
		return npav1alpha1.BaselineAdminNetworkPolicyRuleActionDeny
	}
	panic("unknown action " + string(a))
}

// ports maps a CSP rule's ports for flows to dst; ok is false when the rule can match no flow to
// dst (every port was a named port dst does not have).
func (ow *oracleWorld) ports(ps []securityv1alpha1.Port, dst *corev1.Pod) (*[]npav1alpha1.AdminNetworkPolicyPort, bool) {
	if len(ps) == 0 {
		return nil, true
	}
	var out []npav1alpha1.AdminNetworkPolicyPort
	for _, p := range ps {
		proto := corev1.Protocol(p.Protocol)
		switch {
		case p.NamedPort != "" && mutation == "named-ports-unresolved":
			name := p.NamedPort
			out = append(out, npav1alpha1.AdminNetworkPolicyPort{NamedPort: &name})
		case p.NamedPort != "":
			if n := resolve(dst, namedPort{proto, p.NamedPort}); n != 0 {
				out = append(out, npav1alpha1.AdminNetworkPolicyPort{PortNumber: &npav1alpha1.Port{Protocol: proto, Port: n}})
			}
		case p.EndPort != nil && mutation != "range-as-single-port":
			out = append(out, npav1alpha1.AdminNetworkPolicyPort{PortRange: &npav1alpha1.PortRange{Protocol: proto, Start: *p.Port, End: *p.EndPort}})
		default:
			out = append(out, npav1alpha1.AdminNetworkPolicyPort{PortNumber: &npav1alpha1.Port{Protocol: proto, Port: *p.Port}})
		}
	}
	if len(out) == 0 {
		return nil, false
	}
	return &out, true
}

// ingressPeers maps CSP ingress peers. AdminNetworkPolicy ingress peers have no networks, so a
// networks peer becomes one pods peer per CIDR over the synthetic label that marks, in this
// family, the pods whose address lies in that CIDR (the flows compared are pod to pod, so the
// source is always a pod).
func (ow *oracleWorld) ingressPeers(ps []securityv1alpha1.Peer) []npav1alpha1.AdminNetworkPolicyIngressPeer {
	var out []npav1alpha1.AdminNetworkPolicyIngressPeer
	for _, p := range ps {
		switch {
		case p.Namespaces != nil:
			out = append(out, npav1alpha1.AdminNetworkPolicyIngressPeer{Namespaces: p.Namespaces.DeepCopy()})
		case p.Pods != nil:
			out = append(out, npav1alpha1.AdminNetworkPolicyIngressPeer{Pods: &npav1alpha1.NamespacedPod{
				NamespaceSelector: *p.Pods.NamespaceSelector.DeepCopy(), PodSelector: *p.Pods.PodSelector.DeepCopy()}})
		case len(p.Networks) > 0 && mutation != "drop-ingress-networks":
			for _, n := range p.Networks {
				out = append(out, npav1alpha1.AdminNetworkPolicyIngressPeer{Pods: &npav1alpha1.NamespacedPod{
					PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{ow.netKeys[string(n)]: "in"}}}})
			}
		}
	}
	return out
}

func egressPeers(ps []securityv1alpha1.Peer) []npav1alpha1.AdminNetworkPolicyEgressPeer {
	var out []npav1alpha1.AdminNetworkPolicyEgressPeer
	for _, p := range ps {
		switch {
		case p.Namespaces != nil:
			out = append(out, npav1alpha1.AdminNetworkPolicyEgressPeer{Namespaces: p.Namespaces.DeepCopy()})
		case p.Pods != nil:
			out = append(out, npav1alpha1.AdminNetworkPolicyEgressPeer{Pods: &npav1alpha1.NamespacedPod{
				NamespaceSelector: *p.Pods.NamespaceSelector.DeepCopy(), PodSelector: *p.Pods.PodSelector.DeepCopy()}})
		case len(p.Networks) > 0 && mutation != "drop-egress-networks":
			var nets []npav1alpha1.CIDR
			for _, n := range p.Networks {
				nets = append(nets, npav1alpha1.CIDR(n))
			}
			out = append(out, npav1alpha1.AdminNetworkPolicyEgressPeer{Networks: nets})
		}
	}
	return out
}

// reverseOrder maps names onto names sorting the other way round (for a mutation).
func reverseOrder(s string) string {
	b := []byte(s)
	for i := range b {
		b[i] = 'z' - (b[i] - '-')
	}
	return string(b)
}
