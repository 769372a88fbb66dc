package compile

import (
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/microseg/microseg/internal/compile/compiletest"
	"github.com/microseg/microseg/internal/ir"
)

// BenchmarkIncrementalPodRelabelled times compile.Incremental alone (no planner) on Antrea's
// controller-benchmark world for one pod relabelled, alternately back and forth:
//
//	go test -run '^$' -bench IncrementalPodRelabelled -benchmem ./internal/compile/
//
// MICROSEG_ANTREA_NAMESPACES shrinks the world (default 25,000).
func BenchmarkIncrementalPodRelabelled(b *testing.B) {
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
	b.ReportAllocs()
	i := 0
	var m *ir.Model
	for b.Loop() {
		in.Pods[0].Labels = labels[i%2]
		i++
		var err error
		if m, err = inc.Compile(in, Changes{Pods: []string{in.Pods[0].Namespace}}); err != nil {
			b.Fatal(err)
		}
	}
	// The heap kept after a collection: the world, the last model and what the compiler keeps
	// for the next call (compare BenchmarkCompileSize's heap-MB: the world and the model).
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
	runtime.KeepAlive(m)
	runtime.KeepAlive(inc)
}
