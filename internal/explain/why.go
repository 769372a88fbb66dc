package explain

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/describe"
	"github.com/microseg/microseg/internal/evaluate"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/ports"
)

// why says, in the Kubernetes objects' terms, why the deciding rule matched: which selector
// selected the pod, which peer matched the other end, which ports; and which Pass rules handed
// the connection on before it.
func (x *explainer) why(d evaluate.Decision, dir ir.Direction, self, peer *corev1.Pod, peerIP netip.Addr, port ports.Port) []string {
	var out []string
	out = append(out, x.passes(dir, self, peer, peerIP, port, d)...)
	if d.Rule == nil {
		return append(out, fmt.Sprintf("no microseg rule matches at %s: NSX's sections below microseg decide (NSX's default section allows)", ref(self)))
	}
	o := d.Rule.Origin
	switch o.Object.Kind {
	case ir.KindClusterSecurityPolicy:
		return append(out, x.whyCSP(o, self, peer, peerIP)...)
	case ir.KindNetworkPolicy:
		return append(out, x.whyNP(o, dir, self, peer, peerIP)...)
	}
	return out
}

func (x *explainer) whyCSP(o ir.Origin, self, peer *corev1.Pod, peerIP netip.Addr) []string {
	p := x.csp(o.Object.Name)
	if p == nil {
		return nil
	}
	out := []string{fmt.Sprintf("%s (%s tier, priority %d) applies to %s; %s is one of them",
		o.Object, p.Spec.Tier, p.Spec.Priority, describe.Subject(p.Spec.Subject), ref(self))}
	for _, r := range describe.CSPRules(p) {
		if r.Name != o.Rule {
			continue
		}
		out = append(out, fmt.Sprintf("its rule %s (%s) is the first that matches: %s, on %s", r.Name, r.Action, r.Peers, r.Ports))
	}
	for _, peerSpec := range cspPeersOf(p, o.Rule) {
		if ok, reason := x.cspPeerMatches(peerSpec, peer, peerIP); ok {
			out = append(out, reason)
			break
		}
	}
	return out
}

func (x *explainer) whyNP(o ir.Origin, dir ir.Direction, self, peer *corev1.Pod, peerIP netip.Addr) []string {
	np := x.np(o.Object.Namespace, o.Object.Name)
	if np == nil {
		return nil
	}
	direction := "ingress"
	if dir == ir.DirectionOut {
		direction = "egress"
	}
	out := []string{fmt.Sprintf("%s selects %s (pods %s) for %s", o.Object, ref(self), describe.Selector(&np.Spec.PodSelector, "(all)"), direction)}
	if strings.HasPrefix(o.Rule, "isolate/") {
		var selecting []string
		for i := range x.snap.World.NetworkPolicies {
			other := &x.snap.World.NetworkPolicies[i]
			if other.Namespace == self.Namespace && isolates(other, direction) && matches(&other.Spec.PodSelector, self.Labels) {
				selecting = append(selecting, other.Name)
			}
		}
		return append(out, fmt.Sprintf("so %s accepts only what a rule of the NetworkPolicies selecting it for %s allows (%s), and none allows %s here",
			ref(self), direction, strings.Join(selecting, ", "), ref(peer)))
	}
	i, _ := strconv.Atoi(strings.TrimPrefix(strings.TrimPrefix(o.Rule, "ingress/"), "egress/"))
	var peers []networkingv1.NetworkPolicyPeer
	var portList []networkingv1.NetworkPolicyPort
	if dir == ir.DirectionIn && i < len(np.Spec.Ingress) {
		peers, portList = np.Spec.Ingress[i].From, np.Spec.Ingress[i].Ports
	} else if dir == ir.DirectionOut && i < len(np.Spec.Egress) {
		peers, portList = np.Spec.Egress[i].To, np.Spec.Egress[i].Ports
	}
	if len(peers) == 0 {
		return append(out, fmt.Sprintf("its rule %s allows every peer, on %s", o.Rule, describe.NPPorts(portList)))
	}
	for _, pe := range peers {
		if x.npPeerMatches(np, pe, peer, peerIP) {
			return append(out, fmt.Sprintf("its rule %s allows %s (%s is one), on %s", o.Rule, describe.NPPeer(pe), ref(peer), describe.NPPorts(portList)))
		}
	}
	return append(out, fmt.Sprintf("its rule %s allows %s", o.Rule, describe.NPPorts(portList)))
}

