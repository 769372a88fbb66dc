package compile

import (
	"fmt"
	"testing"

	"github.com/microseg/microseg/internal/compile/compiletest"
	"github.com/microseg/microseg/internal/ir"
)

func benchWorld(scale int) Input {
	w := compiletest.BenchWorld(scale)
	return Input{ClusterID: "prod-a", Namespaces: w.Namespaces, Pods: w.Pods, NetworkPolicies: w.NetworkPolicies,
		ClusterSecurityPolicies: w.ClusterSecurityPolicies}
}

// BenchmarkCompile compiles the benchmark world (compiletest.BenchWorld) at 1,000 namespaces /
// 10,000 pods / 5,000 NetworkPolicies / 50 CSPs, and at ten times that:
//
//	go test -bench Compile -benchmem -run '^$' ./internal/compile/
func BenchmarkCompile(b *testing.B) {
	for _, scale := range []int{1, 10} {
		b.Run(fmt.Sprintf("scale=%dx", scale), func(b *testing.B) {
			in := benchWorld(scale)
			m, err := Compile(in)
			if err != nil {
				b.Fatal(err)
			}
			if errs := ir.Check(m, ir.Limits{}); len(errs) > 0 {
				b.Fatal(errs[0])
			}
			for b.Loop() {
				if _, err := Compile(in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(m.RuleCount()), "rules")
			b.ReportMetric(float64(len(m.Groups)), "groups")
			b.ReportMetric(float64(len(m.Sections)), "sections")
		})
	}
}
