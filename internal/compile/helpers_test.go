package compile

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/compile/compiletest"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/manifest"
)

// The builders live in compiletest so that benchmarks elsewhere can build the same worlds.
var (
	labels            = compiletest.Labels
	namespace         = compiletest.Namespace
	testPod           = compiletest.Pod
	sel               = compiletest.Sel
	selExpr           = compiletest.SelExpr
	npPort            = compiletest.NPPort
	cspPortNum        = compiletest.CSPPortNum
	cspPortNamed      = compiletest.CSPPortNamed
	networks          = compiletest.Networks
	nsxGroups         = compiletest.NSXGroups
	podsPeer          = compiletest.PodsPeer
	nsPeer            = compiletest.NSPeer
	csp               = compiletest.CSP
	subjectPods       = compiletest.SubjectPods
	subjectNamespaces = compiletest.SubjectNamespaces
	np                = compiletest.NP
)

// referenceScenario reads the reference scenario from config/samples and turns each Deployment
// into two running pods labelled like its template, with IPv4 and IPv6 addresses and the named
// port http=8080.
func referenceScenario(t testing.TB) Input {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "config", "samples")
	objs, err := manifest.ReadPaths(dir)
	if err != nil {
		t.Fatal(err)
	}
	in := Input{ClusterID: "demo"}
	podNum := 0
	for _, u := range objs {
		conv := func(into any) {
			if err := k8sruntime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into); err != nil {
				t.Fatal(err)
			}
		}
		switch u.GetKind() {
		case "Namespace":
			var ns corev1.Namespace
			conv(&ns)
			in.Namespaces = append(in.Namespaces, ns)
		case "NetworkPolicy":
			var np networkingv1.NetworkPolicy
			conv(&np)
			in.NetworkPolicies = append(in.NetworkPolicies, np)
		case "ClusterSecurityPolicy":
			var p securityv1alpha1.ClusterSecurityPolicy
			conv(&p)
			in.ClusterSecurityPolicies = append(in.ClusterSecurityPolicies, p)
		case "Deployment":
			var d appsv1.Deployment
			conv(&d)
			for r := range int(*d.Spec.Replicas) {
				podNum++
				p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: fmt.Sprintf("%s-%d", d.Name, r),
					Labels: d.Spec.Template.Labels}, Spec: d.Spec.Template.Spec,
					Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIPs: []corev1.PodIP{
						{IP: fmt.Sprintf("10.244.0.%d", podNum)}, {IP: fmt.Sprintf("fd00:244::%d", podNum)}}}}
				in.Pods = append(in.Pods, p)
			}
		default:
			t.Fatalf("unexpected %s in samples", u.GetKind())
		}
	}
	return in
}

func mustCompile(t testing.TB, in Input) *ir.Model {
	t.Helper()
	m, err := Compile(in)
	if err != nil {
		t.Fatal(err)
	}
	if errs := ir.Check(m, in.Settings.Limits); len(errs) > 0 {
		t.Fatalf("model violates NSX limits or IR invariants: %v", errs)
	}
	return m
}

func toJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
