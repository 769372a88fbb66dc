// Package operator wires microseg's operator into a controller-runtime manager: the NSX client
// (with metrics), the DFW reconciler, and the health and readiness checks. main.go, the tests and
// the demo all start the operator through it, so they run the same thing:
//
//	mgr, err := operator.NewManager(restConfig, operator.ManagerOptions{...})
//	op, err := operator.Setup(mgr, operator.Options{ClusterID: ..., NSX: nsxclient.Config{...}})
//	err = mgr.Start(ctx)
//
// or operator.Run(ctx, restConfig, managerOptions, options) for all three at once.
package operator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"

	"github.com/microseg/microseg/controllers"
	"github.com/microseg/microseg/internal/budget"
	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/kinds"
	"github.com/microseg/microseg/internal/nsxsync/policy"
	"github.com/microseg/microseg/nsxclient"
)

// Defaults of Options.
const (
	DefaultResyncPeriod   = 5 * time.Minute
	DefaultSyncDelay      = time.Second
	DefaultRetryBaseDelay = time.Second
	DefaultRetryMaxDelay  = 2 * time.Minute
)

// LeaderElectionID names the Lease that elects the one replica that writes to NSX.
const LeaderElectionID = "microseg.security.microseg.io"

// EventReporter is the reportingController of the Events microseg records.
const EventReporter = "microseg"

// Options configure the operator. ClusterID and NSX.Host are required.
type Options struct {
	// ClusterID is NCP's cluster name (the ncp/cluster tag of pod ports) and microseg's ownership
	// tag on everything it creates in NSX.
	ClusterID string
	// NSX configures the NSX Manager client. Its Observer, if any, is called next to the one that
	// feeds microseg_nsx_calls_total; its Logger defaults to the manager's.
	NSX nsxclient.Config
	// AnchorSection is the id or display name of the NSX section microseg's sections go directly
	// below; empty: the top of the DFW.
	AnchorSection string
	// ResyncPeriod is how often NSX is compared with the policies when nothing changed (default
	// 5m); it repairs edits made in NSX behind microseg's back.
	ResyncPeriod time.Duration
	// VerifyWindow bounds the time between two reads of each NSGroup and IP set microseg owns
	// (default 1h): NSX gives no cheap signal that one changed, so they are re-read a few pages
	// at every resync (nsxsync.Verify).
	VerifyWindow time.Duration
	// SyncDelay is how long the first change of a burst waits for the rest before the sync starts
	// (default 1s); negative: no delay.
	SyncDelay time.Duration
	// DryRun computes and logs the plan but writes nothing to NSX; policies report
	// Programmed=False, reason DryRun.
	DryRun bool
	// Settings tune the compiler; the zero value is a real NSX Manager's limits.
	Settings compile.Settings
	// RetryBaseDelay and RetryMaxDelay bound the backoff after a failed sync (default 1s, 2m).
	RetryBaseDelay, RetryMaxDelay time.Duration
	// NSXAPI is the NSX API to speak: auto (default: the one NCP uses for this cluster), policy or
	// manager (--nsx-api).
	NSXAPI string
	// Policy configures the Policy API backend: the domain and the sequence-number bands
	// (zero: the defaults); ClusterID is set from ClusterID.
	Policy policy.Config
	// Budget is microseg's share of NSX (the --nsx-max-* flags); a compiled DFW over it is not
	// applied. Nil means budget.Default().
	Budget *budget.Budget
}

func (o Options) withDefaults() Options {
	if o.ResyncPeriod <= 0 {
		o.ResyncPeriod = DefaultResyncPeriod
	}
	switch {
	case o.SyncDelay == 0:
		o.SyncDelay = DefaultSyncDelay
	case o.SyncDelay < 0:
		o.SyncDelay = 0
	}
	if o.RetryBaseDelay <= 0 {
		o.RetryBaseDelay = DefaultRetryBaseDelay
	}
	if o.RetryMaxDelay < o.RetryBaseDelay {
		o.RetryMaxDelay = max(DefaultRetryMaxDelay, o.RetryBaseDelay)
	}
	if o.Budget == nil {
		b := budget.Default()
		o.Budget = &b
	}
	return o
}

// Operator is a set-up operator.
type Operator struct {
	dfw *controllers.DFWReconciler
}

// Synced reports whether this operator has completed a sync with NSX (or computed a dry-run
// plan). Only the elected leader syncs.
func (op *Operator) Synced() bool { return op.dfw.Synced() }

