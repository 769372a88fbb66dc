// Package compiletest builds Kubernetes objects for the compiler's tests and benchmarks, and the
// benchmark world at any scale. Labels are written "k=v,k2=v2".
package compiletest

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
)

func Labels(s string) map[string]string {
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

func Namespace(name, lbls string) corev1.Namespace {
	l := Labels(lbls)
	if l == nil {
		l = map[string]string{}
	}
	l["kubernetes.io/metadata.name"] = name
	return corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}}
}

// testPod builds a running pod; ports are "name:number[/PROTO]".
func Pod(ns, name, lbls string, ips []string, ports ...string) corev1.Pod {
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: Labels(lbls)},
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

func Sel(lbls string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: Labels(lbls)}
}

func SelExpr(key string, op metav1.LabelSelectorOperator, values ...string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: key, Operator: op, Values: values}}}
}

func Proto(p string) *corev1.Protocol {
	pp := corev1.Protocol(p)
	return &pp
}

func NPPort(protocol string, port any, endPort ...int32) networkingv1.NetworkPolicyPort {
	out := networkingv1.NetworkPolicyPort{}
	if protocol != "" {
		out.Protocol = Proto(protocol)
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

func I32(v int32) *int32 { return &v }

func CSPPortNum(protocol string, port int32, endPort ...int32) securityv1alpha1.Port {
	p := securityv1alpha1.Port{Protocol: securityv1alpha1.Protocol(protocol), Port: I32(port)}
	if len(endPort) > 0 {
		p.EndPort = &endPort[0]
	}
	return p
}

func CSPPortNamed(protocol, name string) securityv1alpha1.Port {
	return securityv1alpha1.Port{Protocol: securityv1alpha1.Protocol(protocol), NamedPort: name}
}

func Networks(cidrs ...string) securityv1alpha1.Peer {
	var out []securityv1alpha1.CIDR
	for _, c := range cidrs {
		out = append(out, securityv1alpha1.CIDR(c))
	}
	return securityv1alpha1.Peer{Networks: out}
}

func NSXGroups(names ...string) securityv1alpha1.Peer {
	var out []securityv1alpha1.NSXGroupName
	for _, n := range names {
		out = append(out, securityv1alpha1.NSXGroupName(n))
	}
	return securityv1alpha1.Peer{NSXGroups: out}
}

func PodsPeer(nsSel, podSel *metav1.LabelSelector) securityv1alpha1.Peer {
	p := &securityv1alpha1.NamespacedPods{}
	if nsSel != nil {
		p.NamespaceSelector = *nsSel
	}
	if podSel != nil {
		p.PodSelector = *podSel
	}
	return securityv1alpha1.Peer{Pods: p}
}

func NSPeer(nsSel *metav1.LabelSelector) securityv1alpha1.Peer {
	if nsSel == nil {
		nsSel = &metav1.LabelSelector{}
	}
	return securityv1alpha1.Peer{Namespaces: nsSel}
}

func CSP(name string, tier securityv1alpha1.Tier, prio int32, subject securityv1alpha1.Subject) securityv1alpha1.ClusterSecurityPolicy {
	return securityv1alpha1.ClusterSecurityPolicy{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: securityv1alpha1.ClusterSecurityPolicySpec{Tier: tier, Priority: prio, Subject: subject}}
}

func SubjectPods(nsSel, podSel *metav1.LabelSelector) securityv1alpha1.Subject {
	return securityv1alpha1.Subject{Pods: PodsPeer(nsSel, podSel).Pods}
}

func SubjectNamespaces(nsSel *metav1.LabelSelector) securityv1alpha1.Subject {
	if nsSel == nil {
		nsSel = &metav1.LabelSelector{}
	}
	return securityv1alpha1.Subject{Namespaces: nsSel}
}

func NP(ns, name string, podSel *metav1.LabelSelector) networkingv1.NetworkPolicy {
	return networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: *podSel}}
}
