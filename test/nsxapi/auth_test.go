package nsxapi_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/testcerts"

	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/nsxclient"
)

const loginEndpoint = "POST /api/session/create"

// TestPingAndLogout: Ping answers in both modes; Logout ends the session on the manager and the
// next call logs in again; in Basic mode Logout sends nothing.
func TestPingAndLogout(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		mustOK(t, h.c.Ping(ctx))
		mustOK(t, h.c.Ping(ctx))
		mustOK(t, h.c.Logout(ctx))
		mustOK(t, h.c.Logout(ctx)) // nothing left to end: a no-op
		mustOK(t, h.c.Ping(ctx))

		logins := h.sim.Stats().Endpoints[loginEndpoint].Calls
		logouts := h.sim.Stats().Endpoints["POST /api/session/destroy"].Calls
		switch h.mode {
		case nsxclient.AuthSession:
			if logins != 2 || logouts != 1 {
				t.Errorf("session mode: %d logins and %d logouts, want 2 and 1", logins, logouts)
			}
		default:
			if logins != 0 || logouts != 0 {
				t.Errorf("basic mode: %d logins and %d logouts, want none", logins, logouts)
			}
		}
	})
}

// TestPingDoesNotRetry: a readiness probe must report the manager's state now, not eventually.
func TestPingDoesNotRetry(t *testing.T) {
	h := newHarness(t)
	h.sim.InjectFault(nsxsim.FaultRule{Kind: nsxsim.FaultUnavailable, Method: "GET", Count: 1})
	err := h.c.Ping(t.Context())
	if e := apiError(t, err); e.StatusCode != 503 || e.Attempts != 1 {
		t.Errorf("Ping under a 503: %v", err)
	}
	mustOK(t, h.c.Ping(t.Context()))
}

// TestBadCredentials: a wrong password is ErrUnauthorized with advice, is not retried (it would
// count towards NSX's lockout), and never shows the password.
func TestBadCredentials(t *testing.T) {
	const wrongPassword = "Wr0ng-Passw0rd-Not-For-Output"
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		bad := h.newClient(withConfig(func(c *nsxclient.Config) {
			c.Credentials = nsxclient.StaticCredentials(testUser, wrongPassword)
		}))
		h.calls.reset()
		for name, call := range map[string]func() error{
			"Ping":        func() error { return bad.Ping(ctx) },
			"ListIPSets":  func() error { _, err := bad.ListIPSets(ctx); return err },
			"CreateIPSet": func() error { _, err := bad.CreateIPSet(ctx, namedIPSet("x", "10.0.0.1")); return err },
		} {
			err := call()
			if !nsxclient.IsUnauthorized(err) {
				t.Errorf("%s: want ErrUnauthorized, got %v", name, err)
				continue
			}
			text := err.Error() + fmt.Sprintf(" %+v %#v", err, err)
			if !strings.Contains(text, "check the NSX credentials") {
				t.Errorf("%s: no advice in %q", name, err)
			}
			if strings.Contains(text, wrongPassword) || strings.Contains(text, testPassword) {
				t.Errorf("%s: the error shows a password: %s", name, text)
			}
		}
		for _, c := range h.calls.snapshot() {
			if c.Attempt != 1 {
				t.Errorf("a rejected login or request was retried: %+v", c.CallInfo)
			}
		}
		if s := fmt.Sprintf("%v %+v %#v", bad, bad, *bad); strings.Contains(s, wrongPassword) {
			t.Errorf("printing the client shows the password: %s", s)
		}
		if _, err := h.c.ListIPSets(ctx); err != nil {
			t.Errorf("the good client still works: %v", err)
		}
	})
}

