package plan_test

import (
	"fmt"
	"testing"

	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/compile/compiletest"
	"github.com/microseg/microseg/internal/nsxsync/memnsx"
	. "github.com/microseg/microseg/internal/plan"
)

// BenchmarkPlanCompiledWorld plans the compiled benchmark world (compiletest.BenchWorld: 1,000
// namespaces / 10,000 pods / 5,000 NetworkPolicies / 50 CSPs, and ten times that) against an empty
// DFW (the first sync) and against the DFW that already holds it (every later sync):
//
//	go test -bench PlanCompiledWorld -benchmem -run '^$' ./internal/plan/
func BenchmarkPlanCompiledWorld(b *testing.B) {
	for _, scale := range []int{1, 10} {
		b.Run(fmt.Sprintf("scale=%dx", scale), func(b *testing.B) { benchmarkPlanAtScale(b, scale) })
	}
}

func benchmarkPlanAtScale(b *testing.B, scale int) {
	{
		w := compiletest.BenchWorld(scale)
		m, err := compile.Compile(compile.Input{ClusterID: testCluster, Namespaces: w.Namespaces, Pods: w.Pods,
			NetworkPolicies: w.NetworkPolicies, ClusterSecurityPolicies: w.ClusterSecurityPolicies})
		if err != nil {
			b.Fatal(err)
		}
		opts := Options{} // the planner builds the guard the first sync needs
		f := memnsx.New(testCluster)
		empty := f.State()
		b.Run("first-sync", func(b *testing.B) {
			var p *Plan
			for b.Loop() {
				if p, err = Compute(m, empty, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(p.Steps)), "steps")
			if err := f.Execute(p); err != nil {
				b.Fatal(err)
			}
		})
		realized := f.State()
		b.Run("unchanged", func(b *testing.B) {
			var p *Plan
			for b.Loop() {
				if p, err = Compute(m, realized, opts); err != nil {
					b.Fatal(err)
				}
			}
			if !p.Empty() {
				b.Fatalf("an unchanged world planned %d steps", len(p.Steps))
			}
		})
		b.Logf("scale %dx: %d rules in %d sections, %d groups", scale, m.RuleCount(), len(m.Sections), len(m.Groups))
	}
}
