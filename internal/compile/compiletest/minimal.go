package compiletest

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// MinimalRules states the fewest DFW rules that can realize a world's NetworkPolicies exactly
// (for every pod, including pods that come later with the same labels), for the worlds where that
// number is known; known is false for the others. It shares no code with the compiler: tests
// compare the compiler's count with it.
//
// The known worlds: no ClusterSecurityPolicies; NetworkPolicies whose pod selectors and peers use
// matchLabels only, whose peers are pod selectors of the policy's own namespace, and whose ports
// are numbers (or absent: every port); no label in NCP's reserved scopes, keys of at most 128
// characters, no two keys that differ only in case, at most 27 labels a pod. In such a world, per
// namespace and direction, every allow rule is a triple (the selectors of the pods it protects,
// the selectors of its peers, its ports). Triples that agree on two of the three are one rule (the
// third united); once no two agree on two, and provided that each component of any two triples is
// either the same set of selectors (or ports) or selects disjoint pods (or ports), none empty, no
// DFW rule can realize parts of two triples (it would allow a combination that no triple allows),
// so each needs one rule. Add one DROP rule per namespace and direction in which some policy
// isolates at least one pod (DFW rules have one direction, and flows from outside the peers must
// be dropped). For Antrea's world that is 2 + 2 = 4 rules per namespace.
func MinimalRules(w World) (rules int, known bool) {
	if len(w.ClusterSecurityPolicies) > 0 || !plainLabels(w) {
		return 0, false
	}
	podsByNS := map[string][]map[string]string{}
	for _, p := range w.Pods {
		if p.Spec.HostNetwork || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		podsByNS[p.Namespace] = append(podsByNS[p.Namespace], p.Labels)
	}
	type key struct {
		ns      string
		ingress bool
	}
	triples := map[key][]triple{}
	isolated := map[key]bool{}
	for i := range w.NetworkPolicies {
		np := &w.NetworkPolicies[i]
		self, ok := selectorOf(&np.Spec.PodSelector)
		if !ok {
			return 0, false
		}
		ingress, egress := policyTypes(np)
		pods := podsByNS[np.Namespace]
		if (ingress || egress) && len(matching(pods, []string{self})) == 0 {
			return 0, false // a policy for no pod: its rules wait for pods, there is no minimum to state
		}
		for _, dir := range []struct{ on, ingress bool }{{ingress, true}, {egress, false}} {
			if !dir.on {
				continue
			}
			k := key{np.Namespace, dir.ingress}
			isolated[k] = true
			peers, ports := rulesOf(np, dir.ingress)
			for r := range peers {
				t := triple{self: []string{self}}
				for _, p := range peers[r] {
					if p.IPBlock != nil || p.NamespaceSelector != nil || p.PodSelector == nil {
						return 0, false
					}
					s, ok := selectorOf(p.PodSelector)
					if !ok {
						return 0, false
					}
					t.peers = appendUnique(t.peers, s)
				}
				if len(t.peers) == 0 {
					return 0, false // "any peer": isolation and allows can shadow each other
				}
				for _, p := range ports[r] {
					if p.Port == nil || p.Port.StrVal != "" || p.EndPort != nil {
						return 0, false
					}
					proto := "TCP"
					if p.Protocol != nil {
						proto = string(*p.Protocol)
					}
					t.ports = appendUnique(t.ports, fmt.Sprintf("%s/%d", proto, p.Port.IntVal))
				}
				triples[k] = append(triples[k], t)
			}
		}
	}
	for k := range isolated {
		rules++
		merged := mergeTriples(triples[k])
		if !independent(merged, podsByNS[k.ns]) {
			return 0, false
		}
		rules += len(merged)
	}
	return rules, true
}

// triple is an allow rule: pod selectors (canonical) of its subjects and peers, and its ports
// ("TCP/80"; none: every port). Each list is sorted.
type triple struct {
	self, peers, ports []string
}

func (t triple) parts() [3][]string { return [3][]string{t.self, t.peers, t.ports} }

