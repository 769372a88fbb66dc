package operator

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/microseg/microseg/internal/nsxsync/policy"
	"github.com/microseg/microseg/nsxclient"
)

func parseFlags(t *testing.T, args ...string) (Options, ManagerOptions, error) {
	t.Helper()
	t.Setenv("NSX_URL", "")
	t.Setenv("CLUSTER_ID", "")
	fs := flag.NewFlagSet("microseg", flag.ContinueOnError)
	f := BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return f.Options(logr.Discard())
}

func TestFlagsDefaults(t *testing.T) {
	opts, mo, err := parseFlags(t, "--nsx-url=https://nsx.example.com", "--cluster-id=prod", "--nsx-credentials-dir=/creds")
	if err != nil {
		t.Fatal(err)
	}
	if opts.NSX.AuthMode != nsxclient.AuthSession || opts.NSX.Credentials == nil {
		t.Errorf("auth %q with credentials %v, want Session from files", opts.NSX.AuthMode, opts.NSX.Credentials)
	}
	if opts.ClusterID != "prod" || opts.ResyncPeriod != DefaultResyncPeriod || opts.SyncDelay != DefaultSyncDelay || opts.DryRun {
		t.Errorf("options %+v", opts)
	}
	if mo.MetricsBindAddress != ":8443" || mo.InsecureMetrics || mo.MetricsCertDir != "" || mo.EnableHTTP2 ||
		mo.HealthProbeBindAddress != ":8081" || mo.LeaderElection {
		t.Errorf("manager options %+v", mo)
	}
	if opts.NSX.InsecureSkipVerify || opts.NSX.CACertPEM != nil {
		t.Error("TLS verification is not the default")
	}
}

func TestFlagsZeroSyncDelayMeansNone(t *testing.T) {
	opts, _, err := parseFlags(t, "--nsx-url=https://nsx", "--cluster-id=c", "--nsx-credentials-dir=/c", "--sync-delay=0")
	if err != nil {
		t.Fatal(err)
	}
	if got := opts.withDefaults().SyncDelay; got != 0 {
		t.Errorf("--sync-delay=0 gives a delay of %s", got)
	}
	if got := (Options{}).withDefaults().SyncDelay; got != time.Second {
		t.Errorf("the zero Options give a delay of %s, want 1s", got)
	}
}

func TestFlagsFromEnvironment(t *testing.T) {
	fs := flag.NewFlagSet("microseg", flag.ContinueOnError)
	t.Setenv("NSX_URL", "https://nsx.example.com")
	t.Setenv("CLUSTER_ID", "from-env")
	f := BindFlags(fs)
	if err := fs.Parse([]string{"--nsx-credentials-dir=/c"}); err != nil {
		t.Fatal(err)
	}
	opts, _, err := f.Options(logr.Discard())
	if err != nil || opts.ClusterID != "from-env" || opts.NSX.Host != "https://nsx.example.com" {
		t.Errorf("got %q, %q, %v", opts.ClusterID, opts.NSX.Host, err)
	}
}

func TestFlagsErrorsSayWhatToDo(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"--nsx-url=https://nsx", "--cluster-id=c"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--cluster-id=c", "--nsx-credentials-dir=/c"}, "--nsx-url is required"},
		{[]string{"--nsx-url=https://nsx", "--nsx-credentials-dir=/c"}, "--cluster-id is required"},
		{base, "needs --nsx-credentials-dir"},
		{append(base, "--nsx-auth=kerberos"), "use session, basic or cert"},
		{append(base, "--nsx-auth=cert"), "needs --nsx-client-cert and --nsx-client-key"},
		{append(base, "--nsx-auth=cert", "--nsx-client-cert=/x.crt"), "go together"},
		{append(base, "--nsx-auth=cert", "--nsx-client-cert=/x.crt", "--nsx-client-key=/x.key"), "/x.crt"},
		{append(base, "--nsx-credentials-dir=/c", "--nsx-ca-file="+ca, "--nsx-insecure-skip-verify"), "contradict"},
		{append(base, "--nsx-credentials-dir=/c", "--nsx-ca-file="+filepath.Join(dir, "missing.pem")), "--nsx-ca-file"},
		{append(base, "--nsx-credentials-dir=/c", "--nsx-ca-file="+ca), "holds no PEM-encoded certificate"},
	} {
		_, _, err := parseFlags(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one saying %q", tc.args, err, tc.want)
		}
	}
}

func TestFlagsNSXAPI(t *testing.T) {
	base := []string{"--nsx-url=https://nsx", "--cluster-id=c", "--nsx-credentials-dir=/c"}
	opts, _, err := parseFlags(t, base...)
	if err != nil {
		t.Fatal(err)
	}
	if opts.NSXAPI != "auto" || opts.Policy.Domain != "default" || opts.Policy.Bands != policy.DefaultBands() {
		t.Errorf("defaults: --nsx-api %q, domain %q, bands %+v", opts.NSXAPI, opts.Policy.Domain, opts.Policy.Bands)
	}
	opts, _, err = parseFlags(t, append(base, "--nsx-api=policy", "--nsx-policy-security-band=5000-5999",
		"--nsx-policy-developer-band=600000-699999", "--nsx-policy-baseline-band=700000-700999")...)
	if err != nil {
		t.Fatal(err)
	}
	if want := (policy.Bands{Security: policy.Band{Lo: 5000, Hi: 5999}, Developer: policy.Band{Lo: 600000, Hi: 699999},
		Baseline: policy.Band{Lo: 700000, Hi: 700999}}); opts.NSXAPI != "policy" || opts.Policy.Bands != want {
		t.Errorf("--nsx-api %q, bands %+v", opts.NSXAPI, opts.Policy.Bands)
	}
	for flagValue, want := range map[string]string{
		"--nsx-api=vpc":                             "--nsx-api \"vpc\"",
		"--nsx-policy-security-band=10":             "--nsx-policy-security-band",
		"--nsx-policy-developer-band=500000-599999": "must end before the baseline band",
		"--nsx-policy-baseline-band=1-2000000":      "leaves NSX's sequence numbers",
		"--nsx-policy-security-band=50-999":         "must start at 100 or above",
	} {
		if _, _, err := parseFlags(t, append(base, flagValue)...); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want an error saying %q", flagValue, err, want)
		}
	}
}
