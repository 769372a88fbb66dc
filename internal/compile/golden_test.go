package compile

import (
	"path/filepath"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/golden"
)

// goldenPassWorld has Pass rules in both tiers (over namespaces, ports, an NSX group and half the
// address space), named ports that differ per pod, NotIn, and an ipBlock with except.
func goldenPassWorld() Input {
	in := basicWorld()
	sec := csp("platform", securityv1alpha1.TierSecurity, 10, subjectNamespaces(nil))
	sec.Spec.Ingress = []securityv1alpha1.IngressRule{
		{Name: "pass-monitoring", Action: securityv1alpha1.ActionPass, From: []securityv1alpha1.Peer{nsxGroups("monitoring-vms")}},
		{Name: "pass-system", Action: securityv1alpha1.ActionPass, From: []securityv1alpha1.Peer{nsPeer(sel("kubernetes.io/metadata.name=kube-system"))},
			Ports: []securityv1alpha1.Port{cspPortNum("UDP", 53)}},
		{Name: "allow-tools-http", Action: securityv1alpha1.ActionAllow, From: []securityv1alpha1.Peer{nsPeer(sel("env=dev"))},
			Ports: []securityv1alpha1.Port{cspPortNamed("TCP", "http")}},
		{Name: "reject-rest", Action: securityv1alpha1.ActionReject, Logged: true, From: []securityv1alpha1.Peer{networks("0.0.0.0/0", "::/0")}},
	}
	sec.Spec.Egress = []securityv1alpha1.EgressRule{
		{Name: "pass-v4", Action: securityv1alpha1.ActionPass, To: []securityv1alpha1.Peer{networks("0.0.0.0/0")}},
		{Name: "deny-rest", Action: securityv1alpha1.ActionDeny, To: []securityv1alpha1.Peer{networks("::/0")}},
	}
	base := csp("default-deny", securityv1alpha1.TierBaseline, 100, subjectPods(sel("env=prod"), selExpr("app", metav1.LabelSelectorOpNotIn, "web")))
	base.Spec.Ingress = []securityv1alpha1.IngressRule{
		{Name: "deny-pods", Action: securityv1alpha1.ActionDeny, From: []securityv1alpha1.Peer{nsPeer(nil)}},
	}
	web := np("shop", "web", sel("app=web"))
	web.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{npPort("", "http")}}}
	web.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{
		{To: []networkingv1.NetworkPolicyPeer{{PodSelector: sel("app=db")}}, Ports: []networkingv1.NetworkPolicyPort{npPort("", "pg")}},
		{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: []string{"10.0.0.0/8"}}}},
			Ports: []networkingv1.NetworkPolicyPort{npPort("", 443)}},
	}
	in.ClusterSecurityPolicies = []securityv1alpha1.ClusterSecurityPolicy{sec, base}
	in.NetworkPolicies = []networkingv1.NetworkPolicy{web}
	return in
}

func TestGolden(t *testing.T) {
	cases := map[string]func() Input{
		"reference":      func() Input { return referenceScenario(t) },
		"reference-tiny": func() Input { in := referenceScenario(t); in.Settings = tinySettings(); return in },
		"pass":           goldenPassWorld,
		"random-seed-7":  func() Input { return randomWorld(7).in },
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) {
			got := []byte(toJSON(t, mustCompile(t, build())) + "\n")
			golden.Check(t, filepath.Join("testdata", name+".golden"), got)
		})
	}
}
