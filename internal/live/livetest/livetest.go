// Package livetest serves live.Reader from a controller-runtime client, so that tests can read a
// fake cluster (controller-runtime's fake client, with interceptors for forbidden lists) the way
// kubectl-microseg reads a real one. Tests only: the CLI itself reads with client-go.
package livetest

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/live"
	"github.com/microseg/microseg/internal/pipeline"
)

// Reader is live.Reader over c.
func Reader(c client.Reader) live.Reader { return reader{c} }

type reader struct{ c client.Reader }

func inNamespace(ns string) []client.ListOption {
	if ns == "" {
		return nil
	}
	return []client.ListOption{client.InNamespace(ns)}
}

func (r reader) ListClusterSecurityPolicies(ctx context.Context) ([]securityv1alpha1.ClusterSecurityPolicy, error) {
	var l securityv1alpha1.ClusterSecurityPolicyList
	err := r.c.List(ctx, &l)
	return l.Items, err
}

func (r reader) ListNamespaces(ctx context.Context) ([]corev1.Namespace, error) {
	var l corev1.NamespaceList
	err := r.c.List(ctx, &l)
	return l.Items, err
}

func (r reader) GetNamespace(ctx context.Context, name string) (*corev1.Namespace, error) {
	var ns corev1.Namespace
	return &ns, r.c.Get(ctx, client.ObjectKey{Name: name}, &ns)
}

func (r reader) ListPods(ctx context.Context, namespace string) ([]corev1.Pod, error) {
	var l corev1.PodList
	err := r.c.List(ctx, &l, inNamespace(namespace)...)
	return l.Items, err
}

func (r reader) ListNetworkPolicies(ctx context.Context, namespace string) ([]networkingv1.NetworkPolicy, error) {
	var l networkingv1.NetworkPolicyList
	err := r.c.List(ctx, &l, inNamespace(namespace)...)
	return l.Items, err
}

func (r reader) GetDeployment(ctx context.Context, namespace, name string) (*appsv1.Deployment, error) {
	var d appsv1.Deployment
	return &d, r.c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &d)
}

// Objects are a world's objects as an API server holds them, for a fake client.
func Objects(w pipeline.World) []client.Object {
	var out []client.Object
	for i := range w.Namespaces {
		out = append(out, &w.Namespaces[i])
	}
	for i := range w.Pods {
		out = append(out, &w.Pods[i])
	}
	for i := range w.NetworkPolicies {
		out = append(out, &w.NetworkPolicies[i])
	}
	for i := range w.ClusterSecurityPolicies {
		out = append(out, &w.ClusterSecurityPolicies[i])
	}
	return out
}
