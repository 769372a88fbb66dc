package nsxapi_test

import (
	"crypto/tls"
	"crypto/x509"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/simnsx"

	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxspec"
	"github.com/microseg/microseg/internal/nsxspec/speccheck"
	"github.com/microseg/microseg/nsxclient"
)

// Credentials of the simulated manager. The password is distinctive so that tests can search
// error strings and process output for it.
const (
	testUser     = "microseg-operator"
	testPassword = "Pa55-Hunter2-NeverPrinted"
)

// smallPageSize is the simulator's default page size in the harness (NSX's is 1000).
const smallPageSize = 4

// harness is one simulated NSX Manager served over HTTPS, with spec validation on both sides of
// the wire, and a client connected to it.
type harness struct {
	t     *testing.T
	sim   *nsxsim.Server
	srv   *httptest.Server
	clock *nsxsim.FakeClock // nil unless withFakeClock
	spec  *nsxspec.Spec
	caPEM []byte // the server's certificate, which is its own CA

	reporter  *speccheck.Reporter
	calls     *callLog
	serverLog *simnsx.SyncBuffer

	// c is the default client, in the harness's auth mode.
	c    *nsxclient.Client
	mode nsxclient.AuthMode
}

// harnessSetup is what harnessOptions adjust before the server starts.
type harnessSetup struct {
	sim       nsxsim.Options
	serverTLS func(*tls.Config)
	mode      nsxclient.AuthMode
	client    []clientOption
	fakeClock bool
}

type harnessOption func(*harnessSetup)

// withAuthMode selects the default client's authentication (Basic unless set).
func withAuthMode(mode nsxclient.AuthMode) harnessOption {
	return func(s *harnessSetup) { s.mode = mode }
}

// withSim adjusts the simulator's options.
func withSim(f func(*nsxsim.Options)) harnessOption {
	return func(s *harnessSetup) { f(&s.sim) }
}

// withServerTLS adjusts the test server's TLS configuration (e.g. to ask for client
// certificates).
func withServerTLS(f func(*tls.Config)) harnessOption {
	return func(s *harnessSetup) { s.serverTLS = f }
}

// withClient adjusts the default client.
func withClient(opts ...clientOption) harnessOption {
	return func(s *harnessSetup) { s.client = append(s.client, opts...) }
}

// withFakeClock gives the simulator a manually advanced clock (session expiry).
func withFakeClock() harnessOption {
	return func(s *harnessSetup) { s.fakeClock = true }
}

// newHarness starts a simulator and connects a client. It skips the test when the vendor spec is
// absent: without it the conformance half of every test would be silently missing.
func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	spec := nsxspec.LoadForTest(t)
	specLoaded.Store(true)

	setup := harnessSetup{
		// A small default page size makes every list call that sends no page_size cross pages,
		// so the client's cursor loop is exercised everywhere.
		sim:  nsxsim.Options{Users: map[string]string{testUser: testPassword}, Seed: 20250101, DefaultPageSize: smallPageSize},
		mode: nsxclient.AuthBasic,
	}
	for _, o := range opts {
		o(&setup)
	}
	h := &harness{t: t, spec: spec, mode: setup.mode, calls: &callLog{}, serverLog: &simnsx.SyncBuffer{},
		reporter: conformance.NewReporter(t.Name())}
	if setup.fakeClock {
		h.clock = nsxsim.NewFakeClock(time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC))
		setup.sim.Clock = h.clock
	}
	// Cleanups run last-registered first: the server stops (and finishes every request) before
	// the reports are checked.
	t.Cleanup(h.verify)
	nsx := simnsx.StartT(t, simnsx.Options{
		Transport: simnsx.TLS,
		Sim:       setup.sim,
		User:      testUser, Password: testPassword,
		Handler: func(sim http.Handler) http.Handler {
			return conformance.CountingHandler(nsxspec.ValidatingHandler(spec, sim, h.reporter.From("simulator")), specChecked)
		},
		ServerTLS: setup.serverTLS,
		// Server errors go to a buffer checked at the end: TLS handshake failures are expected in
		// some tests, but a panic in the simulator must fail the test.
		ServerErrorLog: log.New(h.serverLog, "", 0),
	})
	h.sim, h.srv, h.caPEM = nsx.Sim, nsx.Server, nsx.CAPEM

	h.c = h.newClient(append([]clientOption{withMode(setup.mode)}, setup.client...)...)
	return h
}

