package compile

import (
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
)

// This file is a straightforward reference evaluator of microseg's policy semantics, written from
// the specification (docs/architecture.md, 'What "correct" means', and the NetworkPolicy API
// documentation), not from the compiler. It evaluates one direction of one connection by walking the policies.

// refEndpoint is one end of a connection: a pod of the cluster or an outside address.
type refEndpoint struct {
	pod *corev1.Pod // nil: not a pod of this cluster
	ip  netip.Addr
}

type refEvaluator struct {
	nsLabels map[string]map[string]string
	pods     []*corev1.Pod
	security []*securityv1alpha1.ClusterSecurityPolicy
	baseline []*securityv1alpha1.ClusterSecurityPolicy
	nps      []*networkingv1.NetworkPolicy
	external map[string][]netip.Addr
}

func newRefEvaluator(in Input, external map[string][]netip.Addr) *refEvaluator {
	r := &refEvaluator{nsLabels: map[string]map[string]string{}, external: external}
	for i := range in.Namespaces {
		ns := &in.Namespaces[i]
		l := map[string]string{}
		for k, v := range ns.Labels {
			l[k] = v
		}
		l["kubernetes.io/metadata.name"] = ns.Name // set by the API server
		r.nsLabels[ns.Name] = l
	}
	for i := range in.Pods {
		r.pods = append(r.pods, &in.Pods[i])
	}
	for i := range in.ClusterSecurityPolicies {
		p := &in.ClusterSecurityPolicies[i]
		if p.Spec.Tier == securityv1alpha1.TierBaseline {
			r.baseline = append(r.baseline, p)
		} else {
			r.security = append(r.security, p)
		}
	}
	for _, list := range [][]*securityv1alpha1.ClusterSecurityPolicy{r.security, r.baseline} {
		sort.Slice(list, func(i, j int) bool {
			if list[i].Spec.Priority != list[j].Spec.Priority {
				return list[i].Spec.Priority < list[j].Spec.Priority
			}
			return list[i].Name < list[j].Name
		})
	}
	for i := range in.NetworkPolicies {
		r.nps = append(r.nps, &in.NetworkPolicies[i])
	}
	return r
}

