package perf

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/compile/compiletest"
)

// BenchWorld is compiletest.BenchWorld(scale) as compiler input; its ClusterSecurityPolicies
// reference the NSX group "monitoring" (BenchExternalGroups).
func BenchWorld(scale int) compile.Input {
	return Input(compiletest.BenchWorld(scale))
}

// BenchExternalGroups are the NSGroups microseg does not own that BenchWorld references.
var BenchExternalGroups = []string{"monitoring"}

// Input is a compiletest world as compiler input for Cluster.
func Input(w compiletest.World) compile.Input {
	return compile.Input{ClusterID: Cluster, Namespaces: w.Namespaces, Pods: w.Pods, NetworkPolicies: w.NetworkPolicies,
		ClusterSecurityPolicies: w.ClusterSecurityPolicies}
}

// WithPod returns in with one more pod (the slices of in are not modified).
func WithPod(in compile.Input, p corev1.Pod) compile.Input {
	in.Pods = append(slices.Clip(in.Pods), p)
	return in
}

// WithNetworkPolicy returns in with the NetworkPolicy of the same namespace and name replaced
// by np, or added (the slices of in are not modified).
func WithNetworkPolicy(in compile.Input, np networkingv1.NetworkPolicy) compile.Input {
	in.NetworkPolicies = replaced(in.NetworkPolicies, np, func(a, b *networkingv1.NetworkPolicy) bool {
		return a.Namespace == b.Namespace && a.Name == b.Name
	}, true)
	return in
}

// WithClusterPolicy returns in with the ClusterSecurityPolicy of the same name replaced by p, or
// added.
func WithClusterPolicy(in compile.Input, p securityv1alpha1.ClusterSecurityPolicy) compile.Input {
	in.ClusterSecurityPolicies = replaced(in.ClusterSecurityPolicies, p, func(a, b *securityv1alpha1.ClusterSecurityPolicy) bool {
		return a.Name == b.Name
	}, true)
	return in
}

// WithPodReplaced returns in with the pod of the same namespace and name replaced by p.
func WithPodReplaced(in compile.Input, p corev1.Pod) compile.Input {
	in.Pods = replaced(in.Pods, p, func(a, b *corev1.Pod) bool { return a.Namespace == b.Namespace && a.Name == b.Name }, false)
	return in
}

// replaced returns a copy of items with the item same as x replaced by x; when there is none, x
// is appended if add, else replaced panics (a benchmark's world is not what it expects).
func replaced[T any](items []T, x T, same func(a, b *T) bool, add bool) []T {
	out := slices.Clone(items)
	for i := range out {
		if same(&out[i], &x) {
			out[i] = x
			return out
		}
	}
	if !add {
		panic(fmt.Sprintf("perf: the world has no %T to replace", x))
	}
	return append(out, x)
}

// Benchmark-world events. The namespaces are BenchWorld's: team01-app001 (no NetworkPolicy there
// selects pods with NotIn, so its pods sit in tag-based groups only) and team10-app010 (its
// worker-egress policy selects app NotIn (frontend, backend), which NSX tags cannot express: the
// selected pods' addresses sit in IP sets).

// TagOnlyPod is the n-th new pod whose groups are all tag-based: adding it changes no NSX object.
func TagOnlyPod(n int) corev1.Pod {
	return compiletest.Pod("team01-app001", fmt.Sprintf("cache-new-%d", n), "app=cache,version=v1,tier=data",
		[]string{fmt.Sprintf("10.200.%d.%d", n/250, n%250+1)})
}

// IPSetPod is the n-th new pod whose address goes into IP sets.
func IPSetPod(n int) corev1.Pod {
	return compiletest.Pod("team10-app010", fmt.Sprintf("worker-new-%d", n), "app=worker,version=v1,tier=data",
		[]string{fmt.Sprintf("10.201.%d.%d", n/250, n%250+1)})
}

// EditedNetworkPolicy is BenchWorld's data policy of namespace team01-app001 with its database
// port set to port: one rule changes.
func EditedNetworkPolicy(in compile.Input, port int32) networkingv1.NetworkPolicy {
	for _, np := range in.NetworkPolicies {
		if np.Namespace == "team01-app001" && np.Name == "data" {
			np = *np.DeepCopy()
			np.Spec.Ingress[0].Ports[0] = compiletest.NPPort("", int(port))
			return np
		}
	}
	panic("perf: the benchmark world has no data policy in team01-app001")
}
