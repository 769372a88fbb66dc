package pipeline

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
)

// World is the Kubernetes side of a run.
type World struct {
	Namespaces              []corev1.Namespace
	Pods                    []corev1.Pod
	NetworkPolicies         []networkingv1.NetworkPolicy
	ClusterSecurityPolicies []securityv1alpha1.ClusterSecurityPolicy
}

// PodRef names a pod.
type PodRef struct{ Namespace, Name string }

func (p PodRef) String() string { return p.Namespace + "/" + p.Name }

// podAddrs returns a pod's addresses from status.podIPs (or status.podIP).
func podAddrs(p *corev1.Pod) ([]netip.Addr, error) {
	var out []netip.Addr
	ips := p.Status.PodIPs
	if len(ips) == 0 && p.Status.PodIP != "" {
		ips = []corev1.PodIP{{IP: p.Status.PodIP}}
	}
	for _, ip := range ips {
		a, err := netip.ParseAddr(ip.IP)
		if err != nil {
			return nil, fmt.Errorf("pod %s/%s: status.podIPs has %q, which is not an IP address", p.Namespace, p.Name, ip.IP)
		}
		out = append(out, a)
	}
	return out, nil
}

// sortedPods returns the pods in (namespace, name) order.
func sortedPods(pods []corev1.Pod) []*corev1.Pod {
	out := make([]*corev1.Pod, len(pods))
	for i := range pods {
		out[i] = &pods[i]
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func sortPodRefs(p []PodRef) {
	sort.Slice(p, func(i, j int) bool {
		if p[i].Namespace != p[j].Namespace {
			return p[i].Namespace < p[j].Namespace
		}
		return p[i].Name < p[j].Name
	})
}

// WithEnforcement is the world with one ClusterSecurityPolicy's spec.enforcement set to e (the
// world itself is not changed).
func (w World) WithEnforcement(name string, e securityv1alpha1.Enforcement) World {
	out := w
	out.ClusterSecurityPolicies = slices.Clone(w.ClusterSecurityPolicies)
	for i := range out.ClusterSecurityPolicies {
		if out.ClusterSecurityPolicies[i].Name == name {
			out.ClusterSecurityPolicies[i].Spec.Enforcement = e
		}
	}
	return out
}
