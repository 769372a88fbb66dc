package compile

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/microseg/microseg/internal/ir"
)

// TestPortLoadMatchesTheEvaluator: the busiest port the compiler reports is the one the
// independent IR evaluator finds, counting for every pod's port the rules whose applied_to holds
// it, on random worlds (forged identity labels included).
func TestPortLoadMatchesTheEvaluator(t *testing.T) {
	for seed := range uint64(150) {
		w := randomWorld(seed)
		m := mustCompile(t, w.in)
		var ports []ncpPort
		for i := range w.in.Pods {
			p := &w.in.Pods[i]
			if p.Spec.HostNetwork || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
				continue
			}
			ports = append(ports, ncpPort{name: p.Namespace + "/" + p.Name, tags: ncpTags(w.in.ClusterID, p.Namespace, p.Name, p.Labels)})
		}
		e := newIREvaluator(m, ports, nil, true) // NSX ≥ 3 may fold case: count the most rules a port may get
		load := make([]int, len(ports))
		for _, s := range m.Sections {
			for _, r := range s.Rules {
				in := map[int]bool{}
				for _, ref := range r.AppliedTo {
					for p := range e.groupPorts(ref.Group) {
						in[p] = true
					}
				}
				for p := range in {
					load[p]++
				}
			}
		}
		want := ir.PortLoad{}
		for p, n := range load {
			if n > want.Rules || (n == want.Rules && n > 0 && ports[p].name < want.Pod) {
				want = ir.PortLoad{Rules: n, Pod: ports[p].name}
			}
		}
		if m.PortLoad == nil || m.PortLoad.Rules != want.Rules || (want.Rules > 0 && m.PortLoad.Pod != want.Pod) {
			t.Fatalf("seed %d: compiler says %+v, the evaluator %+v", seed, m.PortLoad, want)
		}
	}
}
