package evaluate_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/evaluate"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/manifest"
	"github.com/microseg/microseg/internal/pipeline"
	"github.com/microseg/microseg/internal/testenv"
)

func world(t *testing.T, dirs ...string) pipeline.World {
	t.Helper()
	root, err := testenv.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, d := range dirs {
		paths = append(paths, filepath.Join(root, filepath.FromSlash(d)))
	}
	objs, err := manifest.ReadPaths(paths...)
	if err != nil {
		t.Fatal(err)
	}
	w, _, err := pipeline.FromObjects(objs)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

type probe struct {
	proto string
	port  int
}

var probes = []probe{{"TCP", 8080}, {"TCP", 80}, {"TCP", 443}, {"UDP", 53}, {"SCTP", 8080}}

// compare checks every ordered pod pair on every probe: the evaluator over r's model must decide
// as the simulator's dataplane did with the DFW the sync wrote, rule for rule.
func compare(t *testing.T, r *pipeline.Realized, w pipeline.World, opts evaluate.Options) int {
	t.Helper()
	ctx := context.Background()
	e := evaluate.New(r.Model, evaluate.PodsOf(w.Pods), opts)
	n := 0
	for si, src := range e.Pods() {
		for di, dst := range e.Pods() {
			if si == di {
				continue
			}
			for _, p := range probes {
				got, ok := e.Connection(si, di, p.proto, p.port, 0)
				want, err := r.Probe(ctx, pipeline.PodRef{Namespace: src.Namespace, Name: src.Name},
					pipeline.PodRef{Namespace: dst.Namespace, Name: dst.Name}, p.proto, p.port, 0)
				if !ok || err != nil {
					t.Fatalf("%s → %s: evaluator ok=%v, simulator %v", src.Ref(), dst.Ref(), ok, err)
				}
				n++
				if got.Allowed != want.Allowed || origin(got.Egress) != want.Egress.Object+" "+want.Egress.Rule ||
					origin(got.Ingress) != want.Ingress.Object+" "+want.Ingress.Rule {
					t.Errorf("%s → %s %s/%d: evaluator allowed=%v (egress %q, ingress %q), simulator allowed=%v (egress %q %q, ingress %q %q)",
						src.Ref(), dst.Ref(), p.proto, p.port, got.Allowed, origin(got.Egress), origin(got.Ingress),
						want.Allowed, want.Egress.Object, want.Egress.Rule, want.Ingress.Object, want.Ingress.Rule)
				}
			}
		}
	}
	return n
}

func origin(d evaluate.Decision) string {
	if d.Rule == nil {
		return " "
	}
	return d.Rule.Origin.Object.String() + " " + d.Rule.Origin.Rule
}

// TestEvaluatorAgreesWithTheSimulator: on the reference scenario and the forged-identity world
// (tag groups and address sets, both tiers, Pass, IPv4 and IPv6), every connection the
// evaluator decides is decided the same way, by the same rule, by the simulator's dataplane.
func TestEvaluatorAgreesWithTheSimulator(t *testing.T) {
	for name, dirs := range map[string][]string{
		"reference scenario":     {"config/samples"},
		"forged identity labels": {"config/samples", "internal/pipeline/testdata/forgery"},
	} {
		t.Run(name, func(t *testing.T) {
			w := world(t, dirs...)
			r, err := pipeline.Run(context.Background(), w, pipeline.Options{})
			if err != nil {
				t.Fatal(err)
			}
			n := compare(t, r, w, evaluate.Options{ClusterID: pipeline.DefaultClusterID})
			t.Logf("%d connections compared", n)
		})
	}
}

// TestEnabledStagedRulesDecideAsEnforced: the model with a policy staged, its rules enabled in the
// evaluator, decides as the simulator does with the policy enforced; without Enabled, as the
// simulator does with it staged. This is what the Staged impact counts on.
func TestEnabledStagedRulesDecideAsEnforced(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"protect-service-d", "baseline-isolate-app-namespaces", "baseline-vault"} {
		t.Run(name, func(t *testing.T) {
			w := world(t, "config/samples", "internal/pipeline/testdata/forgery")
			if !slices.ContainsFunc(w.ClusterSecurityPolicies, func(p securityv1alpha1.ClusterSecurityPolicy) bool { return p.Name == name }) {
				t.Fatalf("no policy %s in the world", name)
			}
			staged := w.WithEnforcement(name, securityv1alpha1.EnforcementStaged)
			rs, err := pipeline.Run(ctx, staged, pipeline.Options{})
			if err != nil {
				t.Fatal(err)
			}
			compare(t, rs, staged, evaluate.Options{ClusterID: pipeline.DefaultClusterID})

			enforced, err := pipeline.Run(ctx, w, pipeline.Options{})
			if err != nil {
				t.Fatal(err)
			}
			e := evaluate.New(rs.Model, evaluate.PodsOf(staged.Pods), evaluate.Options{ClusterID: pipeline.DefaultClusterID,
				Enabled: func(o ir.Origin) bool { return o.Object.Name == name }})
			flips := 0
			for si, src := range e.Pods() {
				for di, dst := range e.Pods() {
					if si == di {
						continue
					}
					got, _ := e.Connection(si, di, "TCP", 8080, 0)
					want, err := enforced.Probe(ctx, pipeline.PodRef{Namespace: src.Namespace, Name: src.Name},
						pipeline.PodRef{Namespace: dst.Namespace, Name: dst.Name}, "TCP", 8080, 0)
					if err != nil {
						t.Fatal(err)
					}
					if got.Allowed != want.Allowed {
						t.Errorf("%s → %s: staged rules enabled give allowed=%v, enforced %v", src.Ref(), dst.Ref(), got.Allowed, want.Allowed)
					}
					before, _ := rs.Probe(ctx, pipeline.PodRef{Namespace: src.Namespace, Name: src.Name},
						pipeline.PodRef{Namespace: dst.Namespace, Name: dst.Name}, "TCP", 8080, 0)
					if before.Allowed != want.Allowed {
						flips++
					}
				}
			}
			if flips == 0 {
				t.Errorf("staging %s flips nothing on 8080/TCP: the comparison proves nothing", name)
			}
			t.Logf("%d connections flip when %s is enforced", flips, name)
		})
	}
}