// passes lists the Pass rules that handed the connection on to a lower tier before the rule that
// decided (Pass rules are compiled away: no NSX rule shows them).
func (x *explainer) passes(dir ir.Direction, self, peer *corev1.Pod, peerIP netip.Addr, port ports.Port, d evaluate.Decision) []string {
	var out []string
	for _, tier := range []securityv1alpha1.Tier{securityv1alpha1.TierSecurity, securityv1alpha1.TierBaseline} {
		if d.Rule != nil && string(d.Section.Tier) == string(tier) {
			return out
		}
		for _, p := range x.tierPolicies(tier) {
			if p.Spec.Enforcement == securityv1alpha1.EnforcementStaged || !x.selects(p.Spec.Subject, self) {
				continue
			}
			if name, action, ok := x.firstMatch(p, dir, peer, peerIP, port); ok {
				if action == securityv1alpha1.ActionPass {
					out = append(out, fmt.Sprintf("ClusterSecurityPolicy/%s rule %s (Pass) hands the connection on from the %s tier", p.Name, name, tier))
				}
				break
			}
		}
	}
	return out
}

// firstMatch is the first rule of a policy in a direction whose peers and ports match.
func (x *explainer) firstMatch(p *securityv1alpha1.ClusterSecurityPolicy, dir ir.Direction, peer *corev1.Pod, peerIP netip.Addr, port ports.Port) (string, securityv1alpha1.RuleAction, bool) {
	type rule struct {
		name   string
		action securityv1alpha1.RuleAction
		peers  []securityv1alpha1.Peer
		ports  []securityv1alpha1.Port
	}
	var rules []rule
	if dir == ir.DirectionIn {
		for _, r := range p.Spec.Ingress {
			rules = append(rules, rule{"ingress/" + r.Name, r.Action, r.From, r.Ports})
		}
	} else {
		for _, r := range p.Spec.Egress {
			rules = append(rules, rule{"egress/" + r.Name, r.Action, r.To, r.Ports})
		}
	}
	for _, r := range rules {
		if !x.cspPortsMatch(r.ports, port) {
			continue
		}
		for _, pe := range r.peers {
			if ok, _ := x.cspPeerMatches(pe, peer, peerIP); ok {
				return r.name, r.action, true
			}
		}
	}
	return "", "", false
}

// cspPortsMatch: named ports resolve on the destination pod, whichever side the rule is at.
func (x *explainer) cspPortsMatch(list []securityv1alpha1.Port, port ports.Port) bool {
	if len(list) == 0 {
		return true
	}
	dst := x.dst
	for _, p := range list {
		proto := string(p.Protocol)
		if proto == "" {
			proto = "TCP"
		}
		if proto != port.Protocol {
			continue
		}
		switch {
		case p.NamedPort != "":
			if slices.Contains(namedPort(dst, p.NamedPort, proto), port.Number) {
				return true
			}
		case p.Port != nil:
			hi := *p.Port
			if p.EndPort != nil {
				hi = *p.EndPort
			}
			if int(*p.Port) <= port.Number && port.Number <= int(hi) {
				return true
			}
		}
	}
	return false
}

func namedPort(p *corev1.Pod, name, proto string) []int {
	var out []int
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			cpProto := string(cp.Protocol)
			if cpProto == "" {
				cpProto = "TCP"
			}
			if cp.Name == name && cpProto == proto {
				out = append(out, int(cp.ContainerPort))
			}
		}
	}
	return out
}

func (x *explainer) cspPeerMatches(p securityv1alpha1.Peer, peer *corev1.Pod, peerIP netip.Addr) (bool, string) {
	switch {
	case p.Namespaces != nil:
		if matches(p.Namespaces, x.nsLabels(peer.Namespace)) {
			return true, fmt.Sprintf("%s matches: its namespace's labels match %s", ref(peer), describe.Selector(p.Namespaces, "(every namespace)"))
		}
	case p.Pods != nil:
		if matches(&p.Pods.NamespaceSelector, x.nsLabels(peer.Namespace)) && matches(&p.Pods.PodSelector, peer.Labels) {
			return true, fmt.Sprintf("%s matches %s", ref(peer), describe.Peer(p))
		}
	case len(p.Networks) > 0:
		for _, n := range p.Networks {
			if pfx, err := netip.ParsePrefix(string(n)); err == nil && pfx.Contains(peerIP) {
				return true, fmt.Sprintf("%s (%s) is in the network %s", ref(peer), peerIP, n)
			}
		}
	case len(p.NSXGroups) > 0:
		return false, fmt.Sprintf("NSX groups %v: their members are known only to NSX", p.NSXGroups)
	}
	return false, ""
}

