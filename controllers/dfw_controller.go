package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/nsxclient"
)

// DFWConfig configures the DFW reconciler.
type DFWConfig struct {
	// ClusterID is NCP's cluster name and microseg's ownership tag in NSX.
	ClusterID string
	// NSX is the client of the NSX Manager.
	NSX *nsxclient.Client
	// AnchorSection is the id or display name of the section microseg's block sits below; empty:
	// the top of the DFW.
	AnchorSection string
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
	// Recorder records Events on NetworkPolicies.
	Recorder events.EventRecorder
}

// DFWReconciler is the one reconciler of the DFW: every relevant change of a ClusterSecurityPolicy,
// NetworkPolicy, Namespace or Pod enqueues the same key, and a sync lists everything from the
// cache, compiles, brings NSX to the result and reports on the policies.
type DFWReconciler struct {
	cfg     DFWConfig
	client  client.Client
	nsx     *nsxSyncer
	trigger *trigger
	events  *npEvents
	status  *statusWriter
	// synced is set after the first sync that reached NSX (or computed a dry-run plan): the
	// readiness signal.
	synced atomic.Bool
	// last is the last sync that got through to NSX, reused while the compiled DFW is unchanged.
	last *lastSync
}

// NewDFWReconciler returns the reconciler; SetupWithManager starts it. c is the manager's cached
// client, apiReader reads straight from the API server.
func NewDFWReconciler(c client.Client, apiReader client.Reader, cfg DFWConfig) *DFWReconciler {
	return &DFWReconciler{
		cfg:     cfg,
		client:  c,
		status:  &statusWriter{client: c, reader: apiReader, written: map[types.UID]string{}},
		nsx:     &nsxSyncer{client: cfg.NSX, clusterID: cfg.ClusterID, anchor: cfg.AnchorSection, limits: cfg.Settings.Limits, dryRun: cfg.DryRun},
		trigger: &trigger{delay: cfg.SyncDelay},
		events:  newNPEvents(cfg.Recorder),
	}
}

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
			// Tests and the demo start the operator more than once in one process.
			SkipNameValidation: ptr.To(true),
		}).
		Complete(r)
}

// Reconcile runs one sync of the whole DFW.
func (r *DFWReconciler) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	logger := log.FromContext(ctx)
	start := time.Now()
	pending := r.trigger.take()
	wasSynced := r.synced.Load()

	in, err := r.inputs(ctx)
	if err != nil {
		return reconcile.Result{}, r.failed(start, err)
	}
	model, err := compile.Compile(in)
	if err != nil {
		return reconcile.Result{}, r.failed(start, fmt.Errorf("compiling the policies: %w", err))
	}
	for _, w := range model.Warnings { // pods whose labels forge NCP identity tags (docs/security.md)
		if w.Object.Kind == ir.KindPod {
			logger.Info("pod labels forge NCP identity tags", "pod", w.Object.Namespace+"/"+w.Object.Name, "warning", w.Message)
		}
	}
	// Tell new and changed policies at once whether they compiled, before NSX (which may be
	// slow or down) is reached.
	statusErr := r.status.write(ctx, in.ClusterSecurityPolicies, &Outcome{Model: model, DryRun: r.cfg.DryRun}, true)

	o, applied, err := r.reachNSX(ctx, model, pending)
	if ctx.Err() != nil {
		return reconcile.Result{}, ctx.Err() // shutting down: leave the status as it is
	}
	result := resultSuccess
	switch {
	case err != nil:
		result = resultError
		// controller-runtime logs the returned error and retries with backoff.
		if applied.StepsTotal > 0 {
			err = fmt.Errorf("sync failed (%s) after %d of %d NSX changes; retrying with backoff: %w",
				failureReason(err), applied.StepsDone, applied.StepsTotal, err)
		} else {
			err = fmt.Errorf("sync failed (%s); retrying with backoff: %w", failureReason(err), err)
		}
	case r.cfg.DryRun:
		result = resultDryRun
	case applied.StepsTotal > 0 && pending == 0 && wasSynced:
		driftRepairs.Inc()
		logger.Info("repaired NSX objects changed outside microseg (no Kubernetes change was pending)")
	}
	if err == nil {
		r.trigger.done(pending)
		r.synced.Store(true)
		lastSuccessfulSync.SetToCurrentTime()
	}
	statusErr = errors.Join(statusErr, r.status.write(ctx, in.ClusterSecurityPolicies, o, false))
	r.events.announce(in.NetworkPolicies, o, !wasSynced)
	syncDuration.WithLabelValues(result).Observe(time.Since(start).Seconds())

	switch {
	case err != nil:
		return reconcile.Result{}, err
	case statusErr != nil:
		return reconcile.Result{}, fmt.Errorf("writing ClusterSecurityPolicy status: %w", statusErr)
	case !o.Converged && !r.cfg.DryRun:
		// Sync again, with backoff: should NSX keep some object differently than microseg
		// writes it, a fixed requeue would rewrite it in a tight loop.
		return reconcile.Result{}, errors.New("NSX does not hold the compiled policies right after the sync: it was changed concurrently, or it keeps an object differently than microseg writes it; syncing again with backoff")
	}
	return reconcile.Result{RequeueAfter: r.untilResync()}, nil
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
