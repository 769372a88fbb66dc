package pipeline

import (
	"context"
	"strings"
	"testing"

	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/reference"
)

// referenceTable is the reference table (internal/reference).
var referenceTable = reference.Table

// TestReferenceScenarioFromSamples runs config/samples through the real pipeline and checks the
// reference table for every replica pair, on the port the pods serve (8080, named http), with
// each NSX API.
func TestReferenceScenarioFromSamples(t *testing.T) {
	for _, api := range []string{APIManager, APIPolicy} {
		t.Run(api, func(t *testing.T) { testReferenceScenario(t, api) })
	}
}

func testReferenceScenario(t *testing.T, api string) {
	ctx := context.Background()
	syncs := nsxsync.Syncs()
	r, err := Run(ctx, worldFrom(t, "config/samples"), Options{API: api})
	if err != nil {
		t.Fatal(err)
	}
	if nsxsync.Syncs() == syncs || !r.Sync.Converged {
		t.Fatalf("the pipeline did not realize the model through nsxsync.Sync (converged %v)", r.Sync.Converged)
	}
	namespace := reference.Namespace
	for _, row := range referenceTable {
		for i := range 2 {
			for j := range 2 {
				src := PodRef{namespace[row.From], row.From + "-" + string(rune('0'+i))}
				dst := PodRef{namespace[row.To], row.To + "-" + string(rune('0'+j))}
				v, err := r.Probe(ctx, src, dst, "TCP", 8080, 0)
				if err != nil {
					t.Fatal(err)
				}
				if v.Allowed != row.Allowed {
					t.Errorf("%s → %s: allowed=%v, want %v (egress %+v, ingress %+v)", src, dst, v.Allowed, row.Allowed, v.Egress, v.Ingress)
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
	if policyPath := strings.HasPrefix(v.Ingress.SectionID, "/infra/domains/"); policyPath != (api == APIPolicy) {
		t.Errorf("%s API: the deciding section is %q", api, v.Ingress.SectionID)
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
