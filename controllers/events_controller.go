package controllers

import (
	"context"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/microseg/microseg/internal/ir"
)

// NPEventsReconciler records Events on NetworkPolicies (which have no status microseg may write)
// from the last sync outcome that reached NSX, one policy per key, outside the DFW sync.
type NPEventsReconciler struct {
	client   client.Client
	outcomes *Outcomes
	events   *npEvents
}

// NewNPEventsReconciler returns the event controller over the outcomes the DFW reconciler
// publishes.
func NewNPEventsReconciler(c client.Client, outcomes *Outcomes, recorder events.EventRecorder) *NPEventsReconciler {
	return &NPEventsReconciler{client: c, outcomes: outcomes, events: newNPEvents(recorder)}
}

// SetupWithManager watches NetworkPolicies (new generations and deletions) and the outcomes'
// signal, which enqueues every NetworkPolicy.
func (r *NPEventsReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("networkpolicy-events").
		For(&networkingv1.NetworkPolicy{}, builder.WithPredicates(policyChanged())).
		WatchesRawSource(source.Channel(r.outcomes.subscribe(), enqueueAll(r.client, func() client.ObjectList { return &networkingv1.NetworkPolicyList{} }, "NetworkPolicies"))).
		Complete(r)
}

// Reconcile announces what the last outcome that reached NSX means for one NetworkPolicy.
func (r *NPEventsReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	np := &networkingv1.NetworkPolicy{}
	if err := r.client.Get(ctx, req.NamespacedName, np); err != nil {
		if client.IgnoreNotFound(err) == nil {
			r.events.forget(req.NamespacedName)
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	final, _ := r.outcomes.current()
	if final == nil || !final.compiledFrom(ir.ObjectRef{Kind: ir.KindNetworkPolicy, Namespace: np.Namespace, Name: np.Name}, np.UID, np.Generation) {
		return reconcile.Result{}, nil // a sync of this generation is coming
	}
	r.events.announce(np, final)
	return reconcile.Result{}, nil
}
