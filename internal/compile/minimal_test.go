package compile

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/microseg/microseg/internal/compile/compiletest"
)

func inputOf(w compiletest.World) Input {
	return Input{ClusterID: "c1", Namespaces: w.Namespaces, Pods: w.Pods, NetworkPolicies: w.NetworkPolicies,
		ClusterSecurityPolicies: w.ClusterSecurityPolicies}
}

// TestAntreaWorldIsMinimal: four rules per namespace (two allows, one isolation per direction),
// which compiletest.MinimalRules states independently, and one NSGroup per distinct selector.
func TestAntreaWorldIsMinimal(t *testing.T) {
	const namespaces = 40
	w := compiletest.AntreaWorld(namespaces)
	minimal, known := compiletest.MinimalRules(w)
	if !known || minimal != 4*namespaces {
		t.Fatalf("MinimalRules = %d, %v; want %d, true", minimal, known, 4*namespaces)
	}
	m := mustCompile(t, inputOf(w))
	if got := m.RuleCount(); got != minimal {
		t.Errorf("the compiler makes %d rules, the minimum is %d", got, minimal)
	}
	if len(m.Groups) != 3*namespaces {
		t.Errorf("%d groups, want 3 a namespace (every pod, app-1, app-2)", len(m.Groups))
	}
}

// TestCompilerReachesTheMinimum draws worlds of the class where MinimalRules knows the minimum
// and checks that the compiler reaches it exactly, never goes below it, and stays exact (the
// semantic check against the reference evaluator).
func TestCompilerReachesTheMinimum(t *testing.T) {
	known := 0
	for seed := range uint64(400) {
		w := minimalClassWorld(seed)
		minimal, ok := compiletest.MinimalRules(w)
		if !ok {
			continue
		}
		known++
		in := inputOf(w)
		m := mustCompile(t, in)
		if got := m.RuleCount(); got != minimal {
			t.Errorf("seed %d: the compiler makes %d rules, the minimum is %d\nworld: %s\nmodel: %s", seed, got, minimal, toJSON(t, in), toJSON(t, m))
			continue
		}
		if _, bad := checkWorld(t, testWorld{in: in, external: map[string][]netip.Addr{}}, false); len(bad) > 0 {
			reportMismatches(t, fmt.Sprintf("seed %d", seed), testWorld{in: in}, bad)
		}
	}
	if known < 60 {
		t.Fatalf("only %d of 400 worlds are in the class MinimalRules knows: the test proves too little", known)
	}
	t.Logf("%d worlds with a known minimum, all reached", known)
}

// minimalClassWorld is a small random world of matchLabels-only NetworkPolicies with pod peers
// and numeric ports (MinimalRules decides whether it is in its class).
func minimalClassWorld(seed uint64) compiletest.World {
	rng := rand.New(rand.NewPCG(seed, 7))
	var w compiletest.World
	ip := 0
	for n := range 1 + rng.IntN(2) {
		ns := fmt.Sprintf("ns%d", n)
		w.Namespaces = append(w.Namespaces, compiletest.Namespace(ns, ""))
		for i := range 3 + rng.IntN(4) {
			ip++
			lbls := fmt.Sprintf("app=%s,tier=%s", []string{"a", "b", "c", "d"}[i%4], []string{"x", "y"}[rng.IntN(2)])
			w.Pods = append(w.Pods, compiletest.Pod(ns, fmt.Sprintf("p%d", i), lbls, []string{fmt.Sprintf("10.0.%d.%d", n, ip)}))
		}
		sel := func() *metav1.LabelSelector {
			switch rng.IntN(6) {
			case 0:
				return &metav1.LabelSelector{}
			case 1:
				return compiletest.Sel("tier=" + []string{"x", "y"}[rng.IntN(2)])
			}
			return compiletest.Sel("app=" + []string{"a", "b", "c", "d"}[rng.IntN(4)])
		}
		for j := range 1 + rng.IntN(3) {
			np := compiletest.NP(ns, fmt.Sprintf("np%d", j), sel())
			np.Spec.PolicyTypes = [][]networkingv1.PolicyType{{networkingv1.PolicyTypeIngress}, {networkingv1.PolicyTypeEgress},
				{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}}[rng.IntN(3)]
			for range rng.IntN(3) {
				var peers []networkingv1.NetworkPolicyPeer
				for range 1 + rng.IntN(2) {
					peers = append(peers, networkingv1.NetworkPolicyPeer{PodSelector: sel()})
				}
				var ports []networkingv1.NetworkPolicyPort
				for range rng.IntN(3) {
					ports = append(ports, compiletest.NPPort("TCP", 80+rng.IntN(3)))
				}
				np.Spec.Ingress = append(np.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{From: peers, Ports: ports})
				np.Spec.Egress = append(np.Spec.Egress, networkingv1.NetworkPolicyEgressRule{To: peers, Ports: ports})
			}
			w.NetworkPolicies = append(w.NetworkPolicies, np)
		}
	}
	return w
}
