package nsxclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/testcerts"
)

var quietLog = log.New(io.Discard, "", 0)

func okHandler(seen *atomic.Int32) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		seen.Add(1)
		writeJSON(w, 200, ListResult[FirewallSection]{})
	})
}

func TestTLSVerificationIsOnByDefault(t *testing.T) {
	var seen atomic.Int32
	srv := httptest.NewUnstartedServer(okHandler(&seen))
	srv.Config.ErrorLog = quietLog // the handshake failures below are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	serverCAPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	base := Config{Host: srv.URL, Credentials: StaticCredentials(testUser, testPassword), RateLimit: -1,
		RetryBaseDelay: time.Millisecond, RetryMaxDelay: time.Millisecond}

	t.Run("unknown CA fails clearly and is not retried", func(t *testing.T) {
		c, err := New(base)
		if err != nil {
			t.Fatal(err)
		}
		err = c.Ping(context.Background())
		var te *TransportError
		if !errors.As(err, &te) {
			t.Fatalf("want *TransportError, got %T %v", err, err)
		}
		if !strings.Contains(err.Error(), "not trusted") || !strings.Contains(err.Error(), "CACertPEM") {
			t.Errorf("error does not explain the fix: %v", err)
		}
		_, err = c.GetSection(context.Background(), "s") // a retryable GET
		if !errors.As(err, &te) || te.Attempts != 1 {
			t.Errorf("a certificate failure was retried: %v", err)
		}
		if seen.Load() != 0 {
			t.Errorf("a request reached the server over an unverified connection")
		}
	})
	t.Run("works with CACertPEM", func(t *testing.T) {
		cfg := base
		cfg.CACertPEM = serverCAPEM
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Ping(context.Background()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
	t.Run("CACertPEM replaces the system roots and still checks the host name", func(t *testing.T) {
		cfg := base
		cfg.CACertPEM = serverCAPEM
		cfg.Host = strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) // not in the certificate
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		err = c.Ping(context.Background())
		if err == nil || !strings.Contains(err.Error(), "does not match the host") {
			t.Errorf("want a host-name mismatch error, got %v", err)
		}
	})
	t.Run("works with InsecureSkipVerify", func(t *testing.T) {
		cfg := base
		cfg.InsecureSkipVerify = true
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Ping(context.Background()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
	t.Run("CACertPEM without certificates is refused", func(t *testing.T) {
		cfg := base
		cfg.CACertPEM = []byte("not a certificate")
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "CACertPEM") {
			t.Errorf("got %v", err)
		}
	})
}

func TestClientCertificateMutualTLS(t *testing.T) {
	serverCA := testcerts.NewCA(t, "nsx-server-ca")
	clientCA := testcerts.NewCA(t, "nsx-principal-ca")
	clientPool := x509.NewCertPool()
	clientPool.AddCert(clientCA.Cert)

	var sawCN atomic.Value
	var sawAuthHeader atomic.Bool
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawCN.Store(r.TLS.PeerCertificates[0].Subject.CommonName)
		if r.Header.Get("Authorization") != "" || r.Header.Get("Cookie") != "" {
			sawAuthHeader.Store(true)
		}
		writeJSON(w, 200, ListResult[FirewallSection]{})
	}))
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{serverCA.Server(t, "nsx-manager")},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientPool,
	}
	srv.Config.ErrorLog = quietLog
	srv.StartTLS()
	t.Cleanup(srv.Close)

	clientCert := clientCA.Client(t, "microseg-operator")
	fast := func(c Config) Config {
		c.RateLimit, c.RetryBaseDelay, c.RetryMaxDelay = -1, time.Millisecond, time.Millisecond
		return c
	}

	t.Run("ClientCertificate", func(t *testing.T) {
		c, err := New(fast(Config{Host: srv.URL, AuthMode: AuthClientCert, CACertPEM: serverCA.PEM, ClientCertificate: &clientCert}))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Ping(context.Background()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		if cn, _ := sawCN.Load().(string); cn != "microseg-operator" {
			t.Errorf("server saw client CN %q", cn)
		}
		if sawAuthHeader.Load() {
			t.Error("client-certificate mode sent credentials")
		}
	})
	t.Run("GetClientCertificate", func(t *testing.T) {
		var calls atomic.Int32
		c, err := New(fast(Config{Host: srv.URL, AuthMode: AuthClientCert, CACertPEM: serverCA.PEM,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				calls.Add(1)
				return &clientCert, nil
			}}))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Ping(context.Background()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		if calls.Load() == 0 {
			t.Error("GetClientCertificate was not used")
		}
	})
	t.Run("without a client certificate the handshake is rejected, not retried", func(t *testing.T) {
		c, err := New(fast(Config{Host: srv.URL, CACertPEM: serverCA.PEM, Credentials: StaticCredentials(testUser, testPassword)}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetSection(context.Background(), "s")
		var te *TransportError
		if !errors.As(err, &te) {
			t.Fatalf("want *TransportError, got %T %v", err, err)
		}
		if te.Attempts != 1 {
			t.Errorf("handshake rejection retried %d times", te.Attempts)
		}
		if !strings.Contains(err.Error(), "rejected the TLS handshake") {
			t.Errorf("error does not explain: %v", err)
		}
	})
	t.Run("ClientCert mode needs a certificate", func(t *testing.T) {
		if _, err := New(Config{Host: srv.URL, AuthMode: AuthClientCert}); err == nil {
			t.Error("New accepted ClientCert mode without a certificate")
		}
	})
}

func TestConfigValidation(t *testing.T) {
	creds := StaticCredentials(testUser, testPassword)
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no host", Config{Credentials: creds}, "Host is empty"},
		{"http without opt-in", Config{Host: "http://nsx", Credentials: creds}, "clear text"},
		{"other scheme", Config{Host: "ftp://nsx", Credentials: creds}, "https://"},
		{"api suffix", Config{Host: "https://nsx/api/v1", Credentials: creds}, "drop the /api suffix"},
		{"credentials in URL", Config{Host: "https://admin:" + testPassword + "@nsx", Credentials: creds}, "must not contain credentials"},
		{"basic without credentials", Config{Host: "https://nsx"}, "needs Config.Credentials"},
		{"session without credentials", Config{Host: "https://nsx", AuthMode: AuthSession}, "needs Config.Credentials"},
		{"unknown mode", Config{Host: "https://nsx", AuthMode: "Kerberos", Credentials: creds}, "unknown AuthMode"},
		{"transport with TLS settings", Config{Host: "https://nsx", Credentials: creds, Transport: http.DefaultTransport, InsecureSkipVerify: true}, "configure TLS on the Transport"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), testPassword) {
				t.Errorf("password in error: %v", err)
			}
		})
	}
	if _, err := New(Config{Host: "http://nsxsim:8080/", AllowInsecureHTTP: true, Credentials: creds}); err != nil {
		t.Errorf("http with AllowInsecureHTTP: %v", err)
	}
	c, err := New(Config{Host: "https://proxy.example.com/nsx/", Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := newRequest(http.MethodGet, "/ip-sets/{id}", "x")
	if got := c.url(r); got != "https://proxy.example.com/nsx/api/v1/ip-sets/x" {
		t.Errorf("url with a path prefix = %s", got)
	}
}

// The CA bundle is asked for at each new connection: a manager certificate re-issued by a new CA
// is trusted once the bundle names that CA, without a new client.
func TestRotatedCAIsTrustedWithoutANewClient(t *testing.T) {
	oldCA, newCA := testcerts.NewCA(t, "old-ca"), testcerts.NewCA(t, "new-ca")
	var serving atomic.Pointer[tls.Certificate]
	oldCert, newCert := oldCA.Server(t, "nsx"), newCA.Server(t, "nsx")
	serving.Store(&oldCert)
	var seen atomic.Int32
	srv := httptest.NewUnstartedServer(okHandler(&seen))
	srv.Config.ErrorLog = quietLog // handshakes with an untrusted certificate fail on purpose
	// GetConfigForClient, not GetCertificate: a client dialing an IP address sends no SNI, and
	// then crypto/tls serves Certificates (which httptest fills) without asking GetCertificate.
	srv.TLS = &tls.Config{MinVersion: tls.VersionTLS12, GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*serving.Load()}}, nil
	}}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	var bundle atomic.Pointer[[]byte]
	bundle.Store(&oldCA.PEM)
	c, err := New(Config{Host: srv.URL, Credentials: StaticCredentials(testUser, testPassword), RateLimit: -1,
		RetryBaseDelay: time.Millisecond, RetryMaxDelay: time.Millisecond,
		GetCACertPEM: func() ([]byte, error) { return *bundle.Load(), nil }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("with the CA that signed the manager's certificate: %v", err)
	}

	// The manager gets a certificate from a new CA; the client does not trust it yet.
	serving.Store(&newCert)
	srv.CloseClientConnections()
	before := seen.Load()
	if err := c.Ping(ctx); err == nil || !strings.Contains(err.Error(), "not trusted") {
		t.Fatalf("a certificate from a CA outside the bundle was accepted: %v", err)
	}
	if seen.Load() != before {
		t.Fatal("a request reached the server over an unverified connection")
	}

	// The bundle is rotated (a re-mounted Secret): the next connection trusts the new CA.
	bundle.Store(&newCA.PEM)
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("after the CA bundle was rotated: %v", err)
	}

	// The name is still checked: a certificate of the new CA for another host is refused.
	other, err := newCA.CA.Server("elsewhere", "nsx.elsewhere.example")
	if err != nil {
		t.Fatal(err)
	}
	serving.Store(&other)
	srv.CloseClientConnections()
	if err := c.Ping(ctx); err == nil {
		t.Fatal("a certificate for another host name was accepted")
	}
}

func TestGetCACertPEMRefusesContradictions(t *testing.T) {
	get := func() ([]byte, error) { return nil, nil }
	base := Config{Host: "https://nsx.example.com", Credentials: StaticCredentials(testUser, testPassword), GetCACertPEM: get}
	for name, mutate := range map[string]func(*Config){
		"with CACertPEM":          func(c *Config) { c.CACertPEM = []byte("x") },
		"with InsecureSkipVerify": func(c *Config) { c.InsecureSkipVerify = true },
	} {
		cfg := base
		mutate(&cfg)
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "GetCACertPEM") {
			t.Errorf("%s: want an error naming GetCACertPEM, got %v", name, err)
		}
	}
}
