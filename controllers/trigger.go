package controllers

import (
	"context"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// syncRequest is the one workqueue key of the whole DFW: every relevant change enqueues it, so the
// workqueue's deduplication turns any burst of changes into one sync.
var syncRequest = reconcile.Request{NamespacedName: types.NamespacedName{Name: "dfw"}}

// trigger turns Kubernetes events into the sync key, after a short delay, and counts them.
//
// The delay is what collapses a `kubectl apply` of many objects into one sync: the key waits
// delay after the first event, and the workqueue keeps the earliest ready time when it is added
// again, so a steady stream of changes still syncs at least every delay (it never starves).
type trigger struct {
	delay time.Duration
	// pending counts relevant events since the start of the last successful sync.
	pending atomic.Int64
}

// handler enqueues the sync key for every event that passed the watch's predicates.
func (t *trigger) handler() handler.EventHandler {
	add := func(q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		pendingChanges.Set(float64(t.pending.Add(1)))
		if t.delay > 0 {
			q.AddAfter(syncRequest, t.delay)
		} else {
			q.Add(syncRequest)
		}
	}
	return handler.Funcs{
		CreateFunc: func(_ context.Context, _ event.TypedCreateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q)
		},
		UpdateFunc: func(_ context.Context, _ event.TypedUpdateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q)
		},
		DeleteFunc: func(_ context.Context, _ event.TypedDeleteEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q)
		},
		GenericFunc: func(_ context.Context, _ event.TypedGenericEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q)
		},
	}
}

// take returns the number of events pending now, at the start of a sync.
func (t *trigger) take() int64 { return t.pending.Load() }

// done forgets the n events a successful sync has covered; events that arrived during the sync
// stay pending (they have enqueued the key again).
func (t *trigger) done(n int64) { pendingChanges.Set(float64(t.pending.Add(-n))) }
