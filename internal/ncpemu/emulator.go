package ncpemu

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/microseg/microseg/nsxclient"
)

// Finalizer holds a pod until its logical port is deleted from NSX.
const Finalizer = "ncp.microseg.io/logical-port"

// controllerName names the controller in logs and metrics.
const controllerName = "ncpemu"

// Backoff of failed reconciles (NSX down, conflicts): short enough for tests and the demo to
// recover quickly, capped well below controller-runtime's default of 1000 s.
const (
	retryBaseDelay = 100 * time.Millisecond
	retryMaxDelay  = 30 * time.Second
)

// Emulator is the NCP emulator. Create it with New and run it with SetupWithManager or Run; one
// Emulator serves one manager.
type Emulator struct {
	cfg   Config
	api   portAPI
	ipam  *ipam
	ports *portBook

	initMu      sync.Mutex    // guards the fields below while they are set
	client      client.Client // the manager's cached client
	reader      client.Reader // reads straight from the API server, for Pending
	initialized bool
}

// New returns an Emulator that writes ports to NSX through nsx.
func New(cfg Config, nsx *nsxclient.Client) (*Emulator, error) {
	if nsx == nil {
		return nil, errors.New("ncpemu: an NSX client is required")
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ncpemu: %w", err)
	}
	e := &Emulator{cfg: cfg, ports: newPortBook(), api: managerPorts{nsx: nsx}}
	if cfg.API == APIPolicy {
		e.api = policyPorts{nsx: nsx.Policy(), segment: cfg.LogicalSwitchID, cluster: cfg.ClusterName}
	}
	e.ipam = newIPAM(e.pools()...)
	return e, nil
}

// Config returns the configuration in force, defaults applied.
func (e *Emulator) Config() Config { return e.cfg }

// SetupWithManager registers the emulator's controller with mgr. Requests for pods carry the pod's
// namespace and name; the one request without a namespace is the virtual node (nodes are cluster
// scoped, pods never are), queued once at start so that the node exists and the start-up work
// runs even when there is no pod at all.
func (e *Emulator) SetupWithManager(mgr ctrl.Manager) error {
	e.initMu.Lock()
	e.client, e.reader = mgr.GetClient(), mgr.GetAPIReader()
	e.initMu.Unlock()
	nodeRequest := reconcile.Request{NamespacedName: types.NamespacedName{Name: e.cfg.NodeName}}
	return ctrl.NewControllerManagedBy(mgr).
		Named(controllerName).
		For(&corev1.Pod{}).
		Watches(&corev1.Node{}, &handler.EnqueueRequestForObject{},
			builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetName() == e.cfg.NodeName }))).
		WatchesRawSource(source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
			q.Add(nodeRequest)
			return nil
		})).
		WithOptions(controller.Options{
			MaxConcurrentReconciles: e.cfg.MaxConcurrentReconciles,
			RateLimiter:             workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](retryBaseDelay, retryMaxDelay),
			// Tests restart the emulator in one process; controller names need not be unique.
			SkipNameValidation: ptr.To(true),
		}).
		Complete(e)
}

// Reconcile handles the virtual node or one pod. Errors are retried with backoff by the workqueue.
func (e *Emulator) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	if req.Namespace == "" {
		// The node does not depend on NSX; the start-up work does, and is retried from here even
		// when no pod triggers it.
		if err := e.ensureNode(ctx); err != nil {
			return reconcile.Result{}, err
		}
		return reconcile.Result{}, e.initialize(ctx)
	}
	return reconcile.Result{}, e.reconcilePod(ctx, req.NamespacedName)
}

// initialize runs once, before any pod gets an address or a port: it rebuilds the address table from the pods'
// status, so addresses survive restarts, then loads the ports of this cluster from NSX, deleting
// those whose pod is gone. The manager's cache is synced before the first reconcile, so the pod
// list is complete. On failure it is retried by the next reconcile.
func (e *Emulator) initialize(ctx context.Context) error {
	e.initMu.Lock()
	defer e.initMu.Unlock()
	if e.initialized {
		return nil
	}
	pods := &corev1.PodList{}
	if err := e.client.List(ctx, pods); err != nil {
		return fmt.Errorf("listing pods: %w", err)
	}
	live := map[types.UID]bool{}
	addressed := map[types.UID]bool{}
	for i := range pods.Items {
		pod := &pods.Items[i]
		live[pod.UID] = true
		addressed[pod.UID] = len(pod.Status.PodIPs) > 0
		if pod.Spec.NodeName == e.cfg.NodeName && !pod.Spec.HostNetwork {
			if err := e.ipam.reserve(client.ObjectKeyFromObject(pod), pod.UID, statusAddrs(pod)); err != nil {
				log.FromContext(ctx).Error(err, "Pods share an address; keeping the first")
			}
		}
	}
	if err := e.api.prepare(ctx); err != nil {
		return err
	}
	if err := e.loadPorts(ctx, live); err != nil {
		return err
	}
	// A pod whose port was created but whose status write was lost keeps the port's addresses.
	for uid, p := range e.ports.all() {
		if addressed[uid] {
			continue
		}
		ns, name := portOwner(p)
		_ = e.ipam.reserve(types.NamespacedName{Namespace: ns, Name: name}, uid, addrsOfPort(p))
	}
	e.initialized = true
	log.FromContext(ctx).Info("NCP emulator started", "node", e.cfg.NodeName, "cluster", e.cfg.ClusterName, "api", e.cfg.API,
		"pods", len(pods.Items), "ports", len(e.ports.all()), "pools", e.pools())
	return nil
}

// statusAddrs parses the pod's reported addresses.
func statusAddrs(pod *corev1.Pod) []netip.Addr {
	var out []netip.Addr
	for _, ip := range pod.Status.PodIPs {
		if a, err := netip.ParseAddr(ip.IP); err == nil {
			out = append(out, a)
		}
	}
	return out
}
