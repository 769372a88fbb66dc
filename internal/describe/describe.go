// Package describe writes policies and their rules in words, for people: the HTML report's tier
// ladder and explain's "why".
package describe

import (
	"fmt"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
)

// Selector is a label selector in kubectl's syntax, or "every" one when it is empty.
func Selector(s *metav1.LabelSelector, every string) string {
	if s == nil || (len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0) {
		return every
	}
	return metav1.FormatLabelSelector(s)
}

// Subject describes a ClusterSecurityPolicy's subject.
func Subject(s securityv1alpha1.Subject) string {
	if s.Namespaces != nil {
		return "every pod in " + namespaces(s.Namespaces)
	}
	if s.Pods != nil {
		return pods(s.Pods)
	}
	return "nothing"
}

func namespaces(s *metav1.LabelSelector) string {
	if name, ok := singleNamespace(s); ok {
		return "namespace " + name
	}
	return "namespaces " + Selector(s, "(all)")
}

// singleNamespace recognises the usual "this namespace" selector.
func singleNamespace(s *metav1.LabelSelector) (string, bool) {
	if s == nil || len(s.MatchExpressions) != 0 || len(s.MatchLabels) != 1 {
		return "", false
	}
	name, ok := s.MatchLabels["kubernetes.io/metadata.name"]
	return name, ok
}

func pods(p *securityv1alpha1.NamespacedPods) string {
	return "pods " + Selector(&p.PodSelector, "(all)") + " in " + namespaces(&p.NamespaceSelector)
}

// Peer describes one from/to entry of a ClusterSecurityPolicy rule.
func Peer(p securityv1alpha1.Peer) string {
	switch {
	case p.Namespaces != nil:
		return "every pod in " + namespaces(p.Namespaces)
	case p.Pods != nil:
		return pods(p.Pods)
	case len(p.Networks) > 0:
		nets := make([]string, len(p.Networks))
		for i, n := range p.Networks {
			nets[i] = string(n)
		}
		return "networks " + strings.Join(nets, ", ")
	case len(p.NSXGroups) > 0:
		groups := make([]string, len(p.NSXGroups))
		for i, g := range p.NSXGroups {
			groups[i] = string(g)
		}
		return "NSX groups " + strings.Join(groups, ", ")
	}
	return "nothing"
}

// Ports describes a ClusterSecurityPolicy rule's ports.
func Ports(ports []securityv1alpha1.Port) string {
	if len(ports) == 0 {
		return "every port"
	}
	out := make([]string, len(ports))
	for i, p := range ports {
		proto := string(p.Protocol)
		if proto == "" {
			proto = "TCP"
		}
		switch {
		case p.NamedPort != "":
			out[i] = p.NamedPort + "/" + proto
		case p.EndPort != nil && p.Port != nil:
			out[i] = fmt.Sprintf("%d-%d/%s", *p.Port, *p.EndPort, proto)
		case p.Port != nil:
			out[i] = fmt.Sprintf("%d/%s", *p.Port, proto)
		}
	}
	return strings.Join(out, ", ")
}

// Rule is one rule of a ClusterSecurityPolicy, as the report lists it.
type Rule struct {
	// Name is "ingress/<name>" or "egress/<name>": the rule field of simulate's records.
	Name, Action, Peers, Ports string
}

// CSPRules lists a ClusterSecurityPolicy's rules in evaluation order, ingress first.
func CSPRules(p *securityv1alpha1.ClusterSecurityPolicy) []Rule {
	var out []Rule
	for _, r := range p.Spec.Ingress {
		out = append(out, Rule{Name: "ingress/" + r.Name, Action: string(r.Action), Peers: "from " + peers(r.From), Ports: Ports(r.Ports)})
	}
	for _, r := range p.Spec.Egress {
		out = append(out, Rule{Name: "egress/" + r.Name, Action: string(r.Action), Peers: "to " + peers(r.To), Ports: Ports(r.Ports)})
	}
	return out
}

func peers(list []securityv1alpha1.Peer) string {
	out := make([]string, len(list))
	for i, p := range list {
		out[i] = Peer(p)
	}
	return strings.Join(out, "; or ")
}

// NPPeer describes one from/to entry of a NetworkPolicy rule.
func NPPeer(p networkingv1.NetworkPolicyPeer) string {
	switch {
	case p.IPBlock != nil:
		s := "addresses " + p.IPBlock.CIDR
		if len(p.IPBlock.Except) > 0 {
			s += " except " + strings.Join(p.IPBlock.Except, ", ")
		}
		return s
	case p.NamespaceSelector != nil && p.PodSelector != nil:
		return "pods " + Selector(p.PodSelector, "(all)") + " in " + namespaces(p.NamespaceSelector)
	case p.NamespaceSelector != nil:
		return "every pod in " + namespaces(p.NamespaceSelector)
	case p.PodSelector != nil:
		return "pods " + Selector(p.PodSelector, "(all)") + " of the policy's namespace"
	}
	return "nothing"
}

// NPPorts describes a NetworkPolicy rule's ports.
func NPPorts(ports []networkingv1.NetworkPolicyPort) string {
	if len(ports) == 0 {
		return "every port"
	}
	out := make([]string, len(ports))
	for i, p := range ports {
		proto := "TCP"
		if p.Protocol != nil {
			proto = string(*p.Protocol)
		}
		switch {
		case p.Port == nil:
			out[i] = "every " + proto + " port"
		case p.EndPort != nil:
			out[i] = p.Port.String() + "-" + strconv.Itoa(int(*p.EndPort)) + "/" + proto
		default:
			out[i] = p.Port.String() + "/" + proto
		}
	}
	return strings.Join(out, ", ")
}

// NPRules lists a NetworkPolicy's allow rules and, for each direction it isolates, the isolation
// its pods get: the rule names of simulate's records.
func NPRules(np *networkingv1.NetworkPolicy) []Rule {
	var out []Rule
	ingress, egress := false, false
	for _, t := range np.Spec.PolicyTypes {
		ingress = ingress || t == networkingv1.PolicyTypeIngress
		egress = egress || t == networkingv1.PolicyTypeEgress
	}
	if ingress {
		for i, r := range np.Spec.Ingress {
			out = append(out, Rule{Name: fmt.Sprintf("ingress/%d", i), Action: "Allow", Peers: "from " + npPeers(r.From), Ports: NPPorts(r.Ports)})
		}
		out = append(out, Rule{Name: "isolate/ingress", Action: "Deny", Peers: "anything else to the selected pods", Ports: "every port"})
	}
	if egress {
		for i, r := range np.Spec.Egress {
			out = append(out, Rule{Name: fmt.Sprintf("egress/%d", i), Action: "Allow", Peers: "to " + npPeers(r.To), Ports: NPPorts(r.Ports)})
		}
		out = append(out, Rule{Name: "isolate/egress", Action: "Deny", Peers: "anything else from the selected pods", Ports: "every port"})
	}
	return out
}

func npPeers(list []networkingv1.NetworkPolicyPeer) string {
	if len(list) == 0 {
		return "anywhere"
	}
	out := make([]string, len(list))
	for i, p := range list {
		out[i] = NPPeer(p)
	}
	return strings.Join(out, "; or ")
}
