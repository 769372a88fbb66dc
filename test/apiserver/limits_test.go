package apiserver_test

import (
	"context"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
)

// The admission limits of api/v1alpha1/limits.go, as the API server applies them: one past each
// limit is refused with a message that names the field and the limit; exactly at the limits is
// accepted.
var _ = Describe("ClusterSecurityPolicy admission limits", func() {
	const (
		maxRules, maxPeers, maxNetworks, maxGroups, maxPorts = securityv1alpha1.MaxRules, securityv1alpha1.MaxPeers, securityv1alpha1.MaxNetworks, securityv1alpha1.MaxNSXGroups, securityv1alpha1.MaxPorts
		maxLabels, maxExpressions, maxValues                 = securityv1alpha1.MaxSelectorLabels, securityv1alpha1.MaxSelectorExpressions, securityv1alpha1.MaxSelectorValues
	)

	DescribeTable("refuses one past each limit, saying which field and what the limit is", expectRejected,
		Entry("too many ingress rules", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Ingress = ingressRules(maxRules + 1)
		}, "spec.ingress: Too many: 101: must have at most 100 items"),
		Entry("too many egress rules", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			for i := range maxRules + 1 - len(p.Spec.Egress) {
				p.Spec.Egress = append(p.Spec.Egress, securityv1alpha1.EgressRule{Name: fmt.Sprintf("r%d", i), Action: securityv1alpha1.ActionDeny,
					To: []securityv1alpha1.Peer{{Networks: []securityv1alpha1.CIDR{"10.0.0.0/8"}}}})
			}
		}, "spec.egress: Too many: 101: must have at most 100 items"),
		Entry("too many peers in a rule", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Ingress[0].From = networkPeers(maxPeers + 1)
		}, "spec.ingress[0].from: Too many: 26: must have at most 25 items"),
		Entry("too many networks in a peer", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Egress[2].To[0].Networks = cidrs(maxNetworks + 1)
		}, "spec.egress[2].to[0].networks: Too many: 26: must have at most 25 items"),
		Entry("too many NSX groups in a peer", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Egress[0].To[0].NSXGroups = groupNames(maxGroups+1, 10)
		}, "spec.egress[0].to[0].nsxGroups: Too many: 26: must have at most 25 items"),
		Entry("too many ports in a rule", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Ingress[0].Ports = ports(maxPorts + 1)
		}, "spec.ingress[0].ports: Too many: 26: must have at most 25 items"),
		Entry("too many matchLabels in the subject's pod selector", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Subject.Pods.PodSelector = selector(maxLabels+1, 0, 0)
		}, "spec.subject.pods.podSelector", "a label selector may have at most 16 matchLabels"),
		Entry("too many matchExpressions in a namespaces peer", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Egress[1].To[0].Namespaces = ptr.To(selector(0, maxExpressions+1, 1))
		}, "spec.egress[1].to[0].namespaces", "a label selector may have at most 16 matchExpressions"),
		Entry("too many values in a matchExpressions entry of a pods peer", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Ingress[0].From[0].Pods.NamespaceSelector = selector(1, 3, maxValues+1)
		}, "spec.ingress[0].from[0].pods.namespaceSelector", "a matchExpressions entry may list at most 64 values"),
		Entry("too many values in the last matchExpressions entry the limit allows", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			s := selector(0, maxExpressions, 1)
			s.MatchExpressions[maxExpressions-1].Values = values(maxValues + 1)
			p.Spec.Subject = securityv1alpha1.Subject{Namespaces: &s}
		}, "spec.subject.namespaces", "a matchExpressions entry may list at most 64 values"),
		Entry("a rule name longer than a DNS label", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Egress[0].Name = strings.Repeat("a", securityv1alpha1.MaxRuleNameLength+1)
		}, "spec.egress[0].name: Too long: may not be more than 63 bytes"),
		Entry("an NSX group name longer than NSX's display names", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Egress[0].To[0].NSXGroups = groupNames(1, securityv1alpha1.MaxNSXGroupNameLength+1)
		}, "spec.egress[0].to[0].nsxGroups[0]: Too long: may not be more than 255 bytes"),
		Entry("a CIDR longer than the longest IPv6 CIDR", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Ingress[1].From[0].Networks = []securityv1alpha1.CIDR{"2001:0db8:0000:0000:0000:0000:0000:0000:0/128"}
		}, "spec.ingress[1].from[0].networks[0]: Too long: may not be more than 43 bytes"),
		Entry("a named port longer than an IANA service name", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Ingress[0].Ports[0].NamedPort = strings.Repeat("p", securityv1alpha1.MaxNamedPortLength+1)
		}, "spec.ingress[0].ports[0].namedPort: Too long: may not be more than 15 bytes"),
	)

	It("accepts a policy with every list exactly at its limit", func(ctx context.Context) {
		p := validPolicy("at-the-limits")
		full := selector(maxLabels, maxExpressions, maxValues)
		p.Spec.Subject = securityv1alpha1.Subject{Pods: &securityv1alpha1.NamespacedPods{NamespaceSelector: full, PodSelector: full}}
		p.Spec.Ingress = ingressRules(maxRules)
		p.Spec.Ingress[0].Name = strings.Repeat("a", securityv1alpha1.MaxRuleNameLength)
		p.Spec.Ingress[0].From = networkPeers(maxPeers)
		p.Spec.Ingress[0].From[0].Networks = cidrs(maxNetworks)
		p.Spec.Ingress[0].From[1] = securityv1alpha1.Peer{NSXGroups: groupNames(maxGroups, securityv1alpha1.MaxNSXGroupNameLength)}
		p.Spec.Ingress[0].From[2] = securityv1alpha1.Peer{Namespaces: &full}
		p.Spec.Ingress[0].From[3] = securityv1alpha1.Peer{Pods: &securityv1alpha1.NamespacedPods{NamespaceSelector: full, PodSelector: full}}
		p.Spec.Ingress[0].Ports = ports(maxPorts)
		p.Spec.Ingress[0].Ports[0] = securityv1alpha1.Port{NamedPort: strings.Repeat("p", securityv1alpha1.MaxNamedPortLength)}
		p.Spec.Ingress[1].From[0].Networks = []securityv1alpha1.CIDR{"2001:db8:ffff:ffff:ffff:ffff:ffff:ff00/120", "::/0"}
		Expect(admin.Create(ctx, p)).To(Succeed())
		Expect(admin.Delete(ctx, p)).To(Succeed())
	})
})

