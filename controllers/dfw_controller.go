package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/budget"
	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsync"
)

// DFWConfig configures the DFW reconciler.
type DFWConfig struct {
	// ClusterID is NCP's cluster name and microseg's ownership tag in NSX.
	ClusterID string
	// NSX is the backend of the NSX API microseg writes through (configured with the cluster id,
	// the anchor section and the compiler's limits).
	NSX nsxsync.Backend
	// Settings tune the compiler.
	Settings compile.Settings
	// DryRun computes and logs the plan but writes nothing to NSX.
	DryRun bool
	// SyncDelay is how long a change waits before the sync starts, so that bursts collapse.
	SyncDelay time.Duration
	// ResyncPeriod is how often NSX is compared with the policies when nothing changes, which
	// repairs changes made in NSX behind microseg's back.
	ResyncPeriod time.Duration
	// RetryBaseDelay and RetryMaxDelay bound the backoff after a failed sync.
	RetryBaseDelay, RetryMaxDelay time.Duration
	// Budget is microseg's share of NSX (zero fields: no limit); a compiled DFW over it is not
	// applied.
	Budget budget.Budget
}

// DFWReconciler is the one reconciler of the DFW: every relevant change of a ClusterSecurityPolicy,
// NetworkPolicy, Namespace or Pod enqueues the same key, and a sync lists everything from the
// cache, compiles, brings NSX to the result through the sync path (internal/nsxsync) and
// publishes the outcome, from which the status and event controllers report on the policies.
type DFWReconciler struct {
	cfg      DFWConfig
	client   client.Client
	trigger  *trigger
	outcomes *Outcomes
	// synced is set after the first sync that reached NSX (or computed a dry-run plan): the
	// readiness signal.
	synced atomic.Bool
	// syncer runs the sync path and chooses how much of NSX each sync reads.
	syncer *nsxsync.Syncer
	// forgers are the pods with forged NCP identity labels last logged, with the warning logged.
	forgers map[string]string
	// compiler recompiles what the changes since the last compile reach; last holds the
	// resourceVersions of what it compiled (changes.go); fullNext makes the next compile a full
	// one (after a failed sync).
	compiler *compile.Incremental
	last     *versions
	fullNext bool
}

// NewDFWReconciler returns the reconciler; SetupWithManager starts it. c is the manager's cached
// client.
func NewDFWReconciler(c client.Client, cfg DFWConfig) *DFWReconciler {
	return &DFWReconciler{cfg: cfg, client: c, trigger: &trigger{delay: cfg.SyncDelay}, outcomes: NewOutcomes(), compiler: compile.NewIncremental(),
		syncer: nsxsync.NewSyncer(nsxsync.SyncerConfig{Backend: cfg.NSX, DryRun: cfg.DryRun, ResyncPeriod: cfg.ResyncPeriod})}
}

// Outcomes are the outcomes this reconciler publishes, for the status and event controllers.
func (r *DFWReconciler) Outcomes() *Outcomes { return r.outcomes }

// Synced reports whether a sync has reached NSX since the operator started.
func (r *DFWReconciler) Synced() bool { return r.synced.Load() }

// SetupWithManager watches the four kinds through predicates that pass only changes that can
// alter the compiled DFW, all mapped to the one sync key; the key is also queued once at start,
// so an empty cluster is synced too (microseg's leftovers in NSX removed).
func (r *DFWReconciler) SetupWithManager(mgr ctrl.Manager) error {
	h := r.trigger.handler()
	return ctrl.NewControllerManagedBy(mgr).
		Named("dfw").
		Watches(&securityv1alpha1.ClusterSecurityPolicy{}, h, builder.WithPredicates(policyChanged())).
		Watches(&networkingv1.NetworkPolicy{}, h, builder.WithPredicates(policyChanged())).
		Watches(&corev1.Namespace{}, h, builder.WithPredicates(namespaceChanged())).
		Watches(&corev1.Pod{}, h, builder.WithPredicates(podChanged())).
		WatchesRawSource(source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
			q.Add(syncRequest)
			return nil
		})).
		WithOptions(controller.Options{
			MaxConcurrentReconciles: 1,
			RateLimiter:             workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](r.cfg.RetryBaseDelay, r.cfg.RetryMaxDelay),
		}).
		Complete(r)
}

