package controllers

import (
	"context"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/compile"
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

	// changed is what the events since the last takeChanges changed, for the incremental
	// compiler.
	mu      sync.Mutex
	changed changeSet
}

// changeSet accumulates compile.Changes.
type changeSet struct {
	all, clusterPolicies bool
	networkPolicies      map[string]bool // namespaces
	pods                 map[string]bool // namespaces whose pods or Namespace object changed
}

// note records what an event's object changed; an object of an unexpected kind (or none)
// means anything may have.
func (t *trigger) note(obj client.Object) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := &t.changed
	add := func(m *map[string]bool, ns string) {
		if *m == nil {
			*m = map[string]bool{}
		}
		(*m)[ns] = true
	}
	switch o := obj.(type) {
	case *corev1.Pod:
		add(&c.pods, o.Namespace)
	case *corev1.Namespace:
		add(&c.pods, o.Name)
	case *networkingv1.NetworkPolicy:
		add(&c.networkPolicies, o.Namespace)
	case *securityv1alpha1.ClusterSecurityPolicy:
		c.clusterPolicies = true
	default:
		c.all = true
	}
}

// takeChanges returns what changed since the last call and starts over. Called at the start of a
// sync, before the objects are listed from the cache: the cache holds an object before its event
// is handled, so every change taken is in the list, and a change listed but not yet taken is
// taken (and compiled again) by the sync its event triggers.
func (t *trigger) takeChanges() compile.Changes {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.changed
	t.changed = changeSet{}
	return compile.Changes{All: c.all, ClusterSecurityPolicies: c.clusterPolicies,
		NetworkPolicies: slices.Sorted(maps.Keys(c.networkPolicies)), Pods: slices.Sorted(maps.Keys(c.pods))}
}

// handler enqueues the sync key for every event that passed the watch's predicates.
func (t *trigger) handler() handler.EventHandler {
	add := func(q workqueue.TypedRateLimitingInterface[reconcile.Request], objs ...client.Object) {
		for _, o := range objs {
			t.note(o)
		}
		pendingChanges.Set(float64(t.pending.Add(1)))
		if t.delay > 0 {
			q.AddAfter(syncRequest, t.delay)
		} else {
			q.Add(syncRequest)
		}
	}
	return handler.Funcs{
		CreateFunc: func(_ context.Context, e event.TypedCreateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q, e.Object)
		},
		UpdateFunc: func(_ context.Context, e event.TypedUpdateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q, e.ObjectOld, e.ObjectNew)
		},
		DeleteFunc: func(_ context.Context, e event.TypedDeleteEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q, e.Object)
		},
		GenericFunc: func(_ context.Context, _ event.TypedGenericEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q, nil)
		},
	}
}

// take returns the number of events pending now, at the start of a sync.
func (t *trigger) take() int64 { return t.pending.Load() }

// done forgets the n events a successful sync has covered; events that arrived during the sync
// stay pending (they have enqueued the key again).
func (t *trigger) done(n int64) { pendingChanges.Set(float64(t.pending.Add(-n))) }
