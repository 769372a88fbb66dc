package controllers

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
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
