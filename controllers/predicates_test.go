package controllers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
)

func pod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "x1", Labels: map[string]string{"app": "a"}, ResourceVersion: "1"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Ports: []corev1.ContainerPort{
			{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}, {ContainerPort: 9090}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1", PodIPs: []corev1.PodIP{{IP: "10.0.0.1"}}},
	}
}

func TestPodPredicate(t *testing.T) {
	p := podChanged()
	for _, tc := range []struct {
		name   string
		change func(*corev1.Pod)
		want   bool
	}{
		{"nothing but the resourceVersion", func(*corev1.Pod) {}, false},
		{"conditions and container statuses", func(p *corev1.Pod) {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", Ready: true}}
		}, false},
		{"a finalizer and an annotation", func(p *corev1.Pod) {
			p.Finalizers = []string{"ncp.microseg.io/logical-port"}
			p.Annotations = map[string]string{"a": "b"}
		}, false},
		{"an unnamed port", func(p *corev1.Pod) { p.Spec.Containers[0].Ports[1].ContainerPort = 9091 }, false},
		{"a label", func(p *corev1.Pod) { p.Labels["tier"] = "web" }, true},
		{"a label removed", func(p *corev1.Pod) { delete(p.Labels, "app") }, true},
		{"the address", func(p *corev1.Pod) { p.Status.PodIP = "10.0.0.2" }, true},
		{"a second address", func(p *corev1.Pod) { p.Status.PodIPs = append(p.Status.PodIPs, corev1.PodIP{IP: "fd00::1"}) }, true},
		{"the phase", func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }, true},
		{"host networking", func(p *corev1.Pod) { p.Spec.HostNetwork = true }, true},
		{"a named port's number", func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 8081 }, true},
		{"a port's name", func(p *corev1.Pod) { p.Spec.Containers[0].Ports[1].Name = "metrics" }, true},
	} {
		old, cur := pod(), pod()
		cur.ResourceVersion = "2"
		tc.change(cur)
		if got := p.Update(event.UpdateEvent{ObjectOld: old, ObjectNew: cur}); got != tc.want {
			t.Errorf("%s: sync %v, want %v", tc.name, got, tc.want)
		}
	}
	if !p.Create(event.CreateEvent{Object: pod()}) || !p.Delete(event.DeleteEvent{Object: pod()}) {
		t.Error("creations and deletions of pods must sync")
	}
}

func TestPolicyPredicateIgnoresStatusWrites(t *testing.T) {
	old := &securityv1alpha1.ClusterSecurityPolicy{ObjectMeta: metav1.ObjectMeta{Name: "p", Generation: 1, ResourceVersion: "1"}}
	status := old.DeepCopy()
	status.ResourceVersion = "2"
	status.Status.ObservedGeneration = 1
	spec := status.DeepCopy()
	spec.Generation = 2
	p := policyChanged()
	if p.Update(event.UpdateEvent{ObjectOld: old, ObjectNew: status}) {
		t.Error("a status write (same generation) triggers a sync")
	}
	if !p.Update(event.UpdateEvent{ObjectOld: status, ObjectNew: spec}) {
		t.Error("a spec change (new generation) does not trigger a sync")
	}
}

func TestNamespacePredicate(t *testing.T) {
	old := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "x1", Labels: map[string]string{"team": "a"}}}
	annotated := old.DeepCopy()
	annotated.Annotations = map[string]string{"note": "x"}
	relabelled := old.DeepCopy()
	relabelled.Labels = map[string]string{"team": "b"}
	p := namespaceChanged()
	if p.Update(event.UpdateEvent{ObjectOld: old, ObjectNew: annotated}) {
		t.Error("an annotation triggers a sync")
	}
	if !p.Update(event.UpdateEvent{ObjectOld: old, ObjectNew: relabelled}) {
		t.Error("a label change does not trigger a sync")
	}
}
