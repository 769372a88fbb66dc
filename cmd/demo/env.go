package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/ncpemu"
	"github.com/microseg/microseg/internal/nsxconn"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/operator"
	"github.com/microseg/microseg/internal/simnsx"
	"github.com/microseg/microseg/internal/testenv"
	"github.com/microseg/microseg/nsxclient"
)

// clusterID is the demo cluster's name: NCP's ncp/cluster tag and microseg's ownership tag.
const clusterID = "demo"

// demoControllers are the kube-controller-manager controllers the demo runs: Deployments make
// ReplicaSets make Pods; clusterrole-aggregation fills the built-in admin, edit and view roles
// (microseg-policy-viewer included), without which a tenant bound to admin can do nothing;
// namespace deletes what is in a deleted namespace; serviceaccount gives every namespace its
// default service account, so tenants can create pods of their own.
var demoControllers = []string{"deployment", "replicaset", "garbagecollector", "clusterrole-aggregation", "namespace", "serviceaccount"}

// demo is everything the demo started.
type demo struct {
	env    *testenv.Env
	sim    *nsxsim.Server
	srv    *simnsx.NSX
	nsx    *nsxclient.Client
	k8s    client.Client
	emu    *ncpemu.Emulator
	op     *operator.Operator
	api    string // the NSX API NCP runs in (the operator follows with --nsx-api auto)
	dir    string // CA and credentials files
	cancel context.CancelFunc
	done   chan error
}

func start(ctx context.Context, api string) (*demo, error) {
	// The operator and the emulator log through controller-runtime; keep the terminal for the
	// demo's own output and send their logs to a file.
	d := &demo{done: make(chan error, 1), api: api}
	var err error
	if d.dir, err = os.MkdirTemp("", "microseg-demo-"); err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(d.dir, "operator.log"))
	if err != nil {
		return nil, err
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(logFile)))

	fmt.Println("demo: starting etcd, kube-apiserver and kube-controller-manager …")
	d.env, err = testenv.Start(ctx, testenv.Options{ControllerManagerControllers: demoControllers})
	if err != nil {
		return nil, err
	}
	if d.k8s, err = client.New(d.env.Config, client.Options{Scheme: operator.Scheme()}); err != nil {
		d.stop()
		return nil, err
	}
	if err := d.startNSX(); err != nil {
		d.stop()
		return nil, err
	}
	if err := d.startOperator(ctx); err != nil {
		d.stop()
		return nil, err
	}
	return d, nil
}

// startNSX serves the simulator over TLS on loopback, with a random password kept in files the
// way a Kubernetes Secret is mounted for the real operator.
func (d *demo) startNSX() error {
	user, password := "microseg", randomPassword()
	credsDir := filepath.Join(d.dir, "nsx-credentials")
	if err := os.MkdirAll(credsDir, 0o700); err != nil {
		return err
	}
	for name, value := range map[string]string{"username": user, "password": password} {
		if err := os.WriteFile(filepath.Join(credsDir, name), []byte(value), 0o600); err != nil {
			return err
		}
	}
	var err error
	d.srv, err = simnsx.Start(simnsx.Options{Transport: simnsx.TLS, User: user, Password: password,
		Client: func(c *nsxclient.Config) { *c = d.nsxConfig(*c, credsDir) }})
	if err != nil {
		return err
	}
	d.sim, d.nsx = d.srv.Sim, d.srv.Client
	if err := os.WriteFile(filepath.Join(d.dir, "nsx-ca.pem"), d.srv.CAPEM, 0o600); err != nil {
		return err
	}
	fmt.Printf("demo: NSX Manager simulator at %s (CA %s)\n", d.srv.URL, filepath.Join(d.dir, "nsx-ca.pem"))
	return nil
}

// nsxConfig is how the operator reaches the simulator, as it would a real NSX Manager: the CA
// pinned, session authentication, the credentials read from the mounted files.
func (d *demo) nsxConfig(base nsxclient.Config, credsDir string) nsxclient.Config {
	return nsxclient.Config{
		Host:        base.Host,
		CACertPEM:   base.CACertPEM,
		AuthMode:    nsxclient.AuthSession,
		Credentials: nsxconn.NewFileCredentials(credsDir, 10*time.Second),
	}
}

// startOperator runs the operator in its controller-runtime manager, as it would run in a cluster
// (minus leader election and listeners), and the NCP emulator in a manager of its own, as NCP is
// its own process (the operator's cache keeps only the pod fields the operator reads).
func (d *demo) startOperator(ctx context.Context) error {
	mgr, err := operator.NewManager(d.env.Config, operator.ManagerOptions{})
	if err != nil {
		return err
	}
	if d.emu, err = ncpemu.New(ncpemu.Config{ClusterName: clusterID, API: d.api}, d.nsx); err != nil {
		return err
	}
	d.op, err = operator.Setup(mgr, operator.Options{
		ClusterID:    clusterID,
		NSX:          d.nsxConfig(d.srv.ClientConfig(), filepath.Join(d.dir, "nsx-credentials")),
		ResyncPeriod: 30 * time.Second,
		// auto, as in production: until NCP wired the first pod, the operator cannot tell the
		// API and retries, so the backoff stays short here.
		NSXAPI:        "auto",
		RetryMaxDelay: 5 * time.Second,
	})
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	d.cancel = cancel
	go func() {
		emuDone := make(chan error, 1)
		go func() { emuDone <- d.emu.Run(runCtx, d.env.Config) }()
		err := mgr.Start(runCtx)
		cancel()
		d.done <- errors.Join(err, <-emuDone)
	}()
	fmt.Printf("demo: operator (--nsx-api auto) and NCP emulator (%s mode) started\n", d.api)
	return nil
}