// TestSessionExpiryReloginIsTransparent: when the manager expires the session, the next calls
// (even many at once) log in again once and succeed.
func TestSessionExpiryReloginIsTransparent(t *testing.T) {
	const idle = 10 * time.Minute
	h := newHarness(t, withAuthMode(nsxclient.AuthSession), withFakeClock(),
		withSim(func(o *nsxsim.Options) { o.SessionTimeout = idle }))
	ctx := t.Context()
	sec := try(h.c.CreateSection(ctx, layer3Section("s"), nsxclient.Top())).must(t)

	h.clock.Advance(idle + time.Second)
	h.calls.reset()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := h.c.GetSection(ctx, sec.ID)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("a call after the session expired failed: %v", err)
		}
	}
	if logins := h.sim.Stats().Endpoints[loginEndpoint].Calls; logins != 2 {
		t.Errorf("%d logins, want 2: the first, and one shared re-login", logins)
	}
	rejected := 0
	for _, c := range h.calls.to("GET /firewall/sections/{id}") {
		if c.StatusCode == 403 {
			rejected++
			if c.ErrorCode != nsxclient.ErrCodeBadXSRF {
				t.Errorf("expired session answered %d/%d, want 403/98", c.StatusCode, c.ErrorCode)
			}
		}
	}
	if rejected == 0 {
		t.Error("no request met the expired session: the clock did not expire it")
	}

	// Logging out of a session the manager already expired is not an error: it is gone.
	h.clock.Advance(idle + time.Second)
	mustOK(t, h.c.Logout(ctx))
	if destroy := h.sim.Stats().Endpoints["POST /api/session/destroy"]; destroy.Calls != 1 || destroy.Errors != 1 {
		t.Errorf("logout of an expired session: %+v, want one refused call", destroy)
	}
}

// TestLoginIsRetriedWhenNSXIsBusy: the login is an ordinary request for the retry policy.
func TestLoginIsRetriedWhenNSXIsBusy(t *testing.T) {
	h := newHarness(t, withAuthMode(nsxclient.AuthSession))
	h.sim.InjectFault(nsxsim.FaultRule{Kind: nsxsim.FaultUnavailable, Endpoint: loginEndpoint, Count: 2})
	try(h.c.ListIPSets(t.Context())).must(t)
	if got := h.calls.statuses(loginEndpoint); fmt.Sprint(got) != "[503 503 200]" {
		t.Errorf("login attempts answered %v, want [503 503 200]", got)
	}
}

// TestClientCertificateAuth: a principal identity authenticates with its certificate alone,
// through the harness's transport and through nsxclient's own TLS configuration.
func TestClientCertificateAuth(t *testing.T) {
	const principal = "microseg-principal"
	ca := testcerts.NewCA(t, "principal identities CA")
	h := newHarness(t,
		withSim(func(o *nsxsim.Options) { o.ClientCertCNs = []string{principal} }),
		withServerTLS(func(c *tls.Config) {
			c.ClientCAs = ca.Pool
			c.ClientAuth = tls.VerifyClientCertIfGiven // Basic and session auth keep working
		}))
	ctx := t.Context()
	cert := ca.Client(t, principal)

	viaTransport := h.newClient(withMode(nsxclient.AuthClientCert), withClientCertificate(cert),
		withConfig(func(c *nsxclient.Config) { c.Credentials = nil }))
	created := try(viaTransport.CreateSection(ctx, layer3Section("by-principal"), nsxclient.Top())).must(t)
	if created.CreateUser != principal {
		t.Errorf("_create_user %q, want the certificate's CN %q", created.CreateUser, principal)
	}

	ownTLS, err := nsxclient.New(nsxclient.Config{
		Host: h.srv.URL, AuthMode: nsxclient.AuthClientCert,
		CACertPEM: h.caPEM, ClientCertificate: &cert,
		RateLimit: -1, Observer: h.calls.record,
	})
	mustOK(t, err)
	mustOK(t, ownTLS.Ping(ctx))

	// A certificate the TLS layer accepts but NSX does not know as a principal.
	stranger := h.newClient(withMode(nsxclient.AuthClientCert), withClientCertificate(ca.Client(t, "stranger")),
		withConfig(func(c *nsxclient.Config) { c.Credentials = nil }))
	if err := stranger.Ping(ctx); !nsxclient.IsUnauthorized(err) {
		t.Errorf("unknown principal: want ErrUnauthorized, got %v", err)
	}

	// A certificate from a CA the manager does not trust. Go's TLS client withholds a
	// Config.ClientCertificate that no CA the server names has signed, so the request arrives
	// without credentials: unauthorized.
	rogue := testcerts.NewCA(t, "rogue CA").Client(t, principal)
	withheld, err := nsxclient.New(nsxclient.Config{
		Host: h.srv.URL, AuthMode: nsxclient.AuthClientCert,
		CACertPEM: h.caPEM, ClientCertificate: &rogue, RateLimit: -1,
	})
	mustOK(t, err)
	if err := withheld.Ping(ctx); !nsxclient.IsUnauthorized(err) {
		t.Errorf("client certificate from an unknown CA: want ErrUnauthorized, got %v", err)
	}
	// GetClientCertificate presents it anyway, and the manager fails the handshake.
	presented, err := nsxclient.New(nsxclient.Config{
		Host: h.srv.URL, AuthMode: nsxclient.AuthClientCert, CACertPEM: h.caPEM, RateLimit: -1,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &rogue, nil },
	})
	mustOK(t, err)
	err = presented.Ping(ctx)
	var te *nsxclient.TransportError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "principal identity") {
		t.Errorf("untrusted client certificate: want a *TransportError explaining the handshake, got %v", err)
	}
}

