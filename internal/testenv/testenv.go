// Package testenv starts microseg's local Kubernetes control plane for tests and the demo: etcd and a
// real kube-apiserver (through controller-runtime's envtest) with microseg's CRDs installed, and,
// when asked, kube-controller-manager running the controllers a test needs (for example the
// ClusterRole aggregation controller, or Deployments → ReplicaSets → Pods for the demo).
//
// The binaries come from KUBEBUILDER_ASSETS, which `make test` and `make demo` point at the cache
// that hack/controlplane.sh builds from the Go module proxy.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Options says what to start.
type Options struct {
	// ControllerManagerControllers, when non-empty, starts kube-controller-manager with exactly these
	// controllers (its --controllers flag), e.g. "clusterrole-aggregation".
	ControllerManagerControllers []string
	// ExtraCRDPaths are installed next to microseg's own CRDs.
	ExtraCRDPaths []string
}

// Env is a running control plane. Stop it when done.
type Env struct {
	// Config is a cluster-admin (system:masters) connection.
	Config *rest.Config
	// KubeconfigPath is a kubeconfig file for the admin user, for kubectl and helper processes.
	KubeconfigPath string

	envtest *envtest.Environment
	kcm     *controllerManager
	workDir string
}

// Start starts etcd and kube-apiserver (and kube-controller-manager when asked), installs microseg's
// CRDs and waits until they are served.
func Start(ctx context.Context, opts Options) (*Env, error) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return nil, errors.New("KUBEBUILDER_ASSETS is not set: run through `make test` (or export KUBEBUILDER_ASSETS=$(hack/controlplane.sh)) so the local control plane is built and found")
	}
	root, err := ProjectRoot()
	if err != nil {
		return nil, err
	}
	te := &envtest.Environment{
		CRDDirectoryPaths:     append([]string{filepath.Join(root, "config", "crd", "bases")}, opts.ExtraCRDPaths...),
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := te.Start()
	if err != nil {
		return nil, fmt.Errorf("starting etcd and kube-apiserver from %s: %w", os.Getenv("KUBEBUILDER_ASSETS"), err)
	}
	env := &Env{Config: cfg, envtest: te}
	if env.workDir, err = os.MkdirTemp("", "microseg-testenv-"); err != nil {
		_ = te.Stop()
		return nil, err
	}
	if env.KubeconfigPath, err = env.writeAdminKubeconfig(); err != nil {
		_ = env.Stop()
		return nil, err
	}
	if len(opts.ControllerManagerControllers) > 0 {
		env.kcm, err = startControllerManager(ctx, env, opts.ControllerManagerControllers)
		if err != nil {
			_ = env.Stop()
			return nil, err
		}
	}
	return env, nil
}

// AddUser returns a connection authenticated as the given user and groups (no permissions beyond
// what RBAC grants them).
func (e *Env) AddUser(name string, groups ...string) (*rest.Config, error) {
	u, err := e.envtest.AddUser(envtest.User{Name: name, Groups: groups}, e.Config)
	if err != nil {
		return nil, fmt.Errorf("adding user %q: %w", name, err)
	}
	return u.Config(), nil
}

// Stop stops everything Start started and removes its files.
func (e *Env) Stop() error {
	var errs []error
	if e.kcm != nil {
		errs = append(errs, e.kcm.stop())
	}
	if e.envtest != nil {
		errs = append(errs, e.envtest.Stop())
	}
	if e.workDir != "" {
		errs = append(errs, os.RemoveAll(e.workDir))
	}
	return errors.Join(errs...)
}

func (e *Env) writeAdminKubeconfig() (string, error) {
	admin, err := e.envtest.AddUser(envtest.User{Name: "microseg-admin", Groups: []string{"system:masters"}}, e.Config)
	if err != nil {
		return "", fmt.Errorf("creating the admin kubeconfig: %w", err)
	}
	data, err := admin.KubeConfig()
	if err != nil {
		return "", err
	}
	path := filepath.Join(e.workDir, "kubeconfig")
	return path, os.WriteFile(path, data, 0o600)
}

// ProjectRoot is the directory holding microseg's go.mod, found from this source file so tests in
// any package (and `go run`) agree on it.
func ProjectRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate the project root")
	}
	dir := filepath.Dir(file)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find go.mod above " + filepath.Dir(file))
		}
		dir = parent
	}
}
