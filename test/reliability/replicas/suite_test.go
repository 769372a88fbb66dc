// Package replicas_test runs microseg's operator as several replicas with leader election against
// a real kube-apiserver and the NSX simulator, each replica with NSX credentials of its own, so
// that the simulator's log of every call (with its user) tells which replica wrote what.
package replicas_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/microseg/microseg/internal/manifest"
	"github.com/microseg/microseg/internal/ncpemu"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/operator"
	"github.com/microseg/microseg/internal/simnsx"
	"github.com/microseg/microseg/internal/testenv"
	"github.com/microseg/microseg/nsxclient"
)

const (
	replicaCluster = "replicas"
	systemNS       = "microseg-system"
	// The controller-runtime defaults the operator keeps: a replica that stops renewing loses
	// the Lease after leaseDuration, and candidates retry every retryPeriod.
	leaseDuration = 15 * time.Second
	retryPeriod   = 2 * time.Second
)

var (
	renv       *testenv.Env
	rk8s       client.Client
	rnsx       *simnsx.NSX
	calls      callLog
	opConfig   *rest.Config
	replicaPwd = map[string]string{"replica-a": "Replica-A-Passw0rd", "replica-b": "Replica-B-Passw0rd", "replica-c": "Replica-C-Passw0rd"}
)

func TestReplicas(t *testing.T) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Skip("KUBEBUILDER_ASSETS is not set: run `make test`, or export KUBEBUILDER_ASSETS=$(make -s controlplane)")
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "microseg with two replicas and leader election")
}

// nsxCall is one API call the simulator served.
type nsxCall struct {
	user, method, uri string
	write             bool
	at                time.Time
}

// callLog is the simulator's log of API calls, in the order it served them.
type callLog struct {
	mu    sync.Mutex
	calls []nsxCall
}

func (l *callLog) logf(format string, args ...any) {
	if !strings.HasPrefix(format, "nsxsim: %s %s -> %d (user %q") || len(args) < 4 {
		return
	}
	method, uri, user := args[0].(string), args[1].(string), args[3].(string)
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return
	}
	// A write is any call but a GET to the Manager API, except its POST reads (the section list
	// with rules) and the session login.
	write := method != http.MethodGet && strings.HasPrefix(u.Path, "/api/v1/") && u.Query().Get("action") != "list_with_rules"
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, nsxCall{user: user, method: method, uri: uri, write: write, at: time.Now()})
}

func (l *callLog) snapshot() []nsxCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]nsxCall(nil), l.calls...)
}

// writesBy counts the NSX writes of a user from the given position of the log on.
func (l *callLog) writesBy(user string, from int) int {
	n := 0
	for _, c := range l.snapshot()[from:] {
		if c.write && c.user == user {
			n++
		}
	}
	return n
}

var _ = BeforeSuite(func(ctx context.Context) {
	ctrl.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	SetDefaultEventuallyTimeout(60 * time.Second)
	SetDefaultEventuallyPollingInterval(250 * time.Millisecond)
	EnforceDefaultTimeoutsWhenUsingContexts()

	var err error
	renv, err = testenv.Start(ctx, testenv.Options{})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(renv.Stop()).To(Succeed()) })
	rk8s, err = client.New(renv.Config, client.Options{Scheme: operator.Scheme()})
	Expect(err).NotTo(HaveOccurred())

	users := map[string]string{"admin": "Admin-Passw0rd"}
	for u, p := range replicaPwd {
		users[u] = p
	}
	rnsx, err = simnsx.Start(simnsx.Options{Transport: simnsx.TLS, User: "admin", Password: users["admin"],
		Sim: nsxsim.Options{Seed: 5, Users: users, Logf: calls.logf}})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(rnsx.Close)

	// The replicas run as the operator's service account with the generated roles, the leader
	// election Role included.
	Expect(rk8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: systemNS}})).To(Succeed())
	root, err := testenv.ProjectRoot()
	Expect(err).NotTo(HaveOccurred())
	var paths []string
	for _, f := range []string{"role.yaml", "role_binding.yaml", "leader_election_role.yaml", "leader_election_role_binding.yaml"} {
		paths = append(paths, filepath.Join(root, "config", "rbac", f))
	}
	rbac, err := manifest.ReadPaths(paths...)
	Expect(err).NotTo(HaveOccurred())
	for _, o := range rbac {
		Expect(rk8s.Create(ctx, o)).To(Succeed())
	}
	opConfig, err = renv.AddUser("system:serviceaccount:"+systemNS+":microseg-manager", "system:serviceaccounts")
	Expect(err).NotTo(HaveOccurred())

	emu, err := ncpemu.New(ncpemu.Config{ClusterName: replicaCluster, API: ncpemu.APIManager}, rnsx.Client)
	Expect(err).NotTo(HaveOccurred())
	emuCtx, cancel := context.WithCancel(context.Background())
	emuDone := make(chan error, 1)
	go func() { emuDone <- emu.Run(emuCtx, renv.Config) }()
	DeferCleanup(func() { cancel(); Expect(<-emuDone).To(Succeed()) })
})

