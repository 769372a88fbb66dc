// Package operator_test proves the operator end to end against a real kube-apiserver and
// kube-controller-manager (Deployments make the pods), the NSX simulator over TLS, and the NCP
// emulator giving the pods addresses and tagged logical ports in that simulator: the reference
// scenario from config/samples reaches Ready and the simulator's Traceflow shows the reference
// table, and stays right through scaling, policy deletion, edits made in NSX behind the
// operator's back, NSX outages, and operator restarts.
package operator_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/microseg/microseg/internal/manifest"
	"github.com/microseg/microseg/internal/ncpemu"
	"github.com/microseg/microseg/internal/nsxconn"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/operator"
	"github.com/microseg/microseg/internal/simnsx"
	"github.com/microseg/microseg/internal/testenv"
	"github.com/microseg/microseg/nsxclient"
)

const (
	clusterID   = "operator-test"
	nsxUser     = "microseg-operator"
	nsxPassword = "Operator-Test-Passw0rd"
	// resyncPeriod is short so that drift repair and "nothing to do" resyncs happen in the test.
	resyncPeriod = 3 * time.Second
	// verifyWindow bounds the repair of groups edited in NSX (re-read a few pages every resync).
	verifyWindow = 12 * time.Second
)

var (
	env    *testenv.Env
	scheme *runtime.Scheme
	k8s    client.Client
	sim    *nsxsim.Server
	// admin is an NSX client of the test itself: it plays the NSX administrator who edits
	// microseg's objects behind its back, and reads what NSX holds.
	admin   *nsxclient.Client
	emu     *ncpemu.Emulator
	stopEmu context.CancelFunc
	nsxURL  string
	caPEM   []byte
	// credsDir holds the operator's NSX credentials as a mounted Secret would.
	credsDir string
	op       *runningOperator
	// operatorConfig authenticates as the operator's service account.
	operatorConfig *rest.Config
	// operatorLogs is everything the operators of the suite logged.
	operatorLogs simnsx.SyncBuffer
	// syncsAtStart is nsxsync.Syncs() before the first operator started.
	syncsAtStart int64
	// nsxAPI is the API of the operators the suite starts: manager, until the migration story
	// moves the cluster (NCP's emulator and microseg) to the Policy API.
	nsxAPI = "manager"
)

func TestOperator(t *testing.T) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Skip("KUBEBUILDER_ASSETS is not set: run `make test`, or export KUBEBUILDER_ASSETS=$(hack/controlplane.sh), to run the operator against a real kube-apiserver")
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "microseg operator: Kubernetes → NSX simulator, end to end")
}

