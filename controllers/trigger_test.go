package controllers

import (
	"context"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/compile"
)

// TestTriggerCollapsesBursts: a burst of events is one key, ready after the delay.
func TestTriggerCollapsesBursts(t *testing.T) {
	tr := &trigger{delay: 100 * time.Millisecond}
	h := tr.handler()
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()
	ctx := context.Background()
	for range 50 {
		h.Create(ctx, event.CreateEvent{Object: &corev1.Pod{}}, q)
		h.Update(ctx, event.UpdateEvent{ObjectOld: &corev1.Pod{}, ObjectNew: &corev1.Pod{}}, q)
	}
	h.Delete(ctx, event.DeleteEvent{Object: &corev1.Pod{}}, q)
	if q.Len() != 0 {
		t.Errorf("the key is ready before the delay")
	}
	time.Sleep(300 * time.Millisecond)
	if q.Len() != 1 {
		t.Fatalf("%d keys queued, want the one sync key", q.Len())
	}
	if got, _ := q.Get(); got != syncRequest {
		t.Errorf("queued %v, want %v", got, syncRequest)
	}
	n := tr.take()
	if n != 101 {
		t.Errorf("%d events pending, want 101", n)
	}
	h.Create(ctx, event.CreateEvent{Object: &corev1.Pod{}}, q) // arrives during the sync
	tr.done(n)
	if got := tr.take(); got != 1 {
		t.Errorf("%d events pending after the sync, want the 1 that arrived during it", got)
	}
}

// TestTriggerRecordsChanges: the events' objects become the incremental compiler's Changes, and
// taking them starts over.
func TestTriggerRecordsChanges(t *testing.T) {
	tr := &trigger{}
	h := tr.handler()
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()
	ctx := context.Background()
	pod := func(ns string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "p"}}
	}
	h.Create(ctx, event.CreateEvent{Object: pod("b")}, q)
	h.Update(ctx, event.UpdateEvent{ObjectOld: pod("a"), ObjectNew: pod("a")}, q)
	h.Delete(ctx, event.DeleteEvent{Object: &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "c"}}}, q)
	h.Create(ctx, event.CreateEvent{Object: &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "d", Name: "np"}}}, q)
	got := tr.takeChanges()
	want := compile.Changes{Pods: []string{"a", "b", "c"}, NetworkPolicies: []string{"d"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes %+v, want %+v", got, want)
	}
	if got := tr.takeChanges(); !reflect.DeepEqual(got, compile.Changes{}) {
		t.Errorf("changes after taking them: %+v, want none", got)
	}
	h.Update(ctx, event.UpdateEvent{ObjectOld: &securityv1alpha1.ClusterSecurityPolicy{}, ObjectNew: &securityv1alpha1.ClusterSecurityPolicy{}}, q)
	if got := tr.takeChanges(); !got.ClusterSecurityPolicies || got.All {
		t.Errorf("a ClusterSecurityPolicy update gave %+v", got)
	}
	h.Generic(ctx, event.GenericEvent{}, q)
	if got := tr.takeChanges(); !got.All {
		t.Errorf("a generic event gave %+v, want everything", got)
	}
}
