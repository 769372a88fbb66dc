package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// controllerManager is a kube-controller-manager process next to envtest's kube-apiserver.
type controllerManager struct {
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited; waitErr is set then
	waitErr error
	log     *os.File
}

func startControllerManager(_ context.Context, env *Env, controllers []string) (*controllerManager, error) {
	bin := filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kube-controller-manager")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("kube-controller-manager not found in KUBEBUILDER_ASSETS (%s): build it with hack/controlplane.sh", bin)
	}
	certDir := env.envtest.ControlPlane.APIServer.CertDir
	args := []string{
		"--kubeconfig=" + env.KubeconfigPath,
		"--controllers=" + strings.Join(controllers, ","),
		"--leader-elect=false",
		// No serving endpoint: nothing scrapes or probes it in tests, and no port can collide.
		"--secure-port=0",
		"--use-service-account-credentials=false",
		// envtest's API server signs service account tokens with this key; give it to the
		// token controller so pods get working service accounts.
		"--service-account-private-key-file=" + filepath.Join(certDir, "sa-signer.key"),
		"--root-ca-file=" + filepath.Join(certDir, "apiserver.crt"),
		"--v=1",
	}
	logFile, err := os.Create(filepath.Join(env.workDir, "kube-controller-manager.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting kube-controller-manager: %w", err)
	}
	m := &controllerManager{cmd: cmd, done: make(chan struct{}), log: logFile}
	go func() { m.waitErr = cmd.Wait(); close(m.done) }()
	// Give it a moment to fail on bad flags, so the error is reported here and not as a timeout later.
	select {
	case <-m.done:
		_ = logFile.Close()
		out, _ := os.ReadFile(logFile.Name())
		return nil, fmt.Errorf("kube-controller-manager exited at start (%w):\n%s", m.waitErr, tail(string(out), 2000))
	case <-time.After(time.Second):
	}
	return m, nil
}

func (m *controllerManager) stop() error {
	defer m.log.Close()
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	// It exits with "signal: terminated", which is what we asked for: not an error.
	select {
	case <-m.done:
	case <-time.After(10 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.done
	}
	return nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
