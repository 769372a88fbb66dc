package nsxapi_test

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/nsxspec"
	"github.com/microseg/microseg/internal/simnsx"
	"github.com/microseg/microseg/nsxclient"
)

const (
	simUser     = "demo-admin"
	simPassword = "Cmd-Line-Secret-4711"
)

var servingURL = regexp.MustCompile(`https://127\.0\.0\.1:[0-9]+`)

// TestCmdNsxsimEndToEnd builds cmd/nsxsim, runs it as a separate process over TLS, talks to it
// with nsxclient verifying its certificate with the CA it wrote, and stops it with SIGINT.
func TestCmdNsxsimEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a binary")
	}
	t.Parallel()
	spec := nsxspec.LoadForTest(t)
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to build cmd/nsxsim")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "nsxsim")
	build := exec.CommandContext(t.Context(), goTool, "build", "-o", bin, "github.com/microseg/microseg/cmd/nsxsim")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build cmd/nsxsim: %v\n%s", err, out)
	}

	caFile := filepath.Join(dir, "ca.pem")
	var stdout, stderr simnsx.SyncBuffer
	sim := exec.Command(bin, "--listen", "127.0.0.1:0", "--tls", "--ca-out", caFile,
		"--user", simUser, "--password", simPassword, "--log")
	sim.Stdout, sim.Stderr = &stdout, &stderr
	mustOK(t, sim.Start())
	// exited is closed when the process has ended; waitErr is its exit status then.
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = sim.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default: // the test failed before stopping it: stop our own process
			_ = sim.Process.Kill()
			<-exited
		}
	})

	url := waitFor(t, func() string { return servingURL.FindString(stdout.String()) }, "the serving URL on stdout", &stdout, &stderr)
	caPEM, err := os.ReadFile(caFile)
	mustOK(t, err)

	ctx := t.Context()
	// Basic auth, with nsxclient's own TLS verification against the CA the simulator wrote.
	basic, err := nsxclient.New(nsxclient.Config{Host: url, CACertPEM: caPEM,
		Credentials: nsxclient.StaticCredentials(simUser, simPassword)})
	mustOK(t, err)
	mustOK(t, basic.Ping(ctx))
	sec := try(basic.CreateSectionWithRules(ctx, withRules(layer3Section("from-cmd"), allowRule("r")), nsxclient.Top())).must(t)
	equalStrings(t, "sections", sectionNames(try(basic.ListSections(ctx, nsxclient.ListSectionsOptions{})).must(t)),
		[]string{"from-cmd", defaultL3Section})

	// Session auth through the spec-validating transport, trusting the same CA: the password
	// travels in the login body, which the simulator must not log.
	reporter := conformance.NewReporter(t.Name())
	t.Cleanup(func() { reporter.Verify(t) })
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatalf("%s holds no certificate", caFile)
	}
	session, err := nsxclient.New(nsxclient.Config{Host: url, AuthMode: nsxclient.AuthSession,
		Credentials: nsxclient.StaticCredentials(simUser, simPassword),
		Transport:   validatingTransport(t, spec, &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, reporter)})
	mustOK(t, err)
	g := try(session.CreateNSGroup(ctx, namedGroup("cmd-group"))).must(t)
	try(session.GetNSGroup(ctx, g.ID)).must(t)
	mustOK(t, session.DeleteSection(ctx, sec.ID, true))
	mustOK(t, session.Logout(ctx))

	mustOK(t, sim.Process.Signal(os.Interrupt))
	select {
	case <-exited:
		if waitErr != nil {
			t.Errorf("nsxsim did not exit cleanly on SIGINT: %v\nstderr: %s", waitErr, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("nsxsim did not stop within 15s of SIGINT")
	}
	out := stdout.String() + stderr.String()
	if !strings.Contains(stdout.String(), "nsxsim: stopped") {
		t.Errorf("no shutdown message: %q", stdout.String())
	}
	if !strings.Contains(stderr.String(), "/api/v1/ns-groups") {
		t.Errorf("--log printed no request lines: %q", stderr.String())
	}
	if strings.Contains(out, simPassword) {
		t.Errorf("the password appears in nsxsim's output:\n%s", out)
	}
}

// waitFor polls get until it returns something, for at most 10 seconds.
func waitFor(t *testing.T, get func() string, what string, stdout, stderr *simnsx.SyncBuffer) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if v := get(); v != "" {
			return v
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %s within 10s; stdout %q, stderr %q", what, stdout.String(), stderr.String())
	return ""
}
