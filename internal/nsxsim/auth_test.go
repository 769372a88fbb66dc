package nsxsim

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/testcerts"
	"github.com/microseg/microseg/nsxclient"
)

func TestBasicAuth(t *testing.T) {
	e := newEnv(t)
	e.call("GET", sectionsPath, nil, http.StatusOK, nil)
	bad := e.request("GET", sectionsPath, nil, func(r *http.Request) { r.SetBasicAuth(testUser, "wrong") })
	body := expectError(t, bad, http.StatusForbidden, nsxclient.ErrCodeBadCredentials)
	if body.ErrorMessage != "The credentials were incorrect or the account specified has been locked." {
		t.Fatalf("message %q", body.ErrorMessage)
	}
	none := e.request("GET", sectionsPath, nil, func(r *http.Request) { r.Header.Del("Authorization") })
	expectError(t, none, http.StatusForbidden, nsxclient.ErrCodeBadCredentials)
}

func (e *env) login(user, pass string) (cookie, xsrf string, r resp) {
	e.t.Helper()
	form := url.Values{"j_username": {user}, "j_password": {pass}}.Encode()
	r = e.request("POST", "/api/session/create", form, func(req *http.Request) {
		req.Header.Del("Authorization")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	})
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == sessionCookie {
			cookie = c.Value
		}
	}
	return cookie, r.header.Get(xsrfHeader), r
}

func withSession(cookie, xsrf string) func(*http.Request) {
	return func(r *http.Request) {
		r.Header.Del("Authorization")
		r.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
		if xsrf != "" {
			r.Header.Set(xsrfHeader, xsrf)
		}
	}
}

func TestSessionAuth(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.SessionTimeout = time.Minute })
	_, _, bad := e.login(testUser, "nope")
	expectError(t, bad, http.StatusForbidden, nsxclient.ErrCodeBadCredentials)

	cookie, xsrf, r := e.login(testUser, testPassword)
	if r.status != http.StatusOK || cookie == "" || xsrf == "" {
		t.Fatalf("session create: %s cookie=%q xsrf=%q", r, cookie, xsrf)
	}
	if r := e.request("GET", sectionsPath, nil, withSession(cookie, xsrf)); r.status != http.StatusOK {
		t.Fatalf("session GET: %s", r)
	}
	// The session user is recorded on writes.
	var sec nsxclient.FirewallSection
	r = e.request("POST", sectionsPath, map[string]any{"section_type": "LAYER3", "stateful": true}, withSession(cookie, xsrf))
	if r.status != http.StatusCreated {
		t.Fatalf("session POST: %s", r)
	}
	_ = jsonUnmarshal(r.body, &sec)
	if sec.CreateUser != testUser {
		t.Fatalf("_create_user %q", sec.CreateUser)
	}
	expectError(t, e.request("GET", sectionsPath, nil, withSession(cookie, "")), http.StatusForbidden, nsxclient.ErrCodeBadXSRF)
	expectError(t, e.request("GET", sectionsPath, nil, withSession(cookie, "forged")), http.StatusForbidden, nsxclient.ErrCodeBadXSRF)
	expectError(t, e.request("GET", sectionsPath, nil, withSession("unknown", xsrf)), http.StatusForbidden, nsxclient.ErrCodeBadXSRF)

	// Idle expiry.
	e.clock.Advance(30 * time.Second)
	if r := e.request("GET", sectionsPath, nil, withSession(cookie, xsrf)); r.status != http.StatusOK {
		t.Fatalf("within the idle timeout: %s", r)
	}
	e.clock.Advance(61 * time.Second)
	expectError(t, e.request("GET", sectionsPath, nil, withSession(cookie, xsrf)), http.StatusForbidden, nsxclient.ErrCodeBadXSRF)

	// Destroy.
	cookie, xsrf, _ = e.login(testUser, testPassword)
	if r := e.request("POST", "/api/session/destroy", nil, withSession(cookie, xsrf)); r.status != http.StatusOK {
		t.Fatalf("destroy: %s", r)
	}
	expectError(t, e.request("GET", sectionsPath, nil, withSession(cookie, xsrf)), http.StatusForbidden, nsxclient.ErrCodeBadXSRF)
}

func TestClientCertificateAuth(t *testing.T) {
	ca := testcerts.NewCA(t, "test CA")
	sim := New(Options{ClientCertCNs: []string{"microseg-operator"}, Seed: 1})
	ts := httptest.NewUnstartedServer(sim)
	ts.TLS = &tls.Config{ClientCAs: ca.Pool, ClientAuth: tls.VerifyClientCertIfGiven}
	ts.StartTLS()
	defer ts.Close()

	get := func(cert *tls.Certificate) int {
		t.Helper()
		tr := ts.Client().Transport.(*http.Transport).Clone()
		if cert != nil {
			tr.TLSClientConfig.Certificates = []tls.Certificate{*cert}
		}
		res, err := (&http.Client{Transport: tr}).Get(ts.URL + sectionsPath)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	good := ca.Client(t, "microseg-operator")
	other := ca.Client(t, "someone-else")
	if got := get(&good); got != http.StatusOK {
		t.Fatalf("accepted CN: %d", got)
	}
	if got := get(&other); got != http.StatusForbidden {
		t.Fatalf("other CN: %d", got)
	}
	if got := get(nil); got != http.StatusForbidden {
		t.Fatalf("no certificate: %d", got)
	}
}

func TestPasswordNeverInErrors(t *testing.T) {
	e := newEnv(t)
	r := e.request("GET", sectionsPath, nil, func(r *http.Request) { r.SetBasicAuth(testUser, "guess-"+testPassword) })
	if strings.Contains(string(r.body), testPassword) {
		t.Fatal("an error body echoes the password")
	}
}

func TestNodeVersion(t *testing.T) {
	e := newEnv(t)
	var v map[string]string
	e.call("GET", apiPrefix+"/node/version", nil, http.StatusOK, &v)
	if v["product_version"] == "" {
		t.Fatalf("version %v", v)
	}
}
