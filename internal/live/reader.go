package live

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/kinds"
)

// Reader is what explain and matrix read of a cluster. An empty namespace lists every namespace.
// Errors are the API server's (apierrors.IsForbidden tells a missing right).
type Reader interface {
	ListClusterSecurityPolicies(ctx context.Context) ([]securityv1alpha1.ClusterSecurityPolicy, error)
	ListNamespaces(ctx context.Context) ([]corev1.Namespace, error)
	GetNamespace(ctx context.Context, name string) (*corev1.Namespace, error)
	ListPods(ctx context.Context, namespace string) ([]corev1.Pod, error)
	ListNetworkPolicies(ctx context.Context, namespace string) ([]networkingv1.NetworkPolicy, error)
	GetDeployment(ctx context.Context, namespace, name string) (*appsv1.Deployment, error)
}

// NewReader reads the cluster at cfg with client-go: the typed clientset for the built-in kinds
// and a REST client for ClusterSecurityPolicies. (kubectl-microseg links client-go only, not
// controller-runtime.)
func NewReader(cfg *rest.Config) (Reader, error) {
	k, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster: %w", err)
	}
	c := rest.CopyConfig(cfg)
	c.GroupVersion = &securityv1alpha1.GroupVersion
	c.APIPath = "/apis"
	c.NegotiatedSerializer = serializer.NewCodecFactory(kinds.Scheme()).WithoutConversion()
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	csp, err := rest.RESTClientFor(c)
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster: %w", err)
	}
	return clientGo{k: k, csp: csp}, nil
}

type clientGo struct {
	k   kubernetes.Interface
	csp rest.Interface
}

func (r clientGo) ListClusterSecurityPolicies(ctx context.Context) ([]securityv1alpha1.ClusterSecurityPolicy, error) {
	var l securityv1alpha1.ClusterSecurityPolicyList
	err := r.csp.Get().Resource("clustersecuritypolicies").Do(ctx).Into(&l)
	return l.Items, err
}

func (r clientGo) ListNamespaces(ctx context.Context) ([]corev1.Namespace, error) {
	l, err := r.k.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	return l.Items, nil
}

func (r clientGo) GetNamespace(ctx context.Context, name string) (*corev1.Namespace, error) {
	return r.k.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
}

func (r clientGo) ListPods(ctx context.Context, namespace string) ([]corev1.Pod, error) {
	l, err := r.k.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	return l.Items, nil
}

func (r clientGo) ListNetworkPolicies(ctx context.Context, namespace string) ([]networkingv1.NetworkPolicy, error) {
	l, err := r.k.NetworkingV1().NetworkPolicies(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	return l.Items, nil
}

func (r clientGo) GetDeployment(ctx context.Context, namespace, name string) (*appsv1.Deployment, error) {
	return r.k.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
}
