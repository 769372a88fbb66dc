package controllers

import (
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/nsxclient"
)

// Sync results, the values of the result label of microseg_sync_duration_seconds.
const (
	resultSuccess = "success"
	resultError   = "error"
	resultDryRun  = "dry_run"
)

// The operator's metrics, served with controller-runtime's own on the manager's metrics endpoint.
// They are process-wide (one registry), so an operator restarted inside one process (tests, the
// demo) keeps counting where the previous one stopped.
var (
	syncDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "microseg_sync_duration_seconds",
		Help:    "Duration of one sync of the whole DFW (list, compile, read NSX, plan, apply, status), by result: success, error or dry_run.",
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300},
	}, []string{"result"})
	nsxCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "microseg_nsx_calls_total",
		Help: "HTTP attempts to NSX Manager (retries and logins included), by endpoint template, method and HTTP status code (\"error\" when no response arrived).",
	}, []string{"endpoint", "method", "code"})
	ownedObjects = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "microseg_owned_objects",
		Help: "Objects in NSX that carry this cluster's microseg ownership tag, as of the last successful NSX read, by kind: section, rule, nsgroup, ipset (Manager API); securitypolicy, rule, group (Policy API).",
	}, []string{"kind"})
	driftRepairs = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "microseg_drift_repairs_total",
		Help: "Syncs that wrote to NSX although no Kubernetes change was pending: periodic resyncs that repaired objects someone changed or deleted in NSX.",
	})
	lastSuccessfulSync = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "microseg_last_successful_sync_timestamp_seconds",
		Help: "Unix time at which the last sync finished successfully (NSX matches the policies, or in dry-run the plan was computed).",
	})
	pendingChanges = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "microseg_pending_changes",
		Help: "Relevant Kubernetes events (policy, namespace or pod changes) received since the start of the last successful sync; 0 means NSX reflects everything the operator has seen.",
	})
)

func init() {
	metrics.Registry.MustRegister(syncDuration, nsxCalls, ownedObjects, driftRepairs, lastSuccessfulSync, pendingChanges)
}

// ObserveNSXCall counts one HTTP attempt to NSX; it is the nsxclient.Config.Observer of the
// operator's client.
func ObserveNSXCall(ci nsxclient.CallInfo) {
	code := "error"
	if ci.StatusCode != 0 {
		code = strconv.Itoa(ci.StatusCode)
	}
	// The endpoint template starts with the method, which has its own label.
	endpoint := strings.TrimPrefix(ci.Endpoint, ci.Method+" ")
	nsxCalls.WithLabelValues(endpoint, ci.Method, code).Inc()
}

// recordOwned sets microseg_owned_objects from the owned-object index of a state read from NSX:
// the Manager API's kinds always, and whatever kinds the backend counts (the Policy API's).
func recordOwned(x *ownership.Index) {
	counts := x.Counts()
	for _, kind := range []string{ownership.KindSection, ownership.KindRule, ownership.KindNSGroup, ownership.KindIPSet} {
		ownedObjects.WithLabelValues(kind).Set(float64(counts[kind]))
	}
	for kind, n := range counts {
		ownedObjects.WithLabelValues(kind).Set(float64(n))
	}
}
