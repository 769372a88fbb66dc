package pipeline

import (
	"context"
	"slices"
	"testing"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/reference"
	"github.com/microseg/microseg/nsxclient"
)

// TestStagedPolicyIsDisabledInNSXAndEnforcedInOneWrite: protect-service-d staged leaves service-c
// → service-d to the Baseline tier (denied) while its rules sit in NSX disabled; enforcing it is
// one NSX write, after which service-c reaches service-d through its allow rule.
func TestStagedPolicyIsDisabledInNSXAndEnforcedInOneWrite(t *testing.T) {
	ctx := context.Background()
	w := worldFrom(t, "config/samples")
	staged := w.WithEnforcement("protect-service-d", securityv1alpha1.EnforcementStaged)
	r, err := Run(ctx, staged, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := prober{t, ctx, r}
	c, d := PodRef{"z1", "service-c-0"}, PodRef{"z1", "service-d-0"}
	v := p.pods(c, d, "TCP", reference.ServedPort)
	expectSide(t, "staged: c → d ingress", v.Ingress, "DROP", "ClusterSecurityPolicy/baseline-isolate-app-namespaces", "ingress/deny-from-cluster-pods")

	id, ok := r.Sync.Owned.Section("csp/protect-service-d")
	if !ok {
		t.Fatal("the staged policy has no section in NSX")
	}
	rules, err := r.client.ListRules(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) == 0 || slices.ContainsFunc(rules, func(r nsxclient.FirewallRule) bool { return !r.Disabled }) {
		t.Fatalf("the staged policy's NSX rules: %d, all disabled: %v", len(rules), !slices.ContainsFunc(rules, func(r nsxclient.FirewallRule) bool { return !r.Disabled }))
	}

	change, err := r.Resync(ctx, w.WithEnforcement("protect-service-d", securityv1alpha1.EnforcementEnforced), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if change.Stats.Writes != 1 || change.Sync.Summary.Guarded || !change.Sync.Converged {
		t.Errorf("enforcing: %d NSX writes (%v), guarded %v, converged %v; want one unguarded write", change.Stats.Writes,
			change.Sync.Summary.Ops, change.Sync.Summary.Guarded, change.Sync.Converged)
	}
	v = p.pods(c, d, "TCP", reference.ServedPort)
	expectSide(t, "enforced: c → d ingress", v.Ingress, "ALLOW", "ClusterSecurityPolicy/protect-service-d", "ingress/allow-service-c")
}
