package compile

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/ncptags"
)

// withSpoofer is the reference scenario plus one pod a tenant of ns creates with its own rights.
func withSpoofer(t *testing.T, ns, name, lbls string) Input {
	in := referenceScenario(t)
	in.Pods = append(in.Pods, testPod(ns, name, lbls, []string{"10.244.9.9", "fd00:244::9:9"}, "http:8080"))
	return in
}

func scenarioWorld(in Input) testWorld {
	return testWorld{in: in, external: map[string][]netip.Addr{}, outside: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}
}

// TestForgedIdentityLabelsAreNeverTrusted compiles the reference scenario with one spoofer at a
// time and compares every flow of the DFW model (evaluated on ports that carry every label as a
// tag, as NCP writes them, case-sensitively and case-insensitively) with the reference semantics,
// which treat the forged label as the ordinary label it is. With the check switched off (the
// compiler before it), the spoofers that claim another project are let in: the comparison can fail.
func TestForgedIdentityLabelsAreNeverTrusted(t *testing.T) {
	for _, tc := range []struct {
		ns, labels string
		// holeWhen: the fold-case settings under which the unchecked compiler lets the spoofer in
		holeWhen []bool
	}{
		{"x1", "app=service-c,ncp/project=z1", []bool{false, true}}, // the pod
		{"x1", "app=service-c,ncp/Project=z1", []bool{true}},        // NSX ≥ 3 folds case
		{"x1", "app=Service-C,ncp/project=z1", []bool{true}},        // a case variant of the app label too
		{"z1", "app=service-a,ncp/project=x1", []bool{false, true}}, // into service-c's NetworkPolicy
		{"x1", "app=service-c,ncp/project=z1,ncp/cluster=demo,ncp/pod=service-c-0", []bool{false, true}},
		// microseg's criteria only ask that ncp/pod exists and every port of the cluster has the
		// cluster's tag already: these add nothing, with or without the check.
		{"x1", "app=service-c,ncp/pod=service-c-0", nil},
		{"x1", "app=service-c,ncp/cluster=demo", nil},
		{"x1", "app=service-c,ncp/cluster=another", nil},
	} {
		for _, fold := range []bool{false, true} {
			w := scenarioWorld(withSpoofer(t, tc.ns, "spoofer", tc.labels))
			if _, bad := checkWorld(t, w, fold); len(bad) > 0 {
				reportMismatches(t, tc.ns+"/spoofer {"+tc.labels+"}", w, bad)
			}
			w.in.Settings.trustForgeableTags = true
			_, bad := checkWorld(t, w, fold)
			if hole := slices.Contains(tc.holeWhen, fold); hole != (len(bad) > 0) {
				t.Errorf("%s/spoofer {%s}, fold case %v, without the check: %d disagreements; want some: %v", tc.ns, tc.labels, fold, len(bad), hole)
			}
			for _, x := range bad {
				if x.got && !x.want && !strings.Contains(x.from+x.to, "spoofer") {
					t.Errorf("without the check, a flow not involving the spoofer changed: %+v", x)
				}
			}
		}
	}
}

// TestForgedIdentityLabelWarnings: the policy whose rules a spoofer would have fooled says which
// rule, which pod and which label; the pod's own warning lists the rules; nothing is said when no
// pod carries a reserved label.
func TestForgedIdentityLabelWarnings(t *testing.T) {
	clean := mustCompile(t, referenceScenario(t))
	for _, w := range clean.Warnings {
		if w.Code == ir.WarnForgedIdentityLabel {
			t.Fatalf("warning without any forged label: %+v", w)
		}
	}
	m := mustCompile(t, withSpoofer(t, "x1", "spoofer", "app=service-c,ncp/project=z1"))
	res, _ := m.Object(ir.ObjectRef{Kind: ir.KindClusterSecurityPolicy, Name: "protect-service-d"})
	var onRule *ir.Warning
	for i, w := range res.Warnings {
		if w.Code == ir.WarnForgedIdentityLabel && w.Rule == "ingress/allow-service-c" {
			onRule = &res.Warnings[i]
		}
	}
	if onRule == nil {
		t.Fatalf("protect-service-d has no ForgedIdentityLabel warning on ingress/allow-service-c: %+v", res.Warnings)
	}
	for _, want := range []string{"x1/spoofer", "ncp/project=z1", "peers", "pods z1 app=service-c", "addresses", "config/admission"} {
		if !strings.Contains(onRule.Message, want) {
			t.Errorf("warning %q does not say %q", onRule.Message, want)
		}
	}
	np, _ := m.Object(ir.ObjectRef{Kind: ir.KindNetworkPolicy, Namespace: "z1", Name: "service-c-from-a-and-b"})
	if !slices.ContainsFunc(np.Warnings, func(w ir.Warning) bool {
		return w.Code == ir.WarnForgedIdentityLabel && w.Rule == "isolate/ingress" && strings.Contains(w.Message, "subjects")
	}) {
		t.Errorf("service-c's NetworkPolicy isolates by a tag group the spoofer matches, and does not say so: %+v", np.Warnings)
	}
	var onPod []ir.Warning
	for _, w := range m.Warnings {
		if w.Object.Kind == ir.KindPod {
			onPod = append(onPod, w)
		}
	}
	if len(onPod) != 1 || onPod[0].Object.String() != "Pod/x1/spoofer" || onPod[0].Code != ir.WarnForgedIdentityLabel ||
		!strings.Contains(onPod[0].Message, "ClusterSecurityPolicy/protect-service-d ingress/allow-service-c") {
		t.Errorf("pod warnings %+v; want one on Pod/x1/spoofer naming the rules it affected", onPod)
	}
}

// TestRandomWorldsCatchForgeryWithoutTheCheck proves that the random semantic test can see the
// hole: with the check switched off, some worlds whose pods carry reserved labels disagree with
// the reference semantics (the same worlds agree with the check, in TestSemanticRandomWorlds).
func TestRandomWorldsCatchForgeryWithoutTheCheck(t *testing.T) {
	seeds := *semanticSeeds
	if testing.Short() {
		seeds = 100
	}
	forged, failed := 0, 0
	for seed := range uint64(seeds) {
		w := randomWorld(seed)
		if !slices.ContainsFunc(w.in.Pods, func(p corev1.Pod) bool { return len(ncptags.ReservedLabels(p.Labels)) > 0 }) {
			continue
		}
		forged++
		w.in.Settings.trustForgeableTags = true
		if _, bad := checkWorld(t, w, seed%2 == 1); len(bad) > 0 {
			failed++
		}
	}
	t.Logf("%d of %d worlds have pods with reserved labels; without the check %d of them disagree", forged, seeds, failed)
	if failed == 0 {
		t.Fatal("no world disagrees without the forgery check: the random worlds cannot catch the hole")
	}
}