// replica is one operator process: its own manager, Kubernetes connection and NSX client. kill
// plays a crash: from then on nothing it sends reaches Kubernetes or NSX (so it cannot release
// the Lease either), and its manager is stopped.
type replica struct {
	name   string
	op     *operator.Operator
	cancel context.CancelFunc
	done   chan error
	dead   atomic.Bool
	// ended: kill or stop has run.
	ended bool

	mu        sync.Mutex
	electedAt time.Time
}

var errKilled = errors.New("the replica was killed: this request never left it")

type killable struct {
	rt   http.RoundTripper
	dead *atomic.Bool
}

func (k killable) RoundTrip(r *http.Request) (*http.Response, error) {
	if k.dead.Load() {
		return nil, errKilled
	}
	return k.rt.RoundTrip(r)
}

func startReplica(name string) *replica {
	r := &replica{name: name, done: make(chan error, 1)}
	cfg := rest.CopyConfig(opConfig)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return killable{rt, &r.dead} }
	mgr, err := operator.NewManager(cfg, operator.ManagerOptions{LeaderElection: true, LeaderElectionNamespace: systemNS,
		SkipControllerNameValidation: true})
	Expect(err).NotTo(HaveOccurred())
	nsxTransport := rnsx.Server.Client().Transport.(*http.Transport).Clone()
	op, err := operator.Setup(mgr, operator.Options{
		ClusterID: replicaCluster,
		NSXAPI:    "manager",
		NSX: nsxclient.Config{Host: rnsx.URL, AuthMode: nsxclient.AuthSession,
			Credentials: nsxclient.StaticCredentials(name, replicaPwd[name]), Transport: killable{nsxTransport, &r.dead},
			RateLimit: -1, MaxRetries: 1, RetryBaseDelay: 50 * time.Millisecond, RetryMaxDelay: 100 * time.Millisecond,
			MaxRetryAfter: 100 * time.Millisecond, Timeout: 10 * time.Second},
		ResyncPeriod:   5 * time.Second,
		SyncDelay:      100 * time.Millisecond,
		RetryBaseDelay: 200 * time.Millisecond,
		RetryMaxDelay:  time.Second,
	})
	Expect(err).NotTo(HaveOccurred())
	r.op = op
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- mgr.Start(ctx) }()
	go func() {
		select {
		case <-mgr.Elected():
			r.mu.Lock()
			r.electedAt = time.Now()
			r.mu.Unlock()
		case <-ctx.Done():
		}
	}()
	return r
}

// elected is when the replica became the leader (zero: not yet).
func (r *replica) elected() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.electedAt
}

// kill crashes the replica: it neither writes nor releases the Lease.
func (r *replica) kill() {
	if r.ended {
		return
	}
	r.ended = true
	r.dead.Store(true)
	r.cancel()
	Eventually(r.done).Should(Receive())
}

// stop shuts the replica down as on a rolling update: it releases the Lease.
func (r *replica) stop() {
	r.ended = true
	r.cancel()
	Eventually(r.done).Should(Receive(Not(HaveOccurred())))
}
