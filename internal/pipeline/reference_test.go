package pipeline

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/microseg/microseg/internal/manifest"
	"github.com/microseg/microseg/internal/testenv"
)

// The reference scenario's expected table, from the design notes.
var referenceTable = []struct {
	from, to string
	allowed  bool
}{
	{"service-a", "service-b", true},
	{"service-a", "service-c", true},
	{"service-a", "service-d", false},
	{"service-b", "service-c", true},
	{"service-b", "service-d", false},
	{"service-c", "service-d", true},
	{"service-c", "service-b", false},
	{"service-d", "service-c", false},
	{"service-d", "service-b", false},
	{"service-c", "service-a", false},
	{"service-b", "service-a", false},
}

// TestReferenceScenarioFromSamples runs config/samples through the real pipeline and checks the
// design notes' table for every replica pair, on the port the pods serve (8080, named http).
func TestReferenceScenarioFromSamples(t *testing.T) {
	root, err := testenv.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.ReadPaths(filepath.Join(root, "config", "samples"))
	if err != nil {
		t.Fatal(err)
	}
	w, _, err := FromObjects(objs)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := Run(ctx, w, Options{})
	if err != nil {
		t.Fatal(err)
	}
	namespace := map[string]string{"service-a": "x1", "service-b": "y1", "service-c": "z1", "service-d": "z1"}
	for _, row := range referenceTable {
		for i := range 2 {
			for j := range 2 {
				src := PodRef{namespace[row.from], row.from + "-" + string(rune('0'+i))}
				dst := PodRef{namespace[row.to], row.to + "-" + string(rune('0'+j))}
				v, err := r.Probe(ctx, src, dst, "TCP", 8080, 0)
				if err != nil {
					t.Fatal(err)
				}
				if v.Allowed != row.allowed {
					t.Errorf("%s → %s: allowed=%v, want %v (egress %+v, ingress %+v)", src, dst, v.Allowed, row.allowed, v.Egress, v.Ingress)
				}
			}
		}
	}
	// The deciding objects are named: service-d's ingress is decided by the security team's policy.
	v, err := r.Probe(ctx, PodRef{"x1", "service-a-0"}, PodRef{"z1", "service-d-0"}, "TCP", 8080, 0)
	if err != nil {
		t.Fatal(err)
	}
	if v.Ingress.Tier != "Security" || v.Ingress.Object != "ClusterSecurityPolicy/protect-service-d" || v.Ingress.Action != "REJECT" {
		t.Errorf("a → d ingress decided by %+v, want the Security tier's protect-service-d rejecting", v.Ingress)
	}
	v, err = r.Probe(ctx, PodRef{"y1", "service-b-0"}, PodRef{"x1", "service-a-1"}, "TCP", 8080, 0)
	if err != nil {
		t.Fatal(err)
	}
	if v.Ingress.Tier != "Baseline" || v.Ingress.Object != "ClusterSecurityPolicy/baseline-isolate-app-namespaces" {
		t.Errorf("b → a ingress decided by %+v, want the Baseline tier", v.Ingress)
	}
	v, err = r.Probe(ctx, PodRef{"x1", "service-a-0"}, PodRef{"y1", "service-b-1"}, "TCP", 8080, 0)
	if err != nil {
		t.Fatal(err)
	}
	if v.Ingress.Tier != "Developer" || v.Ingress.Object != "NetworkPolicy/y1/service-b-from-service-a" {
		t.Errorf("a → b ingress decided by %+v, want the developers' NetworkPolicy", v.Ingress)
	}
}
