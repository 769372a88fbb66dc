package nsxclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// maxIdleConnsPerHost is raised from net/http's default of 2: with 50 requests/s from several
// reconcile workers, 2 idle connections would mean constant TLS handshakes against NSX.
const maxIdleConnsPerHost = 32

// newHTTPClient builds the HTTP client: the configured Transport, or a TLS transport that
// verifies the NSX certificate unless InsecureSkipVerify is set explicitly.
func newHTTPClient(cfg Config) (*http.Client, error) {
	rt := cfg.Transport
	if rt == nil {
		tlsCfg, err := tlsConfig(cfg)
		if err != nil {
			return nil, err
		}
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = tlsCfg
		t.MaxIdleConnsPerHost = maxIdleConnsPerHost
		rt = t
	}
	return &http.Client{Transport: rt, CheckRedirect: sameHostRedirectsOnly}, nil
}

func tlsConfig(cfg Config) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(cfg.CACertPEM) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(cfg.CACertPEM) {
			return nil, errors.New("nsxclient: Config.CACertPEM holds no PEM-encoded certificate: pass the CA bundle that signed the NSX Manager certificate")
		}
		tc.RootCAs = pool
	}
	if cfg.GetCACertPEM != nil {
		// crypto/tls verifies against a fixed RootCAs. To trust the CA bundle current at each
		// handshake, its own verification is replaced by the same one (chain to one of those
		// CAs, name of the server) done in VerifyConnection with the bundle of the moment.
		tc.InsecureSkipVerify = true
		u, err := url.Parse(cfg.Host)
		if err != nil {
			return nil, errors.New("nsxclient: Config.Host is not a valid URL")
		}
		tc.VerifyConnection = verifyWithCurrentCAs(cfg.GetCACertPEM, u.Hostname())
	}
	if cfg.InsecureSkipVerify {
		tc.InsecureSkipVerify = true // explicit, documented opt-in for labs
	}
	if cfg.ClientCertificate != nil {
		tc.Certificates = []tls.Certificate{*cfg.ClientCertificate}
	}
	if cfg.GetClientCertificate != nil {
		tc.GetClientCertificate = cfg.GetClientCertificate
	}
	return tc, nil
}

// sameHostRedirectsOnly follows NSX's 301/307 redirects within the same host but refuses to
// follow one to another host: the session cookie and XSRF token travel in ordinary headers that
// net/http would forward, and they must not leave the manager.
func sameHostRedirectsOnly(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return redirectError("NSX redirected 10 times: check Config.Host")
	}
	if req.URL.Host != via[0].URL.Host {
		return redirectError(fmt.Sprintf("NSX redirected to another host (%s): set Config.Host to that address if it is the manager", req.URL.Host))
	}
	return nil
}

// redirectError is a refused redirect. Retrying cannot help, so it is a permanent error.
type redirectError string

func (e redirectError) Error() string { return string(e) }

// verifyWithCurrentCAs verifies the server's chain against the CA bundle get returns now, and its
// name against host (the manager's, from Config.Host: with InsecureSkipVerify set, crypto/tls does
// not fill ConnectionState.ServerName for an IP address), as crypto/tls would against RootCAs.
func verifyWithCurrentCAs(get func() ([]byte, error), host string) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		bundle, err := get()
		if err != nil {
			return fmt.Errorf("nsxclient: reading the CA bundle that signs the NSX Manager certificate: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(bundle) {
			return errors.New("nsxclient: the CA bundle holds no PEM-encoded certificate: pass the CA bundle that signed the NSX Manager certificate")
		}
		if len(cs.PeerCertificates) == 0 {
			return errors.New("nsxclient: the NSX Manager sent no certificate")
		}
		opts := x509.VerifyOptions{Roots: roots, DNSName: host, Intermediates: x509.NewCertPool()}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		_, err = cs.PeerCertificates[0].Verify(opts)
		return err
	}
}
