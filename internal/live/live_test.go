package live

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
)

func pod(ns, name string, labels map[string]string, ip string) corev1.Pod {
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels}}
	if ip != "" {
		p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip}
	}
	return p
}

// TestTargets: a pod by name, the first running pod with an address of a deployment or of a label
// selector (saying which), and the errors a user fixes.
func TestTargets(t *testing.T) {
	pods := []corev1.Pod{
		pod("x1", "web-b", map[string]string{"app": "web"}, "10.0.0.2"),
		pod("x1", "web-a", map[string]string{"app": "web"}, "10.0.0.1"),
		pod("x1", "web-pending", map[string]string{"app": "web"}, ""),
		pod("y1", "web-c", map[string]string{"app": "web"}, "10.0.0.3"),
	}
	deploy := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "x1", Name: "web"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}
	c := deployments{deploy}
	for text, want := range map[string]string{
		"x1/web-pending":     "web-pending",
		"x1/deployment/web":  "web-a",
		"x1/deploy/web":      "web-a",
		"x1/app=web":         "web-a",
		"y1/app in (web,db)": "web-c",
	} {
		tg, err := ParseTarget(text)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		p, note, err := tg.Resolve(context.Background(), c, pods)
		if err != nil || p.Name != want {
			t.Errorf("%s: %v, %v; want %s", text, p, err, want)
		}
		if strings.Contains(text, "x1/") && want == "web-a" && !strings.Contains(note, "selects 2 pods; explaining x1/web-a") {
			t.Errorf("%s: note %q", text, note)
		}
	}
	for text, want := range map[string]string{
		"web":               "name a pod as NAMESPACE/POD",
		"x1/service/web":    "only deployments can be named by kind",
		"x1/app in (":       "is not a label selector",
		"x1/nope":           "no pod x1/nope",
		"x1/deployment/api": "reading deployment x1/api",
		"z1/app=web":        "selects no running pod with an address in namespace z1",
	} {
		tg, err := ParseTarget(text)
		if err == nil {
			_, _, err = tg.Resolve(context.Background(), c, pods)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", text, err, want)
		}
	}
}

// deployments is a Reader that knows some Deployments and nothing else.
type deployments []*appsv1.Deployment

func (d deployments) GetDeployment(_ context.Context, namespace, name string) (*appsv1.Deployment, error) {
	for _, x := range d {
		if x.Namespace == namespace && x.Name == name {
			return x, nil
		}
	}
	return nil, apierrors.NewNotFound(appsv1.Resource("deployments"), name)
}

func (deployments) ListClusterSecurityPolicies(context.Context) ([]securityv1alpha1.ClusterSecurityPolicy, error) {
	return nil, nil
}
func (deployments) ListNamespaces(context.Context) ([]corev1.Namespace, error) { return nil, nil }
func (deployments) GetNamespace(_ context.Context, name string) (*corev1.Namespace, error) {
	return nil, apierrors.NewNotFound(corev1.Resource("namespaces"), name)
}
func (deployments) ListPods(context.Context, string) ([]corev1.Pod, error) { return nil, nil }
func (deployments) ListNetworkPolicies(context.Context, string) ([]networkingv1.NetworkPolicy, error) {
	return nil, nil
}
