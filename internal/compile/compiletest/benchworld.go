package compiletest

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
)

// World is a cluster's worth of objects for the compiler (compile.Input without the settings; this
// package cannot import compile, whose tests import it).
type World struct {
	Namespaces              []corev1.Namespace
	Pods                    []corev1.Pod
	NetworkPolicies         []networkingv1.NetworkPolicy
	ClusterSecurityPolicies []securityv1alpha1.ClusterSecurityPolicy
}

// BenchWorld is the benchmark cluster at a scale: 1,000×scale namespaces of 10 pods
// (10,000×scale pods, a few labels each, named ports, some dual-stack), 5 NetworkPolicies each
// (5,000×scale, with namespace selectors, ipBlocks, named ports, NotIn), and 50×scale
// ClusterSecurityPolicies in both tiers (with Pass, NSX groups and networks).
func BenchWorld(scale int) World {
	var in World
	apps := []string{"frontend", "backend", "db", "cache", "worker"}
	envs := []string{"prod", "staging", "dev"}
	podIP := 0
	for n := range 1000 * scale {
		ns := fmt.Sprintf("team%02d-app%03d", n%50, n)
		if n == 0 {
			ns = "kube-system"
		}
		in.Namespaces = append(in.Namespaces, Namespace(ns, fmt.Sprintf("team=t%02d,env=%s", n%50, envs[n%3])))
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
			in.Pods = append(in.Pods, Pod(ns, fmt.Sprintf("%s-%s-%d", app, version, i), fmt.Sprintf("app=%s,version=%s,tier=%s", app, version, []string{"web", "data"}[i/6]), ips, ports...))
		}
		in.NetworkPolicies = append(in.NetworkPolicies, benchPolicies(ns, n)...)
	}
	in.ClusterSecurityPolicies = benchClusterPolicies(scale)
	return in
}

func benchPolicies(ns string, n int) []networkingv1.NetworkPolicy {
	deny := NP(ns, "default-deny", &metav1.LabelSelector{})
	deny.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	front := NP(ns, "frontend", Sel("app=frontend"))
	front.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{
		From:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: Sel("kubernetes.io/metadata.name=kube-system")}, {IPBlock: &networkingv1.IPBlock{CIDR: "192.168.0.0/16", Except: []string{"192.168.10.0/24"}}}},
		Ports: []networkingv1.NetworkPolicyPort{NPPort("", "http")}}}
	back := NP(ns, "backend", Sel("app=backend"))
	back.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{
		From:  []networkingv1.NetworkPolicyPeer{{PodSelector: Sel("app=frontend")}},
		Ports: []networkingv1.NetworkPolicyPort{NPPort("", "http"), NPPort("", "metrics")}}}
	data := NP(ns, "data", SelExpr("app", metav1.LabelSelectorOpIn, "db", "cache"))
	data.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{
		From:  []networkingv1.NetworkPolicyPeer{{PodSelector: SelExpr("app", metav1.LabelSelectorOpIn, "backend", "worker")}},
		Ports: []networkingv1.NetworkPolicyPort{NPPort("", 5432), NPPort("", 6379)}}}
	worker := NP(ns, "worker-egress", Sel("app=worker"))
	worker.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{
		{To: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: Sel("kubernetes.io/metadata.name=kube-system"), PodSelector: Sel("app=frontend")}},
			Ports: []networkingv1.NetworkPolicyPort{NPPort("UDP", 53), NPPort("TCP", 53)}},
		{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: []string{"10.0.0.0/8"}}}},
			Ports: []networkingv1.NetworkPolicyPort{NPPort("", 443)}},
		{To: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: Sel(fmt.Sprintf("team=t%02d", n%50)), PodSelector: Sel("app=backend")}}},
	}
	if n%10 == 0 {
		worker.Spec.PodSelector = *SelExpr("app", metav1.LabelSelectorOpNotIn, "frontend", "backend")
	}
	return []networkingv1.NetworkPolicy{deny, front, back, data, worker}
}

func benchClusterPolicies(scale int) []securityv1alpha1.ClusterSecurityPolicy {
	var out []securityv1alpha1.ClusterSecurityPolicy
	for i := range 20 * scale {
		p := CSP(fmt.Sprintf("security-%02d", i), securityv1alpha1.TierSecurity, int32(i*10), SubjectNamespaces(Sel(fmt.Sprintf("team=t%02d", i))))
		p.Spec.Ingress = []securityv1alpha1.IngressRule{
			{Name: "pass-monitoring", Action: securityv1alpha1.ActionPass, From: []securityv1alpha1.Peer{NSXGroups("monitoring")}},
			{Name: "allow-system", Action: securityv1alpha1.ActionAllow, From: []securityv1alpha1.Peer{NSPeer(Sel("kubernetes.io/metadata.name=kube-system"))},
				Ports: []securityv1alpha1.Port{CSPPortNamed("TCP", "metrics")}},
			{Name: "deny-other-teams", Action: securityv1alpha1.ActionDeny, From: []securityv1alpha1.Peer{NSPeer(SelExpr("team", metav1.LabelSelectorOpNotIn, fmt.Sprintf("t%02d", i)))}},
		}
		p.Spec.Egress = []securityv1alpha1.EgressRule{
			{Name: "deny-metadata", Action: securityv1alpha1.ActionReject, To: []securityv1alpha1.Peer{Networks("169.254.169.254/32")}},
		}
		out = append(out, p)
	}
	for i := range 30 * scale {
		p := CSP(fmt.Sprintf("baseline-%02d", i), securityv1alpha1.TierBaseline, int32(i), SubjectPods(Sel([]string{"env=prod", "env=staging", "env=dev"}[i%3]), Sel("tier=data")))
		p.Spec.Ingress = []securityv1alpha1.IngressRule{
			{Name: "pass-same-env", Action: securityv1alpha1.ActionPass, From: []securityv1alpha1.Peer{NSPeer(Sel([]string{"env=prod", "env=staging", "env=dev"}[i%3]))}, Ports: []securityv1alpha1.Port{CSPPortNum("TCP", 5432)}},
			{Name: "deny-pods", Action: securityv1alpha1.ActionDeny, From: []securityv1alpha1.Peer{NSPeer(nil)}},
		}
		out = append(out, p)
	}
	return out
}
