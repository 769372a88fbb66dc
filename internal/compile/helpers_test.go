package compile

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/manifest"
)

// Builders for test objects. Labels are written "k=v,k2=v2".

func labels(s string) map[string]string {
	if s == "" {
		return nil
	}
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out
}

func namespace(name, lbls string) corev1.Namespace {
	l := labels(lbls)
	if l == nil {
		l = map[string]string{}
	}
	l["kubernetes.io/metadata.name"] = name
	return corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}}
}

// testPod builds a running pod; ports are "name:number[/PROTO]".
func testPod(ns, name, lbls string, ips []string, ports ...string) corev1.Pod {
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels(lbls)},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	var cps []corev1.ContainerPort
	for _, spec := range ports {
		n, rest, _ := strings.Cut(spec, ":")
		num, proto, _ := strings.Cut(rest, "/")
		number, err := strconv.Atoi(num)
		if err != nil {
			panic(fmt.Sprintf("testPod: port %q: %v", spec, err))
		}
		cps = append(cps, corev1.ContainerPort{Name: n, ContainerPort: int32(number), Protocol: corev1.Protocol(proto)})
	}
	p.Spec.Containers = []corev1.Container{{Name: "c", Ports: cps}}
	for _, ip := range ips {
		p.Status.PodIPs = append(p.Status.PodIPs, corev1.PodIP{IP: ip})
	}
	if len(ips) > 0 {
		p.Status.PodIP = ips[0]
	}
	return p
}

func sel(lbls string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: labels(lbls)}
}

func selExpr(key string, op metav1.LabelSelectorOperator, values ...string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: key, Operator: op, Values: values}}}
}

func proto(p string) *corev1.Protocol {
	pp := corev1.Protocol(p)
	return &pp
}

func npPort(protocol string, port any, endPort ...int32) networkingv1.NetworkPolicyPort {
	out := networkingv1.NetworkPolicyPort{}
	if protocol != "" {
		out.Protocol = proto(protocol)
	}
	switch v := port.(type) {
	case int:
		p := intstr.FromInt32(int32(v))
		out.Port = &p
	case string:
		p := intstr.FromString(v)
		out.Port = &p
	}
	if len(endPort) > 0 {
		out.EndPort = &endPort[0]
	}
	return out
}

func i32(v int32) *int32 { return &v }

func cspPortNum(protocol string, port int32, endPort ...int32) securityv1alpha1.Port {
	p := securityv1alpha1.Port{Protocol: securityv1alpha1.Protocol(protocol), Port: i32(port)}
	if len(endPort) > 0 {
		p.EndPort = &endPort[0]
	}
	return p
}

func cspPortNamed(protocol, name string) securityv1alpha1.Port {
	return securityv1alpha1.Port{Protocol: securityv1alpha1.Protocol(protocol), NamedPort: name}
}

func networks(cidrs ...string) securityv1alpha1.Peer {
	var out []securityv1alpha1.CIDR
	for _, c := range cidrs {
		out = append(out, securityv1alpha1.CIDR(c))
	}
	return securityv1alpha1.Peer{Networks: out}
}

func nsxGroups(names ...string) securityv1alpha1.Peer {
	var out []securityv1alpha1.NSXGroupName
	for _, n := range names {
		out = append(out, securityv1alpha1.NSXGroupName(n))
	}
	return securityv1alpha1.Peer{NSXGroups: out}
}

func podsPeer(nsSel, podSel *metav1.LabelSelector) securityv1alpha1.Peer {
	p := &securityv1alpha1.NamespacedPods{}
	if nsSel != nil {
		p.NamespaceSelector = *nsSel
	}
	if podSel != nil {
		p.PodSelector = *podSel
	}
	return securityv1alpha1.Peer{Pods: p}
}

func nsPeer(nsSel *metav1.LabelSelector) securityv1alpha1.Peer {
	if nsSel == nil {
		nsSel = &metav1.LabelSelector{}
	}
	return securityv1alpha1.Peer{Namespaces: nsSel}
}

func csp(name string, tier securityv1alpha1.Tier, prio int32, subject securityv1alpha1.Subject) securityv1alpha1.ClusterSecurityPolicy {
	return securityv1alpha1.ClusterSecurityPolicy{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: securityv1alpha1.ClusterSecurityPolicySpec{Tier: tier, Priority: prio, Subject: subject}}
}

func subjectPods(nsSel, podSel *metav1.LabelSelector) securityv1alpha1.Subject {
	return securityv1alpha1.Subject{Pods: podsPeer(nsSel, podSel).Pods}
}

func subjectNamespaces(nsSel *metav1.LabelSelector) securityv1alpha1.Subject {
	if nsSel == nil {
		nsSel = &metav1.LabelSelector{}
	}
	return securityv1alpha1.Subject{Namespaces: nsSel}
}

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