// Setup adds the operator to mgr: the DFW reconciler (the one sync with NSX), the status
// controller of ClusterSecurityPolicies, the event controller of NetworkPolicies, and the
// /healthz (ping) and /readyz checks.
// It checks the options (the cluster id and compiler settings by compiling nothing, the NSX
// client configuration) but does not contact NSX.
func Setup(mgr ctrl.Manager, opts Options) (*Operator, error) {
	opts = opts.withDefaults()
	if opts.ClusterID == "" {
		return nil, errors.New("operator: the cluster id is required: set it to NCP's cluster name (--cluster-id)")
	}
	if _, err := compile.Compile(compile.Input{ClusterID: opts.ClusterID, Settings: opts.Settings}); err != nil {
		return nil, fmt.Errorf("operator: %w", err)
	}
	nsxCfg := opts.NSX
	if nsxCfg.Logger.GetSink() == nil {
		nsxCfg.Logger = mgr.GetLogger().WithName("nsx")
	}
	user := nsxCfg.Observer
	nsxCfg.Observer = func(ci nsxclient.CallInfo) {
		controllers.ObserveNSXCall(ci)
		if user != nil {
			user(ci)
		}
	}
	nsx, err := nsxclient.New(nsxCfg)
	if err != nil {
		return nil, fmt.Errorf("operator: %w", err)
	}
	backend, err := newBackend(nsx, opts, mgr.GetLogger())
	if err != nil {
		return nil, fmt.Errorf("operator: %w", err)
	}
	dfw := controllers.NewDFWReconciler(mgr.GetClient(), controllers.DFWConfig{
		ClusterID:      opts.ClusterID,
		NSX:            backend,
		Settings:       opts.Settings,
		DryRun:         opts.DryRun,
		SyncDelay:      opts.SyncDelay,
		ResyncPeriod:   opts.ResyncPeriod,
		RetryBaseDelay: opts.RetryBaseDelay,
		RetryMaxDelay:  opts.RetryMaxDelay,
		Budget:         *opts.Budget,
	})
	if err := dfw.SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("operator: setting up the DFW controller: %w", err)
	}
	if err := controllers.NewStatusReconciler(mgr.GetClient(), dfw.Outcomes()).SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("operator: setting up the status controller: %w", err)
	}
	events := controllers.NewNPEventsReconciler(mgr.GetClient(), dfw.Outcomes(), mgr.GetEventRecorder(EventReporter))
	if err := events.SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("operator: setting up the NetworkPolicy events controller: %w", err)
	}
	op := &Operator{dfw: dfw}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("synced", op.readyCheck(mgr.Elected())); err != nil {
		return nil, err
	}
	return op, nil
}

// readyCheck: a standby replica is ready (to take over); the leader once its first sync reached
// NSX. Reporting standbys unready would stall every rolling update of a Deployment with more than
// one replica.
func (op *Operator) readyCheck(elected <-chan struct{}) healthz.Checker {
	return func(*http.Request) error {
		select {
		case <-elected:
		default:
			return nil
		}
		if !op.Synced() {
			return errors.New("the first sync with NSX has not completed yet (see the operator's log and the ClusterSecurityPolicies' Programmed condition)")
		}
		return nil
	}
}

// ManagerOptions configure the manager NewManager builds.
type ManagerOptions struct {
	// MetricsBindAddress serves /metrics; "" or "0" disables it (the zero value starts no
	// listener, for operators started inside tests and the demo). It is served over HTTPS to
	// authenticated and authorized scrapers only, unless InsecureMetrics (see metrics.go).
	MetricsBindAddress string
	// InsecureMetrics serves /metrics over plain HTTP to anyone who reaches it.
	InsecureMetrics bool
	// MetricsCertDir holds the metrics endpoint's certificate and key (MetricsCertName,
	// MetricsKeyName; default tls.crt, tls.key), reloaded when they change; empty: a
	// self-signed certificate.
	MetricsCertDir, MetricsCertName, MetricsKeyName string
	// EnableHTTP2 lets the metrics endpoint speak HTTP/2 (off: see metrics.go).
	EnableHTTP2 bool
	// HealthProbeBindAddress serves /healthz and /readyz; "" or "0" disables them.
	HealthProbeBindAddress string
	// LeaderElection makes exactly one replica run the sync.
	LeaderElection bool
	// LeaderElectionNamespace holds the Lease (default: the pod's namespace).
	LeaderElectionNamespace string
	// SkipControllerNameValidation lets one process run several managers with the operator's
	// controllers (tests and the demo restart the operator in process); never in production,
	// where a duplicate controller name is a bug.
	SkipControllerNameValidation bool
}

// Scheme holds every kind the operator reads or writes.
func Scheme() *runtime.Scheme { return kinds.Scheme() }

// NewManager returns the manager the operator runs in.
func NewManager(restConfig *rest.Config, mo ManagerOptions) (ctrl.Manager, error) {
	metrics, err := metricsServerOptions(mo)
	if err != nil {
		return nil, err
	}
	return ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                  Scheme(),
		Metrics:                 metrics,
		HealthProbeBindAddress:  cmp.Or(mo.HealthProbeBindAddress, "0"),
		LeaderElection:          mo.LeaderElection,
		LeaderElectionID:        LeaderElectionID,
		LeaderElectionNamespace: mo.LeaderElectionNamespace,
		// The process exits right after the manager stops, so the Lease can be handed over at
		// once instead of after its expiry.
		LeaderElectionReleaseOnCancel: true,
		// Every pod and namespace of the cluster is cached: they keep only what the operator
		// reads (transform.go); everything loses its managed fields, which nothing reads.
		Cache:      cache.Options{DefaultTransform: cache.TransformStripManagedFields(), ByObject: cacheTransforms()},
		Controller: config.Controller{SkipNameValidation: ptr.To(mo.SkipControllerNameValidation)},
	})
}

// Run starts the operator in a manager of its own and blocks until ctx ends.
func Run(ctx context.Context, restConfig *rest.Config, mo ManagerOptions, opts Options) error {
	mgr, err := NewManager(restConfig, mo)
	if err != nil {
		return fmt.Errorf("operator: creating the manager: %w", err)
	}
	if _, err := Setup(mgr, opts); err != nil {
		return err
	}
	return mgr.Start(ctx)
}