// labelSelectorMatches: matchLabels and matchExpressions ANDed; NotIn and DoesNotExist match
// objects without the key.
func labelSelectorMatches(s *metav1.LabelSelector, labels map[string]string) bool {
	for k, v := range s.MatchLabels {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	for _, e := range s.MatchExpressions {
		v, has := labels[e.Key]
		in := false
		for _, x := range e.Values {
			if has && x == v {
				in = true
			}
		}
		switch e.Operator {
		case metav1.LabelSelectorOpIn:
			if !in {
				return false
			}
		case metav1.LabelSelectorOpNotIn:
			if in {
				return false
			}
		case metav1.LabelSelectorOpExists:
			if !has {
				return false
			}
		case metav1.LabelSelectorOpDoesNotExist:
			if has {
				return false
			}
		}
	}
	return true
}

// allowed evaluates one direction at a pod of the cluster: ingress when the pod is the
// destination (peer = source), egress when it is the source (peer = destination).
func (r *refEvaluator) allowed(pod *corev1.Pod, ingress bool, peer refEndpoint, f testFlow) bool {
	dstPod := pod // whose container ports a named port refers to
	if !ingress {
		dstPod = peer.pod
	}
	switch r.clusterTier(r.security, pod, ingress, peer, dstPod, f) {
	case "allow":
		return true
	case "deny":
		return false
	}
	// Developer tier.
	selected := false
	for _, np := range r.nps {
		if np.Namespace != pod.Namespace || !labelSelectorMatches(&np.Spec.PodSelector, pod.Labels) || !r.npApplies(np, ingress) {
			continue
		}
		selected = true
		if ingress {
			for _, rule := range np.Spec.Ingress {
				if r.npPeersMatch(np.Namespace, rule.From, peer) && npPortsMatch(rule.Ports, dstPod, f) {
					return true
				}
			}
		} else {
			for _, rule := range np.Spec.Egress {
				if r.npPeersMatch(np.Namespace, rule.To, peer) && npPortsMatch(rule.Ports, dstPod, f) {
					return true
				}
			}
		}
	}
	if selected {
		return false
	}
	return r.clusterTier(r.baseline, pod, ingress, peer, dstPod, f) != "deny"
}

func (r *refEvaluator) npApplies(np *networkingv1.NetworkPolicy, ingress bool) bool {
	if len(np.Spec.PolicyTypes) == 0 {
		return ingress || len(np.Spec.Egress) > 0
	}
	for _, t := range np.Spec.PolicyTypes {
		if (t == networkingv1.PolicyTypeIngress) == ingress {
			return true
		}
	}
	return false
}

// clusterTier walks one tier: "allow", "deny", or "" (nothing decided, or Pass).
func (r *refEvaluator) clusterTier(list []*securityv1alpha1.ClusterSecurityPolicy, pod *corev1.Pod, ingress bool,
	peer refEndpoint, dstPod *corev1.Pod, f testFlow) string {
	for _, p := range list {
		if !r.subjectContains(p.Spec.Subject, pod) {
			continue
		}
		type rule struct {
			action securityv1alpha1.RuleAction
			peers  []securityv1alpha1.Peer
			ports  []securityv1alpha1.Port
		}
		var rules []rule
		if ingress {
			for _, x := range p.Spec.Ingress {
				rules = append(rules, rule{x.Action, x.From, x.Ports})
			}
		} else {
			for _, x := range p.Spec.Egress {
				rules = append(rules, rule{x.Action, x.To, x.Ports})
			}
		}
		for _, x := range rules {
			if !r.cspPeersMatch(x.peers, peer) || !cspPortsMatch(x.ports, dstPod, f) {
				continue
			}
			switch x.action {
			case securityv1alpha1.ActionAllow:
				return "allow"
			case securityv1alpha1.ActionPass:
				return ""
			default:
				return "deny"
			}
		}
	}
	return ""
}

func (r *refEvaluator) subjectContains(s securityv1alpha1.Subject, pod *corev1.Pod) bool {
	if s.Namespaces != nil {
		return labelSelectorMatches(s.Namespaces, r.nsLabels[pod.Namespace])
	}
	return labelSelectorMatches(&s.Pods.NamespaceSelector, r.nsLabels[pod.Namespace]) &&
		labelSelectorMatches(&s.Pods.PodSelector, pod.Labels)
}

func (r *refEvaluator) cspPeersMatch(peers []securityv1alpha1.Peer, e refEndpoint) bool {
	for _, p := range peers {
		switch {
		case p.Namespaces != nil:
			if e.pod != nil && labelSelectorMatches(p.Namespaces, r.nsLabels[e.pod.Namespace]) {
				return true
			}
		case p.Pods != nil:
			if e.pod != nil && labelSelectorMatches(&p.Pods.NamespaceSelector, r.nsLabels[e.pod.Namespace]) &&
				labelSelectorMatches(&p.Pods.PodSelector, e.pod.Labels) {
				return true
			}
		case len(p.Networks) > 0:
			for _, c := range p.Networks {
				if netip.MustParsePrefix(string(c)).Contains(e.ip) {
					return true
				}
			}
		default:
			for _, g := range p.NSXGroups {
				for _, a := range r.external[string(g)] {
					if a == e.ip {
						return true
					}
				}
			}
		}
	}
	return false
}

func (r *refEvaluator) npPeersMatch(ns string, peers []networkingv1.NetworkPolicyPeer, e refEndpoint) bool {
	if len(peers) == 0 {
		return true
	}
	for _, p := range peers {
		switch {
		case p.IPBlock != nil:
			if netip.MustParsePrefix(p.IPBlock.CIDR).Contains(e.ip) {
				excluded := false
				for _, x := range p.IPBlock.Except {
					if netip.MustParsePrefix(x).Contains(e.ip) {
						excluded = true
					}
				}
				if !excluded {
					return true
				}
			}
		case e.pod == nil:
		case p.NamespaceSelector != nil:
			if labelSelectorMatches(p.NamespaceSelector, r.nsLabels[e.pod.Namespace]) &&
				(p.PodSelector == nil || labelSelectorMatches(p.PodSelector, e.pod.Labels)) {
				return true
			}
		default:
			if e.pod.Namespace == ns && labelSelectorMatches(p.PodSelector, e.pod.Labels) {
				return true
			}
		}
	}
	return false
}

// containerPortNumber resolves a named port on a pod: a container port with that name and
// protocol (TCP when unset).
func containerPortNumber(pod *corev1.Pod, proto corev1.Protocol, name string) int {
	if pod == nil {
		return -1
	}
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			pp := p.Protocol
			if pp == "" {
				pp = corev1.ProtocolTCP
			}
			if p.Name == name && pp == proto {
				return int(p.ContainerPort)
			}
		}
	}
	return -1
}

func npPortsMatch(ports []networkingv1.NetworkPolicyPort, dstPod *corev1.Pod, f testFlow) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		proto := corev1.ProtocolTCP
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		if string(proto) != f.proto {
			continue
		}
		switch {
		case p.Port == nil:
			return true
		case p.Port.Type == intstr.String:
			if containerPortNumber(dstPod, proto, p.Port.StrVal) == f.port {
				return true
			}
		default:
			end := int(p.Port.IntVal)
			if p.EndPort != nil {
				end = int(*p.EndPort)
			}
			if int(p.Port.IntVal) <= f.port && f.port <= end {
				return true
			}
		}
	}
	return false
}

func cspPortsMatch(ports []securityv1alpha1.Port, dstPod *corev1.Pod, f testFlow) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		proto := corev1.ProtocolTCP
		if p.Protocol != "" {
			proto = corev1.Protocol(p.Protocol)
		}
		if string(proto) != f.proto {
			continue
		}
		if p.NamedPort != "" {
			if containerPortNumber(dstPod, proto, p.NamedPort) == f.port {
				return true
			}
			continue
		}
		end := int(*p.Port)
		if p.EndPort != nil {
			end = int(*p.EndPort)
		}
		if int(*p.Port) <= f.port && f.port <= end {
			return true
		}
	}
	return false
}
