package operator

import (
	"encoding/json"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/compile/compiletest"
)

// realistic dresses a test pod as the API server and the kubelet would: metadata, an init
// container and a sidecar (with ports, named or not), resources, volumes, conditions and
// container statuses — everything the operator does not read.
func realistic(p corev1.Pod, i int) corev1.Pod {
	p.UID = types.UID(fmt.Sprintf("uid-%d", i))
	p.ResourceVersion = fmt.Sprint(1000 + i)
	p.Annotations = map[string]string{"kubectl.kubernetes.io/restartedAt": "2030-01-01T00:00:00Z", "prometheus.io/scrape": "true"}
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: "rs-uid"}}
	p.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate}}
	p.Spec.NodeName = "node-1"
	p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 1}}}}
	for j := range p.Spec.Containers {
		c := &p.Spec.Containers[j]
		c.Image = "registry.example.com/app:v1"
		c.Env = []corev1.EnvVar{{Name: "MODE", Value: "production"}}
		c.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}
		c.Ports = append(c.Ports, corev1.ContainerPort{ContainerPort: 7777})
	}
	p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "sidecar", Image: "envoy",
		Ports: []corev1.ContainerPort{{Name: "admin", ContainerPort: 15000, Protocol: corev1.ProtocolTCP}}})
	p.Spec.Volumes = []corev1.Volume{{Name: "token", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	p.Status.HostIP = "192.168.0.1"
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", Ready: true, Image: "registry.example.com/app:v1"}}
	return p
}

// TestTrimmedObjectsCompileTheSame: the compiler gives the byte-identical model for the benchmark
// world whether its pods and namespaces are as the API server serves them or as the operator's
// cache keeps them, and the trimmed pods are a fraction of the size.
func TestTrimmedObjectsCompileTheSame(t *testing.T) {
	w := compiletest.BenchWorld(1)
	full := compile.Input{ClusterID: "c", Namespaces: w.Namespaces, NetworkPolicies: w.NetworkPolicies, ClusterSecurityPolicies: w.ClusterSecurityPolicies}
	trimmed := full
	var before, after int
	for i, p := range w.Pods {
		if i%7 == 0 {
			p.Spec.HostNetwork = true
		}
		p = realistic(p, i)
		full.Pods = append(full.Pods, p)
		out, err := trimPod(p.DeepCopy())
		if err != nil {
			t.Fatal(err)
		}
		tp := out.(*corev1.Pod)
		trimmed.Pods = append(trimmed.Pods, *tp)
		before += size(t, p)
		after += size(t, *tp)
	}
	trimmed.Namespaces = nil
	for _, ns := range w.Namespaces {
		ns.Annotations = map[string]string{"owner": "team"}
		ns.Spec.Finalizers = []corev1.FinalizerName{corev1.FinalizerKubernetes}
		out, err := trimNamespace(ns.DeepCopy())
		if err != nil {
			t.Fatal(err)
		}
		trimmed.Namespaces = append(trimmed.Namespaces, *out.(*corev1.Namespace))
	}
	a, err := compile.Compile(full)
	if err != nil {
		t.Fatal(err)
	}
	b, err := compile.Compile(trimmed)
	if err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Fatal("the trimmed pods and namespaces compile to another model")
	}
	if after*2 > before {
		t.Fatalf("trimmed pods take %d bytes of JSON, untrimmed %d: want less than half", after, before)
	}
	t.Logf("pods as JSON: %d bytes as served, %d as cached", before, after)
}

// TestTrimKeepsWhatTheOperatorReads: identity and resource version (the informers), labels,
// addresses, phase, host networking and the named ports of app containers (the compiler and the
// watch predicates); tombstones pass through.
func TestTrimKeepsWhatTheOperatorReads(t *testing.T) {
	p := realistic(compiletest.Pod("ns", "p", "app=a", []string{"10.0.0.1", "fd00::1"}, "http:8080", "dns:53/UDP"), 1)
	now := metav1.Now()
	p.DeletionTimestamp = &now
	out, _ := trimPod(p.DeepCopy())
	got := out.(*corev1.Pod)
	want := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: p.UID, ResourceVersion: p.ResourceVersion, Labels: p.Labels, DeletionTimestamp: &now},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "c", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP}}},
			{Name: "sidecar", Ports: []corev1.ContainerPort{{Name: "admin", ContainerPort: 15000, Protocol: corev1.ProtocolTCP}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1", PodIPs: p.Status.PodIPs},
	}
	ja, _ := json.Marshal(got)
	jb, _ := json.Marshal(want)
	if string(ja) != string(jb) {
		t.Fatalf("trimmed pod\n got %s\nwant %s", ja, jb)
	}
	tomb := "not a pod"
	if out, _ := trimPod(tomb); out != tomb {
		t.Fatal("a tombstone must pass through")
	}
}

func size(t *testing.T, p corev1.Pod) int {
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}
