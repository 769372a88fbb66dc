package operator

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"github.com/microseg/microseg/internal/budget"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/nsxclient"
)

// NSX authentication modes, the values of --nsx-auth.
const (
	AuthBasic   = "basic"
	AuthSession = "session"
	AuthCert    = "cert"
)

// Flags are the operator's command-line flags.
type Flags struct {
	NSXURL                string
	NSXAuth               string
	NSXCredentialsDir     string
	NSXCAFile             string
	NSXClientCert         string
	NSXClientKey          string
	NSXInsecureSkipVerify bool
	ClusterID             string
	AnchorSection         string
	ResyncPeriod          time.Duration
	VerifyWindow          time.Duration
	SyncDelay             time.Duration
	DryRun                bool
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
	fs.StringVar(&f.NSXURL, "nsx-url", os.Getenv("NSX_URL"), "NSX Manager base URL, e.g. https://nsx.example.com (required; default $NSX_URL).")
	fs.StringVar(&f.NSXAuth, "nsx-auth", AuthSession, "How to authenticate to NSX: session (log in once, then a session cookie: NSX checks the password once per session, not on every call), basic (HTTP Basic on every call), or cert (a client certificate registered as an NSX principal identity).")
	fs.StringVar(&f.NSXCredentialsDir, "nsx-credentials-dir", "", "Directory holding the files 'username' and 'password' (a mounted Secret) for --nsx-auth session or basic. Re-read while running, so rotating the Secret needs no restart.")
	fs.StringVar(&f.NSXCAFile, "nsx-ca-file", "", "PEM file of the CA(s) that signed the NSX Manager's certificate; only these are trusted. Default: the system roots.")
	fs.StringVar(&f.NSXClientCert, "nsx-client-cert", "", "PEM client certificate for --nsx-auth cert (reloaded when the file changes).")
	fs.StringVar(&f.NSXClientKey, "nsx-client-key", "", "PEM private key of --nsx-client-cert (reloaded when the file changes).")
	fs.BoolVar(&f.NSXInsecureSkipVerify, "nsx-insecure-skip-verify", false, "Do not verify the NSX Manager's certificate. For labs only: anyone on the path can impersonate NSX and read the credentials.")
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

// NSXConfig is the NSX client configuration the NSX flags (--nsx-url, --nsx-auth and the
// credential and TLS flags) describe; kubectl-microseg explain uses it too.
func (f *Flags) NSXConfig(log logr.Logger) (nsxclient.Config, error) {
	cfg := nsxclient.Config{Host: f.NSXURL, InsecureSkipVerify: f.NSXInsecureSkipVerify, Logger: log.WithName("nsx")}
	if f.NSXURL == "" {
		return cfg, errors.New("--nsx-url is required: the NSX Manager base URL, e.g. https://nsx.example.com")
	}
	switch strings.ToLower(f.NSXAuth) {
	case AuthSession:
		cfg.AuthMode = nsxclient.AuthSession
	case AuthBasic:
		cfg.AuthMode = nsxclient.AuthBasic
	case AuthCert:
		cfg.AuthMode = nsxclient.AuthClientCert
	default:
		return cfg, fmt.Errorf("--nsx-auth %q: use session, basic or cert", f.NSXAuth)
	}
	if cfg.AuthMode != nsxclient.AuthClientCert {
		if f.NSXCredentialsDir == "" {
			return cfg, fmt.Errorf("--nsx-auth %s needs --nsx-credentials-dir: a directory with the files %q and %q (a mounted Secret)", f.NSXAuth, UsernameFile, PasswordFile)
		}
		cfg.Credentials = NewFileCredentials(f.NSXCredentialsDir, 0)
	}
	if f.NSXCAFile != "" {
		if f.NSXInsecureSkipVerify {
			return cfg, errors.New("--nsx-ca-file and --nsx-insecure-skip-verify contradict each other: keep --nsx-ca-file")
		}
		bundle, err := NewCABundle(f.NSXCAFile, 0, log.WithName("nsx-ca-file"))
		if err != nil {
			return cfg, err
		}
		cfg.GetCACertPEM = bundle.PEM
	}
	if (f.NSXClientCert == "") != (f.NSXClientKey == "") {
		return cfg, errors.New("--nsx-client-cert and --nsx-client-key go together: set both or neither")
	}
	if f.NSXClientCert != "" {
		cc, err := NewClientCertificate(f.NSXClientCert, f.NSXClientKey, 0, log.WithName("nsx-client-cert"))
		if err != nil {
			return cfg, err
		}
		cfg.GetClientCertificate = cc.GetClientCertificate
	} else if cfg.AuthMode == nsxclient.AuthClientCert {
		return cfg, errors.New("--nsx-auth cert needs --nsx-client-cert and --nsx-client-key")
	}
	if f.NSXInsecureSkipVerify {
		log.Info("WARNING: --nsx-insecure-skip-verify is set: the NSX Manager's certificate is not verified, so anyone on the network path can impersonate NSX and capture the credentials; use --nsx-ca-file instead")
	}
	return cfg, nil
}
