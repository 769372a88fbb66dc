package operator

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/microseg/microseg/internal/manifest"
	"github.com/microseg/microseg/internal/testenv"
)

// TestMetricsConfig checks that config/default wires the metrics endpoint together: the Service
// is deployed, selects the operator's pods and targets the port the operator's flags bind, and
// the scrapers' ClusterRole is part of config/rbac.
func TestMetricsConfig(t *testing.T) {
	root, err := testenv.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(root, "config")
	if res := kustomizationResources(t, filepath.Join(config, "default")); !slices.Contains(res, "metrics_service.yaml") {
		t.Errorf("config/default does not deploy metrics_service.yaml: %v", res)
	}
	if res := kustomizationResources(t, filepath.Join(config, "rbac")); !slices.Contains(res, "metrics_reader_role.yaml") {
		t.Errorf("config/rbac does not hold metrics_reader_role.yaml: %v", res)
	}
	var svc corev1.Service
	readOne(t, filepath.Join(config, "default", "metrics_service.yaml"), &svc)
	var deploy appsv1.Deployment
	readOne(t, filepath.Join(config, "manager", "manager.yaml"), &deploy)

	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(deploy.Spec.Template.Labels)) {
		t.Errorf("the Service selects %v, the operator's pods are labelled %v", svc.Spec.Selector, deploy.Spec.Template.Labels)
	}
	if svc.Namespace != deploy.Namespace {
		t.Errorf("the Service is in %q, the operator in %q", svc.Namespace, deploy.Namespace)
	}
	c := deploy.Spec.Template.Spec.Containers[0]
	target := svc.Spec.Ports[0].TargetPort.String()
	i := slices.IndexFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == target })
	if i < 0 {
		t.Fatalf("the Service targets port %q, which the container does not name: %v", target, c.Ports)
	}
	if want := "--metrics-bind-address=:" + strconv.Itoa(int(c.Ports[i].ContainerPort)); !slices.Contains(c.Args, want) {
		t.Errorf("the container's %q port is %d but its args do not have %s: %v", target, c.Ports[i].ContainerPort, want, c.Args)
	}
	if slices.Contains(c.Args, "--metrics-secure=false") {
		t.Error("config/manager turns the metrics authentication off")
	}
}

func kustomizationResources(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatal(err)
	}
	return k.Resources
}

func readOne(t *testing.T, path string, into any) {
	t.Helper()
	objs, err := manifest.ReadFile(path)
	if err != nil || len(objs) != 1 {
		t.Fatalf("%s: %d objects, error %v; want one", path, len(objs), err)
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(objs[0].Object, into); err != nil {
		t.Fatal(err)
	}
}
