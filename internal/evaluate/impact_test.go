package evaluate_test

import (
	"context"
	"testing"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/compile/compiletest"
	"github.com/microseg/microseg/internal/evaluate"
	"github.com/microseg/microseg/internal/pipeline"
)

func inputOf(w pipeline.World) compile.Input {
	return compile.Input{ClusterID: pipeline.DefaultClusterID, ClusterSecurityPolicies: w.ClusterSecurityPolicies,
		NetworkPolicies: w.NetworkPolicies, Namespaces: w.Namespaces, Pods: w.Pods}
}

// TestStagedImpactCountsWhatEnforcingChanges compares the impact with brute force: the world run
// through the real pipeline twice (staged, enforced) and every ordered pod pair probed on the
// impact's ports. Every flip must be counted, and none found outside the pairs the impact
// evaluates (those with a subject pod at one end). The policies cover both tiers, ingress and
// egress, and a Pass rule (service-d-replicas: evaluated by compiling with it enforced).
func TestStagedImpactCountsWhatEnforcingChanges(t *testing.T) {
	ctx := context.Background()
	w := world(t, "config/samples", "internal/pipeline/testdata/forgery")
	// A pod of y1 no NetworkPolicy selects, and a Baseline Pass before the namespaces' isolation:
	// enforced, it hands x1's connections to that pod on to NSX's default (allow).
	w.Pods = append(w.Pods, compiletest.Pod("y1", "tool-0", "app=tool", []string{"10.244.9.9"}))
	pass := compiletest.CSP("pass-x1-to-y1", securityv1alpha1.TierBaseline, 50, compiletest.SubjectNamespaces(compiletest.Sel("kubernetes.io/metadata.name=y1")))
	pass.Spec.Ingress = []securityv1alpha1.IngressRule{{Name: "from-x1", Action: securityv1alpha1.ActionPass,
		From: []securityv1alpha1.Peer{compiletest.NSPeer(compiletest.Sel("kubernetes.io/metadata.name=x1"))}}}
	w.ClusterSecurityPolicies = append(w.ClusterSecurityPolicies, pass)
	for _, name := range []string{"protect-service-d", "baseline-isolate-app-namespaces", "service-a-egress", "service-d-replicas", "baseline-vault", "pass-x1-to-y1"} {
		t.Run(name, func(t *testing.T) {
			staged := w.WithEnforcement(name, securityv1alpha1.EnforcementStaged)
			in := inputOf(staged)
			model, err := compile.Compile(in)
			if err != nil {
				t.Fatal(err)
			}
			imp, err := evaluate.StagedImpact(in, model, name, evaluate.DefaultMaxConnections)
			if err != nil {
				t.Fatal(err)
			}
			if name == "pass-x1-to-y1" && imp.NewlyAllowed == 0 {
				t.Errorf("enforcing the Pass should let x1 reach y1/tool-0: %+v", imp)
			}
			if imp.LowerBound {
				t.Fatalf("the bound was reached on a small world: %+v", imp)
			}
			rs, err := pipeline.Run(ctx, staged, pipeline.Options{})
			if err != nil {
				t.Fatal(err)
			}
			re, err := pipeline.Run(ctx, w, pipeline.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var denied, allowed int
			for _, src := range rs.Pods() {
				for _, dst := range rs.Pods() {
					if src == dst {
						continue
					}
					for _, p := range imp.Ports {
						b, err1 := rs.Probe(ctx, src, dst, p.Protocol, p.Number, 0)
						a, err2 := re.Probe(ctx, src, dst, p.Protocol, p.Number, 0)
						if err1 != nil || err2 != nil {
							t.Fatal(err1, err2)
						}
						switch {
						case b.Allowed && !a.Allowed:
							denied++
						case !b.Allowed && a.Allowed:
							allowed++
						}
					}
				}
			}
			if imp.NewlyDenied != denied || imp.NewlyAllowed != allowed || imp.Flips != denied+allowed {
				t.Errorf("impact %d flips (%d newly denied, %d newly allowed); the simulator finds %d newly denied, %d newly allowed",
					imp.Flips, imp.NewlyDenied, imp.NewlyAllowed, denied, allowed)
			}
			if len(imp.Examples) != min(imp.Flips, evaluate.MaxExamples) {
				t.Errorf("%d examples for %d flips", len(imp.Examples), imp.Flips)
			}
			t.Logf("%s: %d flips of %d connections on %v; %s", name, imp.Flips, imp.Evaluated, imp.Ports, imp.Message)
		})
	}
}

// TestStagedImpactStopsAtTheBound: with a bound below the connections to evaluate, exactly the
// bound is evaluated and the counts are marked as lower bounds.
func TestStagedImpactStopsAtTheBound(t *testing.T) {
	w := world(t, "config/samples").WithEnforcement("baseline-isolate-app-namespaces", securityv1alpha1.EnforcementStaged)
	in := inputOf(w)
	model, err := compile.Compile(in)
	if err != nil {
		t.Fatal(err)
	}
	full, err := evaluate.StagedImpact(in, model, "baseline-isolate-app-namespaces", evaluate.DefaultMaxConnections)
	if err != nil {
		t.Fatal(err)
	}
	bounded, err := evaluate.StagedImpact(in, model, "baseline-isolate-app-namespaces", full.Evaluated/3)
	if err != nil {
		t.Fatal(err)
	}
	if full.LowerBound || !bounded.LowerBound || bounded.Evaluated != full.Evaluated/3 || bounded.Flips > full.Flips || bounded.Flips == 0 {
		t.Errorf("full %d of %d (lower bound %v), bounded %d of %d (lower bound %v)", full.Flips, full.Evaluated, full.LowerBound,
			bounded.Flips, bounded.Evaluated, bounded.LowerBound)
	}
	if _, err := evaluate.StagedImpact(inputOf(world(t, "config/samples")), model, "protect-service-d", 10); err == nil {
		t.Error("an enforced policy has an impact")
	}
}