// mergeTriples unites triples that agree on two components until none do.
func mergeTriples(list []triple) []triple {
	for merged := true; merged; {
		merged = false
		for i := 0; i < len(list) && !merged; i++ {
			for j := i + 1; j < len(list) && !merged; j++ {
				a, b := list[i].parts(), list[j].parts()
				same := 0
				diff := -1
				for c := range a {
					if slices.Equal(a[c], b[c]) {
						same++
					} else {
						diff = c
					}
				}
				if same < 2 {
					continue
				}
				if same == 3 {
					list = slices.Delete(list, j, j+1)
				} else {
					u := a
					if len(a[diff]) == 0 || len(b[diff]) == 0 {
						u[diff] = nil // every port absorbs the others
					} else {
						u[diff] = union(a[diff], b[diff])
					}
					list[i] = triple{self: u[0], peers: u[1], ports: u[2]}
					list = slices.Delete(list, j, j+1)
				}
				merged = true
			}
		}
	}
	return list
}

// independent reports whether, for every two triples and each component, the two are the same
// or disjoint (selectors on the namespace's pods, ports as numbers), and none is empty.
func independent(list []triple, pods []map[string]string) bool {
	for i := range list {
		a := list[i].parts()
		if len(matching(pods, a[0])) == 0 || len(matching(pods, a[1])) == 0 {
			return false
		}
		for j := i + 1; j < len(list); j++ {
			b := list[j].parts()
			for c := range a {
				if slices.Equal(a[c], b[c]) {
					continue
				}
				if c == 2 {
					if len(a[c]) == 0 || len(b[c]) == 0 || len(union(a[c], b[c])) < len(a[c])+len(b[c]) {
						return false
					}
					continue
				}
				if overlap(matching(pods, a[c]), matching(pods, b[c])) {
					return false
				}
			}
		}
	}
	return true
}

// matching returns the indexes of the pods some selector matches.
func matching(pods []map[string]string, selectors []string) []int {
	var out []int
	for i, l := range pods {
		for _, s := range selectors {
			sel, err := labels.Parse(s)
			if err == nil && sel.Matches(labels.Set(l)) {
				out = append(out, i)
				break
			}
		}
	}
	return out
}

func overlap(a, b []int) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, x := range b {
		out = appendUnique(out, x)
	}
	return out
}

func appendUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	list = append(list, s)
	slices.Sort(list)
	return list
}

// selectorOf is a matchLabels-only selector in canonical form ("a=1,b=2"; "" selects all).
func selectorOf(s *metav1.LabelSelector) (string, bool) {
	if len(s.MatchExpressions) > 0 {
		return "", false
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(s.MatchLabels)) {
		parts = append(parts, k+"="+s.MatchLabels[k])
	}
	return strings.Join(parts, ","), true
}

func policyTypes(np *networkingv1.NetworkPolicy) (ingress, egress bool) {
	if len(np.Spec.PolicyTypes) == 0 {
		return true, len(np.Spec.Egress) > 0
	}
	return slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress), slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
}

// rulesOf returns, per rule of one direction, its peers and its ports.
func rulesOf(np *networkingv1.NetworkPolicy, ingress bool) (peers [][]networkingv1.NetworkPolicyPeer, ports [][]networkingv1.NetworkPolicyPort) {
	if ingress {
		for _, r := range np.Spec.Ingress {
			peers, ports = append(peers, r.From), append(ports, r.Ports)
		}
		return peers, ports
	}
	for _, r := range np.Spec.Egress {
		peers, ports = append(peers, r.To), append(ports, r.Ports)
	}
	return peers, ports
}

// plainLabels reports whether every label is one NCP copies faithfully into a tag that the
// compiler can trust: no reserved scope, short keys, no case variants, at most 27 labels a pod.
func plainLabels(w World) bool {
	check := func(l map[string]string, limit int) bool {
		if len(l) > limit {
			return false
		}
		for k := range l {
			if len(k) > 128 || strings.HasPrefix(strings.ToLower(k), "ncp/") {
				return false
			}
		}
		return true
	}
	spelled := map[string]string{} // key or key=value, folded → as spelled
	same := func(s string) bool {
		other, seen := spelled[strings.ToLower(s)]
		spelled[strings.ToLower(s)] = s
		return !seen || other == s
	}
	for _, p := range w.Pods {
		if !check(p.Labels, 27) {
			return false
		}
		for k, v := range p.Labels {
			if !same(k) || !same(k+"="+v) {
				return false
			}
		}
	}
	for _, n := range w.Namespaces {
		if !check(n.Labels, 1<<30) {
			return false
		}
	}
	return true
}
