package compile

import (
	"fmt"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/ir"
)

// benchWorld is a realistic large cluster: 1,000 namespaces of 10 pods (5 apps × 2 replicas, a
// few labels each, 20% dual-stack, http named ports that differ by version), 5 NetworkPolicies per
// namespace (default deny, app-to-app allows by label with named and numeric ports, namespace
// selectors, an ipBlock with except, DNS egress), and 50 ClusterSecurityPolicies (Security and
// Baseline, by team and environment, with Pass rules over namespaces and an NSX group).
func benchWorld() Input {
	in := Input{ClusterID: "prod-a"}
	apps := []string{"frontend", "backend", "db", "cache", "worker"}
	envs := []string{"prod", "staging", "dev"}
	podIP := 0
	for n := range 1000 {
		ns := fmt.Sprintf("team%02d-app%03d", n%50, n)
		if n == 0 {
			ns = "kube-system"
		}
		in.Namespaces = append(in.Namespaces, namespace(ns, fmt.Sprintf("team=t%02d,env=%s", n%50, envs[n%3])))
		for i := range 10 {
			app := apps[i/2]
			version := []string{"v1", "v2"}[i%2]
			podIP++
			ips := []string{fmt.Sprintf("10.%d.%d.%d", 16+podIP/65536, (podIP/256)%256, podIP%256)}
			if podIP%5 == 0 {
				ips = append(ips, fmt.Sprintf("fd00:10::%x", podIP))
			}
			var ports []string
			if app == "frontend" || app == "backend" {
				ports = append(ports, "http:"+map[string]string{"v1": "8080", "v2": "9090"}[version], "metrics:9100")
			}
			if app == "db" {
				ports = append(ports, "pg:5432")
			}
			in.Pods = append(in.Pods, testPod(ns, fmt.Sprintf("%s-%s-%d", app, version, i), fmt.Sprintf("app=%s,version=%s,tier=%s", app, version, []string{"web", "data"}[i/6]), ips, ports...))
		}
		in.NetworkPolicies = append(in.NetworkPolicies, benchPolicies(ns, n)...)
	}
	in.ClusterSecurityPolicies = benchClusterPolicies()
	return in
}

func benchPolicies(ns string, n int) []networkingv1.NetworkPolicy {
	deny := np(ns, "default-deny", &metav1.LabelSelector{})
	deny.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	front := np(ns, "frontend", sel("app=frontend"))
	front.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{
		From:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel("kubernetes.io/metadata.name=kube-system")}, {IPBlock: &networkingv1.IPBlock{CIDR: "192.168.0.0/16", Except: []string{"192.168.10.0/24"}}}},
		Ports: []networkingv1.NetworkPolicyPort{npPort("", "http")}}}
	back := np(ns, "backend", sel("app=backend"))
	back.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{
		From:  []networkingv1.NetworkPolicyPeer{{PodSelector: sel("app=frontend")}},
		Ports: []networkingv1.NetworkPolicyPort{npPort("", "http"), npPort("", "metrics")}}}
	data := np(ns, "data", selExpr("app", metav1.LabelSelectorOpIn, "db", "cache"))
	data.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{
		From:  []networkingv1.NetworkPolicyPeer{{PodSelector: selExpr("app", metav1.LabelSelectorOpIn, "backend", "worker")}},
		Ports: []networkingv1.NetworkPolicyPort{npPort("", 5432), npPort("", 6379)}}}
	worker := np(ns, "worker-egress", sel("app=worker"))
	worker.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{
		{To: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel("kubernetes.io/metadata.name=kube-system"), PodSelector: sel("app=frontend")}},
			Ports: []networkingv1.NetworkPolicyPort{npPort("UDP", 53), npPort("TCP", 53)}},
		{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: []string{"10.0.0.0/8"}}}},
			Ports: []networkingv1.NetworkPolicyPort{npPort("", 443)}},
		{To: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel(fmt.Sprintf("team=t%02d", n%50)), PodSelector: sel("app=backend")}}},
	}
	if n%10 == 0 {
		worker.Spec.PodSelector = *selExpr("app", metav1.LabelSelectorOpNotIn, "frontend", "backend")
	}
	return []networkingv1.NetworkPolicy{deny, front, back, data, worker}
}

func benchClusterPolicies() []securityv1alpha1.ClusterSecurityPolicy {
	var out []securityv1alpha1.ClusterSecurityPolicy
	for i := range 20 {
		p := csp(fmt.Sprintf("security-%02d", i), securityv1alpha1.TierSecurity, int32(i*10), subjectNamespaces(sel(fmt.Sprintf("team=t%02d", i))))
		p.Spec.Ingress = []securityv1alpha1.IngressRule{
			{Name: "pass-monitoring", Action: securityv1alpha1.ActionPass, From: []securityv1alpha1.Peer{nsxGroups("monitoring")}},
			{Name: "allow-system", Action: securityv1alpha1.ActionAllow, From: []securityv1alpha1.Peer{nsPeer(sel("kubernetes.io/metadata.name=kube-system"))},
				Ports: []securityv1alpha1.Port{cspPortNamed("TCP", "metrics")}},
			{Name: "deny-other-teams", Action: securityv1alpha1.ActionDeny, From: []securityv1alpha1.Peer{nsPeer(selExpr("team", metav1.LabelSelectorOpNotIn, fmt.Sprintf("t%02d", i)))}},
		}
		p.Spec.Egress = []securityv1alpha1.EgressRule{
			{Name: "deny-metadata", Action: securityv1alpha1.ActionReject, To: []securityv1alpha1.Peer{networks("169.254.169.254/32")}},
		}
		out = append(out, p)
	}
	for i := range 30 {
		p := csp(fmt.Sprintf("baseline-%02d", i), securityv1alpha1.TierBaseline, int32(i), subjectPods(sel([]string{"env=prod", "env=staging", "env=dev"}[i%3]), sel("tier=data")))
		p.Spec.Ingress = []securityv1alpha1.IngressRule{
			{Name: "pass-same-env", Action: securityv1alpha1.ActionPass, From: []securityv1alpha1.Peer{nsPeer(sel([]string{"env=prod", "env=staging", "env=dev"}[i%3]))}, Ports: []securityv1alpha1.Port{cspPortNum("TCP", 5432)}},
			{Name: "deny-pods", Action: securityv1alpha1.ActionDeny, From: []securityv1alpha1.Peer{nsPeer(nil)}},
		}
		out = append(out, p)
	}
	return out
}

// BenchmarkCompile compiles the 1,000-namespace / 10,000-pod / 5,000-NetworkPolicy / 50-CSP
// world: go test -bench . -benchmem -run ^$ ./internal/compile/
func BenchmarkCompile(b *testing.B) {
	in := benchWorld()
	m, err := Compile(in)
	if err != nil {
		b.Fatal(err)
	}
	if errs := ir.Check(m, ir.Limits{}); len(errs) > 0 {
		b.Fatal(errs[0])
	}
	for b.Loop() {
		if _, err := Compile(in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(m.RuleCount()), "rules")
	b.ReportMetric(float64(len(m.Groups)), "groups")
	b.ReportMetric(float64(len(m.Sections)), "sections")
}