func ingressRules(n int) []securityv1alpha1.IngressRule {
	rules := make([]securityv1alpha1.IngressRule, n)
	for i := range rules {
		rules[i] = securityv1alpha1.IngressRule{Name: fmt.Sprintf("rule-%d", i), Action: securityv1alpha1.ActionDeny, From: networkPeers(1)}
	}
	return rules
}

func networkPeers(n int) []securityv1alpha1.Peer {
	peers := make([]securityv1alpha1.Peer, n)
	for i := range peers {
		peers[i] = securityv1alpha1.Peer{Networks: []securityv1alpha1.CIDR{securityv1alpha1.CIDR(fmt.Sprintf("10.%d.0.0/16", i))}}
	}
	return peers
}

func cidrs(n int) []securityv1alpha1.CIDR {
	out := make([]securityv1alpha1.CIDR, n)
	for i := range out {
		out[i] = securityv1alpha1.CIDR(fmt.Sprintf("192.168.%d.0/24", i))
	}
	return out
}

// groupNames are n distinct NSGroup names of the given length.
func groupNames(n, length int) []securityv1alpha1.NSXGroupName {
	out := make([]securityv1alpha1.NSXGroupName, n)
	for i := range out {
		suffix := fmt.Sprintf("-%d", i)
		out[i] = securityv1alpha1.NSXGroupName(strings.Repeat("g", length-len(suffix)) + suffix)
	}
	return out
}

func ports(n int) []securityv1alpha1.Port {
	out := make([]securityv1alpha1.Port, n)
	for i := range out {
		out[i] = securityv1alpha1.Port{Protocol: securityv1alpha1.ProtocolTCP, Port: ptr.To(int32(1000 + i))}
	}
	return out
}

func values(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("v%d", i)
	}
	return out
}

// selector has the given numbers of matchLabels and matchExpressions, each expression an In
// with the given number of values.
func selector(labels, expressions, valuesEach int) metav1.LabelSelector {
	s := metav1.LabelSelector{}
	for i := range labels {
		if s.MatchLabels == nil {
			s.MatchLabels = map[string]string{}
		}
		s.MatchLabels[fmt.Sprintf("label-%d", i)] = "x"
	}
	for i := range expressions {
		s.MatchExpressions = append(s.MatchExpressions, metav1.LabelSelectorRequirement{
			Key: fmt.Sprintf("expr-%d", i), Operator: metav1.LabelSelectorOpIn, Values: values(valuesEach)})
	}
	return s
}
