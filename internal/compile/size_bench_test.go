package compile

import (
	"runtime"
	"testing"

	"github.com/microseg/microseg/internal/compile/compiletest"
	"github.com/microseg/microseg/internal/ir"
)

// BenchmarkCompileSize compiles the benchmark world at 1x and Antrea's controller-benchmark
// world (compiletest.AntreaWorld, 25,000 namespaces) and reports the size of the output beside
// the time and memory it took:
//
//	go test -run '^$' -bench CompileSize -benchmem ./internal/compile/
func BenchmarkCompileSize(b *testing.B) {
	for _, w := range []struct {
		name  string
		world func() compiletest.World
	}{
		{"world=bench-1x", func() compiletest.World { return compiletest.BenchWorld(1) }},
		{"world=antrea-25000", func() compiletest.World { return compiletest.AntreaWorld(25000) }},
	} {
		b.Run(w.name, func(b *testing.B) {
			world := w.world()
			in := Input{ClusterID: "prod-a", Namespaces: world.Namespaces, Pods: world.Pods,
				NetworkPolicies: world.NetworkPolicies, ClusterSecurityPolicies: world.ClusterSecurityPolicies}
			b.ReportAllocs()
			var m *ir.Model
			for b.Loop() {
				var err error
				if m, err = Compile(in); err != nil {
					b.Fatal(err)
				}
			}
			// The heap the model keeps (after a collection, the model still referenced).
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			kinds := map[ir.GroupKind]int{}
			for _, g := range m.Groups {
				kinds[g.Kind]++
			}
			b.ReportMetric(float64(m.RuleCount()), "rules")
			b.ReportMetric(float64(len(m.Sections)), "sections")
			b.ReportMetric(float64(kinds[ir.KindTagGroup]+kinds[ir.KindNestedGroup]), "nsgroups")
			b.ReportMetric(float64(kinds[ir.KindIPSet]), "ipsets")
			b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
			runtime.KeepAlive(m)
		})
	}
}
