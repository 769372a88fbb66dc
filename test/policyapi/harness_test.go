package policyapi_test

import (
	"crypto/tls"
	"crypto/x509"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxspec"
	"github.com/microseg/microseg/internal/nsxspec/policyspec"
	"github.com/microseg/microseg/internal/nsxspec/speccheck"
	"github.com/microseg/microseg/internal/simnsx"
	"github.com/microseg/microseg/internal/testcerts"
	"github.com/microseg/microseg/nsxclient"
)

const (
	testUser     = "microseg-operator"
	testPassword = "Pa55-Policy-NeverPrinted"
	// smallPageSize makes every list that sends no page_size cross pages.
	smallPageSize = 3
)

// harness is one simulated manager served over HTTPS, with the Policy table checked on both
// sides of the wire, and a client connected to it.
type harness struct {
	t      *testing.T
	sim    *nsxsim.Server
	srv    *httptest.Server
	clock  *nsxsim.FakeClock // nil unless withFakeClock
	caPEM  []byte
	rep    *speccheck.Reporter
	srvLog *simnsx.SyncBuffer

	c *nsxclient.Client
	p *nsxclient.PolicyClient
}

type setup struct {
	sim       nsxsim.Options
	serverTLS func(*tls.Config)
	client    []func(*nsxclient.Config)
	fakeClock bool
}

type option func(*setup)

func withSim(f func(*nsxsim.Options)) option { return func(s *setup) { f(&s.sim) } }

func withClient(f func(*nsxclient.Config)) option {
	return func(s *setup) { s.client = append(s.client, f) }
}

func withServerTLS(f func(*tls.Config)) option { return func(s *setup) { s.serverTLS = f } }

func withFakeClock() option { return func(s *setup) { s.fakeClock = true } }

func newHarness(t *testing.T, opts ...option) *harness {
	t.Helper()
	policySpec, err := policyspec.Spec()
	if err != nil {
		t.Fatal(err)
	}
	s := setup{sim: nsxsim.Options{Users: map[string]string{testUser: testPassword}, Seed: 20260101, DefaultPageSize: smallPageSize}}
	for _, o := range opts {
		o(&s)
	}
	h := &harness{t: t, rep: ledger.NewReporter(t.Name()), srvLog: &simnsx.SyncBuffer{}}
	if s.fakeClock {
		h.clock = nsxsim.NewFakeClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
		s.sim.Clock = h.clock
	}
	h.sim = nsxsim.New(s.sim)
	var inner http.Handler = h.sim
	if manager := nsxspec.LoadIfPresent(t); manager != nil {
		inner = nsxspec.ValidatingHandler(manager, inner, h.rep.From("simulator (Manager API)"), "/sim/", "/policy/")
	}
	handler := ledger.CountingHandler(nsxspec.ValidatingHandler(policySpec, inner, h.rep.From("simulator"), "/sim/", "/api/"), isPolicyPath)
	h.srv = httptest.NewUnstartedServer(handler)
	h.srv.Config.ErrorLog = log.New(h.srvLog, "", 0)
	if s.serverTLS != nil {
		h.srv.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
		s.serverTLS(h.srv.TLS)
	}
	h.srv.StartTLS()
	t.Cleanup(h.verify)
	t.Cleanup(h.srv.Close)
	h.caPEM = testcerts.PEM(h.srv.Certificate())
	h.c = h.newClient(nil, s.client...)
	h.p = h.c.Policy()
	return h
}

func (h *harness) verify() {
	recordCoverage(h.sim.Stats())
	h.rep.Verify(h.t)
	if errs := h.srvLog.String(); strings.Contains(errs, "panic") {
		h.t.Errorf("the simulator panicked:\n%s", errs)
	}
}

// newClient connects another client. The TLS verification nsxclient would do (the server's CA)
// is set on the transport, which is wrapped in the validators; tlsEdit may add a client
// certificate.
func (h *harness) newClient(tlsEdit func(*tls.Config), edits ...func(*nsxclient.Config)) *nsxclient.Client {
	h.t.Helper()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(h.caPEM)
	tc := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if tlsEdit != nil {
		tlsEdit(tc)
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.TLSClientConfig = tc
	h.t.Cleanup(base.CloseIdleConnections)
	policySpec, _ := policyspec.Spec()
	var rt http.RoundTripper = base
	if manager := nsxspec.LoadIfPresent(h.t); manager != nil {
		rt = nsxspec.ValidatingTransport(manager, rt, h.rep.From("client (Manager API)"), "/sim/", "/policy/")
	}
	cfg := nsxclient.Config{
		Host:           h.srv.URL,
		Credentials:    nsxclient.StaticCredentials(testUser, testPassword),
		RateLimit:      -1,
		RetryBaseDelay: time.Millisecond,
		RetryMaxDelay:  5 * time.Millisecond,
		MaxRetryAfter:  5 * time.Millisecond,
		Transport:      ledger.CountingTransport(nsxspec.ValidatingTransport(policySpec, rt, h.rep.From("client"), "/sim/", "/api/"), isPolicyPath),
	}
	for _, e := range edits {
		e(&cfg)
	}
	c, err := nsxclient.New(cfg)
	if err != nil {
		h.t.Fatalf("nsxclient.New: %v", err)
	}
	return c
}