// TestServerCertificateVerification: the client verifies NSX's certificate with CACertPEM and
// refuses an unknown one without retrying.
func TestServerCertificateVerification(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	base := nsxclient.Config{Host: h.srv.URL, Credentials: nsxclient.StaticCredentials(testUser, testPassword), RateLimit: -1,
		RetryBaseDelay: time.Millisecond}

	trusting := base
	trusting.CACertPEM = h.caPEM
	c, err := nsxclient.New(trusting)
	mustOK(t, err)
	try(c.ListSections(ctx, nsxclient.ListSectionsOptions{})).must(t)

	for name, caPEM := range map[string][]byte{
		"system roots only": nil,
		"another CA":        testcerts.PEM(testcerts.NewCA(t, "unrelated CA").Cert),
	} {
		cfg := base
		cfg.CACertPEM = caPEM
		c, err := nsxclient.New(cfg)
		mustOK(t, err)
		_, err = c.GetSection(ctx, "any")
		var te *nsxclient.TransportError
		if !errors.As(err, &te) || te.Attempts != 1 || !strings.Contains(err.Error(), "CACertPEM") {
			t.Errorf("%s: want a single-attempt *TransportError pointing at CACertPEM, got %v", name, err)
		}
	}
}

// TestPasswordsNeedingEscaping: a password with form and URL metacharacters logs in (the login
// body is form-encoded), and a wrong one is never echoed, raw or escaped.
func TestPasswordsNeedingEscaping(t *testing.T) {
	const awkward = "p&ss=w+rd %2B ü;\"x\""
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		good := h.newClient(withConfig(func(c *nsxclient.Config) { c.Credentials = nsxclient.StaticCredentials(testUser, awkward) }))
		mustOK(t, good.Ping(ctx))

		wrong := awkward + "&j_username=admin"
		bad := h.newClient(withConfig(func(c *nsxclient.Config) { c.Credentials = nsxclient.StaticCredentials(testUser, wrong) }))
		err := bad.Ping(ctx)
		if !nsxclient.IsUnauthorized(err) {
			t.Fatalf("wrong password: want ErrUnauthorized, got %v", err)
		}
		if text := fmt.Sprintf("%v %+v", err, err); strings.Contains(text, wrong) || strings.Contains(text, url.QueryEscape(wrong)) {
			t.Errorf("the error shows the password: %s", text)
		}
	}, withSim(func(o *nsxsim.Options) { o.Users = map[string]string{testUser: awkward} }))
}

// TestCredentialsProviderFailure: when the secret cannot be read, the call fails at once with
// the provider's reason and nothing is sent to the manager.
func TestCredentialsProviderFailure(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		unreadable := errors.New("secret nsx-credentials: key password missing")
		c := h.newClient(withConfig(func(c *nsxclient.Config) {
			c.Credentials = nsxclient.CredentialsFunc(func(context.Context) (string, string, error) { return "", "", unreadable })
		}))
		h.calls.reset()
		_, err := c.ListSections(t.Context(), nsxclient.ListSectionsOptions{})
		if !errors.Is(err, unreadable) || !strings.Contains(err.Error(), "reading the NSX credentials") {
			t.Errorf("want the provider's error, explained; got %v", err)
		}
		if n := len(h.calls.snapshot()); n != 0 {
			t.Errorf("%d requests were sent without credentials", n)
		}
	})
}
