package policyapi_test

import (
	"context"
	"crypto/tls"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/testcerts"
	"github.com/microseg/microseg/nsxclient"
)

// TestPolicyAuthModes: the Policy API answers every auth mode the Manager API does, over one
// client, session and rate limiter.
func TestPolicyAuthModes(t *testing.T) {
	ca := testcerts.NewCA(t, "principal identities CA")
	const principal = "microseg-pi"
	h := newHarness(t, withFakeClock(),
		withSim(func(o *nsxsim.Options) { o.ClientCertCNs = []string{principal} }),
		withServerTLS(func(c *tls.Config) { c.ClientCAs, c.ClientAuth = ca.Pool, tls.VerifyClientCertIfGiven }))
	ctx := t.Context()
	must(t, h.p.PatchGroup(ctx, dom, group("basic", portTag("app", "basic"))))

	var logins []string
	var mu sync.Mutex
	session := h.newClient(nil, func(c *nsxclient.Config) {
		c.AuthMode = nsxclient.AuthSession
		c.Observer = func(ci nsxclient.CallInfo) {
			mu.Lock()
			logins = append(logins, ci.Endpoint)
			mu.Unlock()
		}
	}).Policy()
	must(t, session.PatchGroup(ctx, dom, group("session", portTag("app", "session"))))
	// The session expires (NSX's idle timeout): the client logs in again by itself.
	h.clock.Advance(31 * time.Minute)
	must(t, session.PatchGroup(ctx, dom, group("session", portTag("app", "session2"))))
	mu.Lock()
	creates := strings.Count(strings.Join(logins, "\n"), "POST /api/session/create")
	mu.Unlock()
	if creates != 2 {
		t.Errorf("%d logins, want 2 (one at start, one after expiry): %v", creates, logins)
	}

	cert := ca.Client(t, principal)
	pi := h.newClient(func(c *tls.Config) { c.Certificates = []tls.Certificate{cert} }, func(c *nsxclient.Config) {
		c.AuthMode, c.Credentials = nsxclient.AuthClientCert, nil
	}).Policy()
	must(t, pi.PatchGroup(ctx, dom, group("pi", portTag("app", "pi"))))
	g := get[*nsxclient.PolicyGroup](t)(h.p.GetGroup(ctx, dom, "pi"))
	if g.CreateUser != principal {
		t.Errorf("created by %q, want the principal identity", g.CreateUser)
	}
}

// TestPolicyCredentialRotation: credentials are read on every request (Basic) and login
// (Session), so a rotated secret takes effect without a new client; a wrong one is reported as
// such and not retried.
func TestPolicyCredentialRotation(t *testing.T) {
	for _, mode := range []nsxclient.AuthMode{nsxclient.AuthBasic, nsxclient.AuthSession} {
		t.Run(string(mode), func(t *testing.T) {
			h := newHarness(t)
			var mu sync.Mutex
			password := "stale-" + testPassword
			c := h.newClient(nil, func(c *nsxclient.Config) {
				c.AuthMode = mode
				c.Credentials = nsxclient.CredentialsFunc(func(context.Context) (string, string, error) {
					mu.Lock()
					defer mu.Unlock()
					return testUser, password, nil
				})
			}).Policy()
			ctx := t.Context()
			err := c.PatchGroup(ctx, dom, group("g", portTag("app", "g")))
			if !nsxclient.IsUnauthorized(err) || strings.Contains(err.Error(), password) {
				t.Fatalf("with the old password: %v", err)
			}
			mu.Lock()
			password = testPassword // the mounted secret is rotated
			mu.Unlock()
			must(t, c.PatchGroup(ctx, dom, group("g", portTag("app", "g"))))
		})
	}
}
