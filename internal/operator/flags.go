package operator

import (
	"errors"
	"flag"
	"os"
	"time"

	"github.com/go-logr/logr"

	"github.com/microseg/microseg/internal/budget"
	"github.com/microseg/microseg/internal/nsxconn"
	"github.com/microseg/microseg/internal/nsxsync"
)

// Flags are the operator's command-line flags.
type Flags struct {
	// Flags are the flags that say how to reach NSX (--nsx-url, --nsx-auth, credentials, TLS).
	nsxconn.Flags
	ClusterID     string
	AnchorSection string
	ResyncPeriod  time.Duration
	VerifyWindow  time.Duration
	SyncDelay     time.Duration
	DryRun        bool
	APIFlags
	Budget budget.Budget

	LeaderElect             bool
	LeaderElectionNamespace string
	MetricsBindAddress      string
	MetricsSecure           bool
	MetricsCertPath         string
	MetricsCertName         string
	MetricsCertKey          string
	EnableHTTP2             bool
	HealthProbeBindAddress  string
}

// BindFlags registers the flags on fs. --nsx-url and --cluster-id default to the environment
// variables NSX_URL and CLUSTER_ID.
func BindFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{}
	f.Bind(fs)
	fs.StringVar(&f.ClusterID, "cluster-id", os.Getenv("CLUSTER_ID"), "The cluster's name as NCP knows it (the ncp/cluster tag on pod ports); also tags everything microseg creates in NSX (required; default $CLUSTER_ID).")
	fs.StringVar(&f.AnchorSection, "anchor-section", "", "Id or display name of the NSX firewall section that microseg's sections go directly below. Default: the top of the DFW.")
	fs.DurationVar(&f.ResyncPeriod, "resync-period", DefaultResyncPeriod, "How often NSX is compared with the policies when nothing changed; repairs edits made in NSX behind microseg's back.")
	fs.DurationVar(&f.VerifyWindow, "nsx-verify-window", nsxsync.DefaultVerifyWindow, "Every NSGroup and IP set microseg owns is re-read from NSX within this window, a few pages at each resync, so that edits made to them in NSX are repaired within it (edits to microseg's sections and rules are found at the next resync).")
	fs.DurationVar(&f.SyncDelay, "sync-delay", DefaultSyncDelay, "How long a change waits for more changes before the sync starts, so a burst (kubectl apply of many objects) makes one sync. 0: none.")
	fs.BoolVar(&f.DryRun, "dry-run", false, "Compute and log the NSX changes but write nothing to NSX; policies report Programmed=False, reason DryRun.")
	f.bind(fs)
	budget.Bind(fs, &f.Budget)
	fs.BoolVar(&f.LeaderElect, "leader-elect", false, "Elect a leader so that only one replica writes to NSX and to policy status.")
	fs.StringVar(&f.LeaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader-election Lease (default: the pod's namespace).")
	fs.StringVar(&f.MetricsBindAddress, "metrics-bind-address", ":8443", "Address the Prometheus metrics endpoint binds to; 0 disables it.")
	fs.BoolVar(&f.MetricsSecure, "metrics-secure", true, "Serve metrics over HTTPS, only to clients whose bearer token the API server authenticates and authorizes for GET /metrics (bind them to the microseg-metrics-reader ClusterRole). --metrics-secure=false serves plain HTTP to anyone.")
	fs.StringVar(&f.MetricsCertPath, "metrics-cert-path", "", "Directory holding the metrics endpoint's certificate and key (for example a cert-manager Secret), reloaded when they change. Default: a self-signed certificate.")
	fs.StringVar(&f.MetricsCertName, "metrics-cert-name", DefaultMetricsCertName, "File name of the metrics certificate in --metrics-cert-path.")
	fs.StringVar(&f.MetricsCertKey, "metrics-cert-key", DefaultMetricsKeyName, "File name of the metrics certificate's key in --metrics-cert-path.")
	fs.BoolVar(&f.EnableHTTP2, "enable-http2", false, "Let the metrics endpoint speak HTTP/2. Off because of HTTP/2's stream cancellation and rapid reset attacks.")
	fs.StringVar(&f.HealthProbeBindAddress, "health-probe-bind-address", ":8081", "Address the /healthz and /readyz probes bind to; 0 disables them.")
	return f
}

// Options turns the flags into the operator's and the manager's options. It reads the CA and
// client certificate files, so that a wrong path fails at start; the credentials are read when
// NSX asks for them.
func (f *Flags) Options(log logr.Logger) (Options, ManagerOptions, error) {
	mo := ManagerOptions{
		MetricsBindAddress:      f.MetricsBindAddress,
		InsecureMetrics:         !f.MetricsSecure,
		MetricsCertDir:          f.MetricsCertPath,
		MetricsCertName:         f.MetricsCertName,
		MetricsKeyName:          f.MetricsCertKey,
		EnableHTTP2:             f.EnableHTTP2,
		HealthProbeBindAddress:  f.HealthProbeBindAddress,
		LeaderElection:          f.LeaderElect,
		LeaderElectionNamespace: f.LeaderElectionNamespace,
	}
	nsx, err := f.NSXConfig(log)
	if err != nil {
		return Options{}, mo, err
	}
	if f.ClusterID == "" {
		return Options{}, mo, errors.New("--cluster-id is required: set it to the cluster's name as NCP knows it (the value of the ncp/cluster tag on pod ports)")
	}
	delay := f.SyncDelay
	if delay == 0 {
		delay = -1 // Options reads 0 as "the default"
	}
	if err := f.Budget.Validate(); err != nil {
		return Options{}, mo, err
	}
	opts := Options{
		ClusterID:     f.ClusterID,
		NSX:           nsx,
		AnchorSection: f.AnchorSection,
		ResyncPeriod:  f.ResyncPeriod,
		VerifyWindow:  f.VerifyWindow,
		SyncDelay:     delay,
		DryRun:        f.DryRun,
		Budget:        &f.Budget,
	}
	return opts, mo, f.options(&opts)
}