// verify runs when the test ends: it records which endpoints the simulator served, and fails the
// test on spec violations and on a panic in the simulator ("http: panic serving ..."; the
// deliberate http.ErrAbortHandler of a dropped connection is not logged).
func (h *harness) verify() {
	recordEndpointCoverage(h.sim.Stats())
	h.reporter.Verify(h.t)
	if errs := h.serverLog.String(); strings.Contains(errs, "panic") {
		h.t.Errorf("the simulator panicked:\n%s", errs)
	}
}

// expectSpecViolation declares a violation this test provokes on purpose (an invalid request
// sent to check the simulator's validation), so that it is counted rather than failed.
func (h *harness) expectSpecViolation(fragment string) { h.reporter.Expect(fragment) }

// clientSetup is a client's configuration plus the TLS settings of its transport.
type clientSetup struct {
	cfg nsxclient.Config
	tls *tls.Config
}

type clientOption func(*clientSetup)

func withMode(mode nsxclient.AuthMode) clientOption {
	return func(s *clientSetup) { s.cfg.AuthMode = mode }
}

// withConfig edits the nsxclient.Config.
func withConfig(f func(*nsxclient.Config)) clientOption {
	return func(s *clientSetup) { f(&s.cfg) }
}

// withClientCertificate presents cert in the TLS handshake.
func withClientCertificate(cert tls.Certificate) clientOption {
	return func(s *clientSetup) { s.tls.Certificates = []tls.Certificate{cert} }
}

// newClient connects another client to the harness's server.
//
// nsxclient refuses a Transport combined with its own TLS settings, so the TLS verification is
// configured here, on the http.Transport, exactly as the client would (the server's CA, full
// verification); that transport is wrapped in the spec validator and handed to the client.
// Retries are fast so that fault tests take milliseconds, and the client-side rate limit is off
// so that only the simulator's limits apply.
func (h *harness) newClient(opts ...clientOption) *nsxclient.Client {
	h.t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(h.caPEM) {
		h.t.Fatal("the test server's certificate is not PEM")
	}
	setup := clientSetup{
		cfg: nsxclient.Config{
			Host:           h.srv.URL,
			AuthMode:       h.mode,
			Credentials:    nsxclient.StaticCredentials(testUser, testPassword),
			RateLimit:      -1,
			RetryBaseDelay: time.Millisecond,
			RetryMaxDelay:  10 * time.Millisecond,
			MaxRetryAfter:  10 * time.Millisecond,
			Observer:       h.calls.record,
		},
		tls: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
	}
	for _, o := range opts {
		o(&setup)
	}
	setup.cfg.Transport = validatingTransport(h.t, h.spec, setup.tls, h.reporter)
	c, err := nsxclient.New(setup.cfg)
	if err != nil {
		h.t.Fatalf("nsxclient.New: %v", err)
	}
	return c
}

// validatingTransport is an HTTPS transport with the given TLS settings, wrapped so that every
// request it sends and every response it receives is checked against the spec and counted.
func validatingTransport(t *testing.T, spec *nsxspec.Spec, tlsConfig *tls.Config, reporter *speccheck.Reporter) http.RoundTripper {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.TLSClientConfig = tlsConfig
	t.Cleanup(base.CloseIdleConnections)
	return conformance.CountingTransport(nsxspec.ValidatingTransport(spec, base, reporter.From("client")), specChecked)
}

// simHTTPClient talks to the simulator's private /sim/v1 API over the same verified TLS.
func (h *harness) simHTTPClient() *http.Client {
	return h.srv.Client()
}

// eachAuthMode runs f against a fresh harness in Basic and in Session mode: every client method
// must work with both.
func eachAuthMode(t *testing.T, f func(t *testing.T, h *harness), opts ...harnessOption) {
	t.Helper()
	for _, mode := range []nsxclient.AuthMode{nsxclient.AuthBasic, nsxclient.AuthSession} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			f(t, newHarness(t, append([]harnessOption{withAuthMode(mode)}, opts...)...))
		})
	}
}
