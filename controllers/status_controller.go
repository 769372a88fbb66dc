package controllers

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/ir"
)

// FieldOwner is the field manager of everything the operator writes to the API server (the
// server-side applied status of ClusterSecurityPolicies).
const FieldOwner = "microseg"

// StatusReconciler writes the status of each ClusterSecurityPolicy from the newest sync outcome,
// one policy per key: a policy's status write that conflicts is retried for that policy alone,
// and never touches NSX or the DFW sync. It writes only when the status CSPStatus computes
// differs (semantically) from the one the cache holds, with server-side apply under FieldOwner
// and the resourceVersion it computed from, so that a stale cache costs a retry, never a wrong
// status. Its own writes come back as watch events and find nothing to do; a cache that lagged
// behind a write catches up the same way.
type StatusReconciler struct {
	client   client.Client
	outcomes *Outcomes
	impacts  impacts
}

// NewStatusReconciler returns the status controller over the outcomes the DFW reconciler
// publishes.
func NewStatusReconciler(c client.Client, outcomes *Outcomes) *StatusReconciler {
	return &StatusReconciler{client: c, outcomes: outcomes}
}

// SetupWithManager watches ClusterSecurityPolicies (every change, status included) and the
// outcomes' signal, which enqueues every policy.
func (r *StatusReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("csp-status").
		For(&securityv1alpha1.ClusterSecurityPolicy{}).
		WatchesRawSource(source.Channel(r.outcomes.subscribe(), enqueueAll(r.client, func() client.ObjectList { return &securityv1alpha1.ClusterSecurityPolicyList{} }, "ClusterSecurityPolicies"))).
		Complete(r)
}

// Reconcile brings one policy's status to what the newest outcome says about it.
func (r *StatusReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	csp := &securityv1alpha1.ClusterSecurityPolicy{}
	if err := r.client.Get(ctx, req.NamespacedName, csp); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	o := r.outcomeFor(csp)
	if o == nil {
		return reconcile.Result{}, nil
	}
	want, ok := CSPStatus(csp.Status, csp.Name, csp.Generation, o, metav1.Now())
	if ok {
		want.StagedImpact = r.impacts.of(ctx, csp, o, want.StagedImpact)
	}
	if !ok || equality.Semantic.DeepEqual(csp.Status, want) {
		return reconcile.Result{}, nil
	}
	if err := r.apply(ctx, csp, want); err != nil {
		if apierrors.IsNotFound(err) {
			return reconcile.Result{}, nil
		}
		// A conflict (the cache lagged behind) or an API server error: retried with backoff, for
		// this policy only.
		return reconcile.Result{}, fmt.Errorf("writing the status of ClusterSecurityPolicy %s: %w", csp.Name, err)
	}
	return reconcile.Result{}, nil
}

// outcomeFor picks the outcome a policy's status comes from: the interim one of a sync in
// progress only for a policy whose current generation has no status yet (so that a new or
// changed policy says at once whether it compiled), otherwise the last one that reached NSX.
// Nil when neither was compiled from this generation of the policy: a sync for it is coming.
func (r *StatusReconciler) outcomeFor(csp *securityv1alpha1.ClusterSecurityPolicy) *Outcome {
	final, interim := r.outcomes.current()
	o := final
	if interim != nil && (csp.Status.ObservedGeneration != csp.Generation || len(csp.Status.Conditions) == 0) {
		o = interim
	}
	if o == nil || !o.compiledFrom(ir.ObjectRef{Kind: ir.KindClusterSecurityPolicy, Name: csp.Name}, csp.UID, csp.Generation) {
		return nil
	}
	return o
}

// apply writes the status with server-side apply, at the resourceVersion it was computed from.
func (r *StatusReconciler) apply(ctx context.Context, csp *securityv1alpha1.ClusterSecurityPolicy, st securityv1alpha1.ClusterSecurityPolicyStatus) error {
	status, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&st)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: map[string]any{"status": status}}
	u.SetGroupVersionKind(securityv1alpha1.GroupVersion.WithKind("ClusterSecurityPolicy"))
	u.SetName(csp.Name)
	u.SetResourceVersion(csp.ResourceVersion)
	if err := r.client.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return err
	}
	csp.Status = st
	return nil
}