func (d *demo) stop() {
	if d.cancel != nil {
		d.cancel()
		if err := <-d.done; err != nil {
			fmt.Fprintln(os.Stderr, "demo: the operator stopped with:", err)
		}
	}
	if d.srv != nil {
		d.srv.Close()
	}
	if d.env != nil {
		_ = d.env.Stop()
	}
	if d.dir != "" {
		_ = os.RemoveAll(d.dir)
	}
}

// waitReady waits until every pod has its logical port and every ClusterSecurityPolicy is Ready
// at its current generation.
func (d *demo) waitReady(ctx context.Context) error {
	fmt.Println("demo: waiting for pods, their logical ports and Ready policies …")
	if err := d.emu.WaitForSync(ctx); err != nil {
		return fmt.Errorf("the NCP emulator did not finish: %w", err)
	}
	for {
		csps := &securityv1alpha1.ClusterSecurityPolicyList{}
		if err := d.k8s.List(ctx, csps); err != nil {
			return err
		}
		ready := len(csps.Items) > 0
		for _, p := range csps.Items {
			c := meta.FindStatusCondition(p.Status.Conditions, securityv1alpha1.ConditionReady)
			if c == nil || c.Status != "True" || p.Status.ObservedGeneration != p.Generation {
				ready = false
			}
		}
		if ready {
			fmt.Printf("demo: %d ClusterSecurityPolicies are Ready\n", len(csps.Items))
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the policies did not become Ready: %w (operator log: %s)", ctx.Err(), filepath.Join(d.dir, "operator.log"))
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// tableWhenSettled checks the table until it matches (the last pods' ports may still be landing)
// or ctx ends, and prints the final one.
func (d *demo) tableWhenSettled(ctx context.Context) (bool, error) {
	for {
		pods, err := d.pods(ctx)
		if err != nil {
			return false, err
		}
		ok, err := checkTable(ctx, io.Discard, d.sim, pods)
		if err != nil {
			return false, err
		}
		if ok || ctx.Err() != nil {
			return checkTable(context.WithoutCancel(ctx), os.Stdout, d.sim, pods)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (d *demo) pods(ctx context.Context) ([]corev1.Pod, error) {
	list := &corev1.PodList{}
	if err := d.k8s.List(ctx, list); err != nil {
		return nil, err
	}
	return list.Items, nil
}

func (d *demo) printHowTo() {
	fmt.Printf(`
demo: the cluster stays up. In another shell:
  export KUBECONFIG=%s
  kubectl get csp
  kubectl -n z1 scale deployment service-c --replicas=3
  kubectl edit csp protect-service-d
  kubectl --as=dev -n x1 get networkpolicies   # the tenant of the RBAC walk-through
The DFW and the table are printed again whenever the operator changes NSX.
Operator log: %s
Press Ctrl-C to stop.
`, d.env.KubeconfigPath, filepath.Join(d.dir, "operator.log"))
	if bin := os.Getenv("KUBEBUILDER_ASSETS"); bin != "" {
		if _, err := os.Stat(filepath.Join(bin, "kubectl")); err == nil {
			fmt.Printf("kubectl is at %s\n", filepath.Join(bin, "kubectl"))
		}
	}
}

// follow re-prints the DFW and the table after every change the operator (or the NCP emulator)
// makes in NSX, until ctx ends.
func (d *demo) follow(ctx context.Context) error {
	last := d.sim.Stats().Writes
	for {
		select {
		case <-ctx.Done():
			fmt.Println("\ndemo: stopping")
			return nil
		case err := <-d.done:
			d.cancel = nil
			return fmt.Errorf("the operator stopped: %w", err)
		case <-time.After(3 * time.Second):
		}
		if w := d.sim.Stats().Writes; w != last {
			last = w
			var buf bytes.Buffer
			fmt.Fprintf(&buf, "\n==== NSX changed (%s) ====\n", time.Now().Format(time.TimeOnly))
			if err := d.printDFW(ctx, &buf); err != nil {
				return err
			}
			pods, err := d.pods(ctx)
			if err != nil {
				return err
			}
			if _, err := checkTable(ctx, &buf, d.sim, pods); err != nil {
				return err
			}
			_, _ = os.Stdout.Write(buf.Bytes())
		}
	}
}

func randomPassword() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b) + "!Aa1"
}
