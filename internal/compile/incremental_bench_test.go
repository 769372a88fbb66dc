package compile

import (
	"os"
	"strconv"
	"testing"

	"github.com/microseg/microseg/internal/compile/compiletest"
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
	for b.Loop() {
		in.Pods[0].Labels = labels[i%2]
		i++
		if _, err := inc.Compile(in, Changes{Pods: []string{in.Pods[0].Namespace}}); err != nil {
			b.Fatal(err)
		}
	}
}