func (x *explainer) npPeerMatches(np *networkingv1.NetworkPolicy, pe networkingv1.NetworkPolicyPeer, peer *corev1.Pod, peerIP netip.Addr) bool {
	if pe.IPBlock != nil {
		pfx, err := netip.ParsePrefix(pe.IPBlock.CIDR)
		if err != nil || !pfx.Contains(peerIP) {
			return false
		}
		for _, e := range pe.IPBlock.Except {
			if ex, err := netip.ParsePrefix(e); err == nil && ex.Contains(peerIP) {
				return false
			}
		}
		return true
	}
	if pe.NamespaceSelector == nil && peer.Namespace != np.Namespace {
		return false
	}
	if pe.NamespaceSelector != nil && !matches(pe.NamespaceSelector, x.nsLabels(peer.Namespace)) {
		return false
	}
	return pe.PodSelector == nil || matches(pe.PodSelector, peer.Labels)
}

func (x *explainer) selects(s securityv1alpha1.Subject, pod *corev1.Pod) bool {
	switch {
	case s.Namespaces != nil:
		return matches(s.Namespaces, x.nsLabels(pod.Namespace))
	case s.Pods != nil:
		return matches(&s.Pods.NamespaceSelector, x.nsLabels(pod.Namespace)) && matches(&s.Pods.PodSelector, pod.Labels)
	}
	return false
}

func (x *explainer) tierPolicies(tier securityv1alpha1.Tier) []*securityv1alpha1.ClusterSecurityPolicy {
	var out []*securityv1alpha1.ClusterSecurityPolicy
	for i := range x.snap.World.ClusterSecurityPolicies {
		p := &x.snap.World.ClusterSecurityPolicies[i]
		if p.Spec.Tier == tier || (tier == securityv1alpha1.TierSecurity && p.Spec.Tier == "") {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *securityv1alpha1.ClusterSecurityPolicy) int {
		if a.Spec.Priority != b.Spec.Priority {
			return int(a.Spec.Priority - b.Spec.Priority)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

func (x *explainer) csp(name string) *securityv1alpha1.ClusterSecurityPolicy {
	for i := range x.snap.World.ClusterSecurityPolicies {
		if x.snap.World.ClusterSecurityPolicies[i].Name == name {
			return &x.snap.World.ClusterSecurityPolicies[i]
		}
	}
	return nil
}

func (x *explainer) np(ns, name string) *networkingv1.NetworkPolicy {
	for i := range x.snap.World.NetworkPolicies {
		if np := &x.snap.World.NetworkPolicies[i]; np.Namespace == ns && np.Name == name {
			return np
		}
	}
	return nil
}

func (x *explainer) nsLabels(name string) map[string]string {
	for _, ns := range x.snap.World.Namespaces {
		if ns.Name == name {
			return ns.Labels
		}
	}
	return map[string]string{"kubernetes.io/metadata.name": name}
}

// cspPeersOf are the peers of one rule ("ingress/<name>", "egress/<name>").
func cspPeersOf(p *securityv1alpha1.ClusterSecurityPolicy, rule string) []securityv1alpha1.Peer {
	for _, r := range p.Spec.Ingress {
		if "ingress/"+r.Name == rule {
			return r.From
		}
	}
	for _, r := range p.Spec.Egress {
		if "egress/"+r.Name == rule {
			return r.To
		}
	}
	return nil
}

func isolates(np *networkingv1.NetworkPolicy, direction string) bool {
	return slices.ContainsFunc(np.Spec.PolicyTypes, func(t networkingv1.PolicyType) bool { return strings.EqualFold(string(t), direction) })
}

func matches(sel *metav1.LabelSelector, set map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && s.Matches(labels.Set(set))
}

func ref(p *corev1.Pod) string { return p.Namespace + "/" + p.Name }
