package controllers

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/compile"
)

// TestChangesSince: every object added, rewritten or removed names its namespace (or the
// ClusterSecurityPolicies), and an object without a resourceVersion makes the versions unusable.
func TestChangesSince(t *testing.T) {
	meta := func(ns, name, rv string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: ns, Name: name, ResourceVersion: rv}
	}
	before := compile.Input{
		ClusterSecurityPolicies: []securityv1alpha1.ClusterSecurityPolicy{{ObjectMeta: meta("", "c", "1")}},
		NetworkPolicies:         []networkingv1.NetworkPolicy{{ObjectMeta: meta("a", "np", "2")}, {ObjectMeta: meta("b", "np", "3")}},
		Namespaces:              []corev1.Namespace{{ObjectMeta: meta("", "a", "4")}, {ObjectMeta: meta("", "e", "5")}},
		Pods:                    []corev1.Pod{{ObjectMeta: meta("a", "p", "6")}, {ObjectMeta: meta("c", "p", "7")}},
	}
	after := compile.Input{
		ClusterSecurityPolicies: before.ClusterSecurityPolicies,
		NetworkPolicies:         []networkingv1.NetworkPolicy{{ObjectMeta: meta("a", "np", "2")}, {ObjectMeta: meta("d", "np", "8")}},
		Namespaces:              []corev1.Namespace{{ObjectMeta: meta("", "a", "4")}, {ObjectMeta: meta("", "e", "9")}},
		Pods:                    []corev1.Pod{{ObjectMeta: meta("a", "p", "6")}, {ObjectMeta: meta("c", "p", "10")}, {ObjectMeta: meta("f", "p", "11")}},
	}
	old, ok1 := versionsOf(before)
	cur, ok2 := versionsOf(after)
	if !ok1 || !ok2 {
		t.Fatal("versioned inputs reported unversioned")
	}
	want := compile.Changes{NetworkPolicies: []string{"b", "d"}, Pods: []string{"c", "e", "f"}}
	if got := changesSince(old, cur); !reflect.DeepEqual(got, want) {
		t.Errorf("changes %+v, want %+v", got, want)
	}
	if got := changesSince(cur, cur); got.All || got.ClusterSecurityPolicies || len(got.NetworkPolicies)+len(got.Pods) > 0 {
		t.Errorf("no change gave %+v", got)
	}
	after.ClusterSecurityPolicies = []securityv1alpha1.ClusterSecurityPolicy{{ObjectMeta: meta("", "c", "12")}}
	if cur, _ = versionsOf(after); !changesSince(old, cur).ClusterSecurityPolicies {
		t.Error("a rewritten ClusterSecurityPolicy is not a change")
	}
	after.Pods = append(after.Pods, corev1.Pod{ObjectMeta: meta("a", "q", "")})
	if _, ok := versionsOf(after); ok {
		t.Error("an object without resourceVersion is trusted")
	}
}
