package evaluate_test

import (
	"testing"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/compile/compiletest"
	"github.com/microseg/microseg/internal/evaluate"
)

// BenchmarkStagedImpact measures the status controller's work for one Staged policy on the
// benchmark world (10,000 pods, 5,000 NetworkPolicies, 50 ClusterSecurityPolicies): a policy whose
// subject is 200 pods, evaluated up to the default bound. It reports the time per connection
// evaluated (both sides, before and after) and the connections evaluated.
func BenchmarkStagedImpact(b *testing.B) {
	w := compiletest.BenchWorld(1)
	staged := compiletest.CSP("bench-staged", securityv1alpha1.TierSecurity, 5, compiletest.SubjectNamespaces(compiletest.Sel("team=t01")))
	staged.Spec.Enforcement = securityv1alpha1.EnforcementStaged
	staged.Spec.Ingress = []securityv1alpha1.IngressRule{{Name: "deny-dev", Action: securityv1alpha1.ActionDeny,
		From: []securityv1alpha1.Peer{compiletest.NSPeer(compiletest.Sel("env=dev"))}, Ports: []securityv1alpha1.Port{compiletest.CSPPortNum("TCP", 8080)}}}
	in := compile.Input{ClusterID: "bench", Namespaces: w.Namespaces, Pods: w.Pods, NetworkPolicies: w.NetworkPolicies,
		ClusterSecurityPolicies: append(w.ClusterSecurityPolicies, staged)}
	model, err := compile.Compile(in)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var imp evaluate.Impact
	for b.Loop() {
		if imp, err = evaluate.StagedImpact(in, model, "bench-staged", evaluate.DefaultMaxConnections); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(imp.Evaluated), "ns/connection")
	b.ReportMetric(float64(imp.Evaluated), "connections")
	b.ReportMetric(float64(imp.Flips), "flips")
}
