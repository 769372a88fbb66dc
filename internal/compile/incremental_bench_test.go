package compile

import (
	"os"
	"runtime"
	"strconv"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/microseg/microseg/internal/compile/compiletest"
	"github.com/microseg/microseg/internal/ir"
)

// BenchmarkIncremental times compile.Incremental alone (no planner) on Antrea's
// controller-benchmark world, one change per operation, alternately back and forth:
// pod-relabelled (pod1 of one namespace between np-1's and np-2's pods), np-edited (np-1 of one
// namespace limited to one port, and back). heap-MB is the heap kept after a collection: the
// world, the last model and what the compiler keeps for the next call (compare
// BenchmarkCompileSize's heap-MB: the world and the model).
//
//	go test -run '^$' -bench Incremental -benchmem ./internal/compile/
//
// MICROSEG_ANTREA_NAMESPACES shrinks the world (default 25,000).
func BenchmarkIncremental(b *testing.B) {
	namespaces := 25000
	if v := os.Getenv("MICROSEG_ANTREA_NAMESPACES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		namespaces = n
	}
	w := compiletest.AntreaWorld(namespaces)
	in := Input{ClusterID: "prod-a", Namespaces: w.Namespaces, Pods: w.Pods, NetworkPolicies: w.NetworkPolicies}
	inc := NewIncremental()
	if _, err := inc.Compile(in, Changes{All: true}); err != nil {
		b.Fatal(err)
	}
	labels := []map[string]string{{"app-2": "scale-2"}, {"app-1": "scale-1"}}
	edited := []networkingv1.NetworkPolicySpec{*in.NetworkPolicies[1].Spec.DeepCopy(), *in.NetworkPolicies[1].Spec.DeepCopy()}
	edited[0].Ingress[0].Ports = []networkingv1.NetworkPolicyPort{compiletest.NPPort("TCP", 8080)}
	run := func(name string, change func(i int) Changes) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			var m *ir.Model
			for b.Loop() {
				ch := change(i)
				i++
				var err error
				if m, err = inc.Compile(in, ch); err != nil {
					b.Fatal(err)
				}
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
			runtime.KeepAlive(m)
		})
	}
	run("pod-relabelled", func(i int) Changes {
		in.Pods[0].Labels = labels[i%2]
		return Changes{Pods: []string{in.Pods[0].Namespace}}
	})
	run("np-edited", func(i int) Changes {
		in.NetworkPolicies[1].Spec = edited[i%2]
		return Changes{NetworkPolicies: []string{in.NetworkPolicies[1].Namespace}}
	})
	runtime.KeepAlive(inc)
}