// Reconcile runs one sync of the whole DFW.
func (r *DFWReconciler) Reconcile(ctx context.Context, _ reconcile.Request) (_ reconcile.Result, rerr error) {
	logger := log.FromContext(ctx)
	start := time.Now()
	pending := r.trigger.take()
	wasSynced := r.synced.Load()

	in, err := r.inputs(ctx)
	if err != nil {
		return reconcile.Result{}, r.failed(start, err)
	}
	// The compile is incremental: what changed since the last compile (by resourceVersion) is
	// compiled again, the model is the one compile.Compile gives. It is a full one at the first
	// sync, at a resync (no change pending) and after any failed sync.
	changes := compile.Changes{All: true}
	cur, versioned := versionsOf(in)
	if r.last != nil && versioned && !r.fullNext && pending > 0 {
		changes = changesSince(*r.last, cur)
	}
	r.last, r.fullNext = nil, true
	defer func() { r.fullNext = rerr != nil }()
	model, err := r.compiler.Compile(in, changes)
	if err != nil {
		return reconcile.Result{}, r.failed(start, fmt.Errorf("compiling the policies: %w", err))
	}
	if versioned {
		r.last = &cur
	}
	r.logForgers(logger, model)
	// Tell new and changed policies at once whether they compiled, before NSX (which may be
	// slow or down) is reached.
	sources := sourcesOf(in)
	r.outcomes.publish(&Outcome{Model: model, Sources: sources, DryRun: r.cfg.DryRun})
	if err := r.checkBudget(ctx, model); err != nil {
		// NSX is not contacted: it keeps the last DFW that fit. Retrying cannot help; the next
		// change of the policies (or the resync) compiles again. The changes stay pending.
		r.outcomes.publish(&Outcome{Model: model, Sources: sources, DryRun: r.cfg.DryRun, Err: err, FirstSync: !wasSynced})
		syncDuration.WithLabelValues(resultError).Observe(time.Since(start).Seconds())
		return reconcile.Result{RequeueAfter: r.cfg.ResyncPeriod}, nil
	}

	o, err := r.reachNSX(ctx, model, pending)
	if ctx.Err() != nil {
		return reconcile.Result{}, ctx.Err() // shutting down: leave the status as it is
	}
	o.Sources, o.Input, o.FirstSync = sources, in, !wasSynced
	result := resultSuccess
	switch {
	case err != nil:
		result = resultError
		// controller-runtime logs the returned error and retries with backoff.
		if o.applied.StepsTotal > 0 {
			err = fmt.Errorf("sync failed (%s) after %d of %d NSX changes; retrying with backoff: %w",
				failureReason(err), o.applied.StepsDone, o.applied.StepsTotal, err)
		} else {
			err = fmt.Errorf("sync failed (%s); retrying with backoff: %w", failureReason(err), err)
		}
	case r.cfg.DryRun:
		result = resultDryRun
	case o.applied.StepsTotal > 0 && pending == 0 && wasSynced:
		driftRepairs.Inc()
		logger.Info("Repaired NSX objects changed outside microseg (no Kubernetes change was pending)")
	}
	if err == nil {
		r.trigger.done(pending)
		r.synced.Store(true)
		lastSuccessfulSync.SetToCurrentTime()
	}
	r.outcomes.publish(&o.Outcome)
	syncDuration.WithLabelValues(result).Observe(time.Since(start).Seconds())

	switch {
	case err != nil:
		return reconcile.Result{}, err
	case !o.Converged && !r.cfg.DryRun:
		// Sync again, with backoff: should NSX keep some object differently than microseg
		// writes it, a fixed requeue would rewrite it in a tight loop.
		return reconcile.Result{}, errors.New("NSX does not hold the compiled policies right after the sync: it was changed concurrently, or it keeps an object differently than microseg writes it; syncing again with backoff")
	}
	return reconcile.Result{RequeueAfter: r.syncer.UntilResync()}, nil
}

func (r *DFWReconciler) failed(start time.Time, err error) error {
	syncDuration.WithLabelValues(resultError).Observe(time.Since(start).Seconds())
	return err
}

// inputs lists what the compiler needs from the manager's cache.
func (r *DFWReconciler) inputs(ctx context.Context) (compile.Input, error) {
	in := compile.Input{ClusterID: r.cfg.ClusterID, Settings: r.cfg.Settings}
	csps := &securityv1alpha1.ClusterSecurityPolicyList{}
	nps := &networkingv1.NetworkPolicyList{}
	nss := &corev1.NamespaceList{}
	pods := &corev1.PodList{}
	for _, l := range []client.ObjectList{csps, nps, nss, pods} {
		if err := r.client.List(ctx, l); err != nil {
			return in, fmt.Errorf("listing from the cache: %w", err)
		}
	}
	in.ClusterSecurityPolicies, in.NetworkPolicies, in.Namespaces, in.Pods = csps.Items, nps.Items, nss.Items, pods.Items
	return in, nil
}

// sourcesOf records which version of each policy the model is compiled from.
func sourcesOf(in compile.Input) map[ir.ObjectRef]Source {
	out := make(map[ir.ObjectRef]Source, len(in.ClusterSecurityPolicies)+len(in.NetworkPolicies))
	for i := range in.ClusterSecurityPolicies {
		p := &in.ClusterSecurityPolicies[i]
		out[ir.ObjectRef{Kind: ir.KindClusterSecurityPolicy, Name: p.Name}] = Source{UID: p.UID, Generation: p.Generation}
	}
	for i := range in.NetworkPolicies {
		p := &in.NetworkPolicies[i]
		out[ir.ObjectRef{Kind: ir.KindNetworkPolicy, Namespace: p.Namespace, Name: p.Name}] = Source{UID: p.UID, Generation: p.Generation}
	}
	return out
}

// logForgers logs each pod whose labels forge NCP identity tags (docs/security.md) once, and again
// only when what the compiler says about it changes: the warning stands on every sync while the
// label does.
func (r *DFWReconciler) logForgers(logger logr.Logger, model *ir.Model) {
	current := map[string]string{}
	for _, w := range model.Warnings {
		if w.Object.Kind != ir.KindPod {
			continue
		}
		pod := w.Object.Namespace + "/" + w.Object.Name
		current[pod] = w.Message
		if r.forgers[pod] != w.Message {
			logger.Info("Pod labels forge NCP identity tags", "pod", pod, "warning", w.Message)
		}
	}
	r.forgers = current
}
