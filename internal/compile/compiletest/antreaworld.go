package compiletest

import (
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AntreaWorld is the world of Antrea's published NetworkPolicy controller benchmark
// (TestInitXLargeScaleWithSmallNamespaces in antrea's pkg/controller/networkpolicy), so that
// microseg's figures can be set beside Antrea's: namespaces namespaces (Antrea: 25,000), each
// labelled app=<namespace>, with four pods pod1..pod4 (pod1 and pod2 labelled app-1=scale-1, pod3
// and pod4 app-2=scale-2, one IPv4 address each) and three NetworkPolicies:
//
//   - default-deny-all: every pod, policyTypes Ingress and Egress, no rules;
//   - np-1: pods app-1=scale-1, ingress from pods app-1=scale-1 (same namespace), policyTypes
//     Ingress and Egress, no egress rule;
//   - np-2: the same with app-2=scale-2.
//
// At 25,000 namespaces that is 100,000 pods and 75,000 NetworkPolicies. Antrea draws random
// namespace names and addresses; this world is deterministic (namespace ns-00000…, addresses
// 10.x.y.z in order) so that runs compare.
func AntreaWorld(namespaces int) World {
	var w World
	podIP := 0
	for n := range namespaces {
		ns := fmt.Sprintf("ns-%05d", n)
		w.Namespaces = append(w.Namespaces, Namespace(ns, "app="+ns))
		for i, app := range []string{"app-1=scale-1", "app-1=scale-1", "app-2=scale-2", "app-2=scale-2"} {
			podIP++
			ip := fmt.Sprintf("10.%d.%d.%d", podIP/65536, (podIP/256)%256, podIP%256)
			w.Pods = append(w.Pods, Pod(ns, fmt.Sprintf("pod%d", i+1), app, []string{ip}))
		}
		w.NetworkPolicies = append(w.NetworkPolicies,
			antreaPolicy(ns, "default-deny-all", nil),
			antreaPolicy(ns, "np-1", map[string]string{"app-1": "scale-1"}),
			antreaPolicy(ns, "np-2", map[string]string{"app-2": "scale-2"}))
	}
	return w
}

// antreaPolicy is Antrea's newNetworkPolicy with an ingress peer equal to the pod selector (nil
// selector: every pod, and no rule at all).
func antreaPolicy(ns, name string, selector map[string]string) networkingv1.NetworkPolicy {
	np := NP(ns, name, &metav1.LabelSelector{MatchLabels: selector})
	np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
	if selector != nil {
		np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{
			From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: selector}}},
		}}
	}
	return np
}