var _ = BeforeSuite(func(ctx context.Context) {
	// The log also goes to operatorLogs, which secrets_test.go searches for credentials.
	ctrl.SetLogger(zap.New(zap.WriteTo(io.MultiWriter(GinkgoWriter, &operatorLogs)), zap.UseDevMode(true)))
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	// Eventually(ctx, …) would otherwise wait as long as the spec's context lives: forever.
	EnforceDefaultTimeoutsWhenUsingContexts()
	scheme = operator.Scheme()

	var err error
	env, err = testenv.Start(ctx, testenv.Options{ControllerManagerControllers: []string{"deployment", "replicaset", "garbagecollector"}})
	Expect(err).NotTo(HaveOccurred())
	k8s, err = client.New(env.Config, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	nsx, err := simnsx.Start(simnsx.Options{Transport: simnsx.TLS, Sim: nsxsim.Options{Seed: 11}, User: nsxUser, Password: nsxPassword,
		Client: func(c *nsxclient.Config) { c.Timeout = 10 * time.Second }})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(nsx.Close)
	sim, admin, nsxURL, caPEM = nsx.Sim, nsx.Client, nsx.URL, nsx.CAPEM

	// The operator runs as its service account with the ClusterRole generated from the RBAC
	// markers, so the suite proves that role is enough.
	root, err := testenv.ProjectRoot()
	Expect(err).NotTo(HaveOccurred())
	rbac, err := manifest.ReadPaths(filepath.Join(root, "config", "rbac", "role.yaml"), filepath.Join(root, "config", "rbac", "role_binding.yaml"))
	Expect(err).NotTo(HaveOccurred())
	for _, o := range rbac {
		Expect(k8s.Create(ctx, o)).To(Succeed())
	}
	operatorConfig, err = env.AddUser("system:serviceaccount:microseg-system:microseg-manager", "system:serviceaccounts")
	Expect(err).NotTo(HaveOccurred())

	credsDir = GinkgoT().TempDir()
	Expect(os.WriteFile(filepath.Join(credsDir, nsxconn.UsernameFile), []byte(nsxUser+"\n"), 0o600)).To(Succeed())
	Expect(os.WriteFile(filepath.Join(credsDir, nsxconn.PasswordFile), []byte(nsxPassword+"\n"), 0o600)).To(Succeed())

	startEmulator(ncpemu.APIManager)

	syncsAtStart = nsxsync.Syncs()
	op = startOperator()
})

// startEmulator runs NCP's emulator in its own manager, as NCP is its own process, in the given
// NSX API mode.
func startEmulator(api string) {
	var err error
	emu, err = ncpemu.New(ncpemu.Config{ClusterName: clusterID, API: api}, admin)
	Expect(err).NotTo(HaveOccurred())
	emuCtx, cancel := context.WithCancel(context.Background())
	emuDone := make(chan error, 1)
	go func() { emuDone <- emu.Run(emuCtx, env.Config) }()
	stopEmu = func() { cancel(); Expect(<-emuDone).To(Succeed()) }
}

var _ = AfterSuite(func() {
	if op != nil {
		op.stop()
	}
	if stopEmu != nil {
		stopEmu()
	}
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})

// operatorOptions are the options every operator of the suite runs with: the real credential
// files, session auth over TLS with the simulator's CA pinned, and short timings.
func operatorOptions() operator.Options {
	return operator.Options{
		ClusterID: clusterID,
		// The suite starts in Manager mode (NCP's emulator makes logical ports); the migration
		// story moves it to the Policy API (policy_test.go). Specs that need no pod would leave
		// auto undecided, so the API is named.
		NSXAPI: nsxAPI,
		NSX: nsxclient.Config{
			Host:        nsxURL,
			AuthMode:    nsxclient.AuthSession,
			Credentials: nsxconn.NewFileCredentials(credsDir, time.Second),
			CACertPEM:   caPEM,
			RateLimit:   -1,
			// Give up quickly on a 503, so the test sees the operator's own retry at work.
			MaxRetries: 1, RetryBaseDelay: 50 * time.Millisecond, RetryMaxDelay: 100 * time.Millisecond,
			MaxRetryAfter: 100 * time.Millisecond, Timeout: 10 * time.Second,
		},
		ResyncPeriod:   resyncPeriod,
		VerifyWindow:   verifyWindow,
		SyncDelay:      200 * time.Millisecond,
		RetryBaseDelay: 200 * time.Millisecond,
		RetryMaxDelay:  time.Second,
	}
}

// runningOperator is an operator in its own manager, as main.go runs it.
type runningOperator struct {
	*operator.Operator
	cancel context.CancelFunc
	done   chan error
}

func startOperator(change ...func(*operator.Options)) *runningOperator {
	cfg := rest.CopyConfig(operatorConfig)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return statusWriteCounter{rt} }
	// The suite restarts the operator in this process: its controllers' names come back.
	mgr, err := operator.NewManager(cfg, operator.ManagerOptions{SkipControllerNameValidation: true})
	Expect(err).NotTo(HaveOccurred())
	opts := operatorOptions()
	for _, c := range change {
		c(&opts)
	}
	o, err := operator.Setup(mgr, opts)
	Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningOperator{Operator: o, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- mgr.Start(ctx) }()
	return r
}

// statusWrites counts the operator's writes of ClusterSecurityPolicy status, including those the
// API server finds to change nothing.
var statusWrites atomic.Int64

type statusWriteCounter struct{ next http.RoundTripper }

func (c statusWriteCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet && strings.Contains(req.URL.Path, "/clustersecuritypolicies/") && strings.HasSuffix(req.URL.Path, "/status") {
		statusWrites.Add(1)
	}
	return c.next.RoundTrip(req)
}

func (r *runningOperator) stop() {
	r.cancel()
	Eventually(r.done, 30*time.Second).Should(Receive(BeNil()))
}
