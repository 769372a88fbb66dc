// Package simnsx starts the NSX Manager simulator (internal/nsxsim) with a client connected to
// it, in one of three ways: in process (the client calls the simulator's handler, no socket),
// over HTTP or over HTTPS on loopback. kubectl-microseg simulate, the demo and every suite that
// needs a simulated NSX use it, so they all set it up the same way.
package simnsx

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/microseg/microseg/internal/certs"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/nsxclient"
)

// Transport says how the client reaches the simulator.
type Transport int

const (
	// InProcess serves every request with the simulator's handler in the calling goroutine: no
	// socket, no TLS, nothing to leak or to collide with.
	InProcess Transport = iota
	// HTTP serves the simulator in clear text on a loopback port.
	HTTP
	// TLS serves the simulator over HTTPS on a loopback port with a throwaway certificate that
	// is its own CA (NSX.CAPEM); the client verifies it.
	TLS
)

// DefaultUser is the simulator's user when Options.User is empty.
const DefaultUser = "admin"

// Options configure Start. The zero value is an in-process simulator with one random password.
type Options struct {
	Transport Transport
	// Sim configures the simulator. Its Users default to {User: Password}.
	Sim nsxsim.Options
	// User and Password are the credentials of the default client (and of the simulator's only
	// user unless Sim.Users is set). Empty: DefaultUser and a random password.
	User, Password string
	// Handler wraps the simulator's handler (spec validation, counting…).
	Handler func(http.Handler) http.Handler
	// ServerTLS adjusts the server's TLS configuration before it starts (TLS only), e.g. to ask
	// for client certificates.
	ServerTLS func(*tlsConfig)
	// ServerErrorLog receives the server's errors (default: discarded; handshakes cut short at
	// Close are expected).
	ServerErrorLog *log.Logger
	// ClientTransport, when set, wraps the transport of the default client (e.g. to observe each
	// request); the client then trusts the server through that transport.
	ClientTransport func(http.RoundTripper) http.RoundTripper
	// Client adjusts the default client's configuration (ClientConfig's) before it is built.
	Client func(*nsxclient.Config)
}

// NSX is a running simulator and the default client connected to it.
type NSX struct {
	Sim *nsxsim.Server
	// Server is the loopback server (nil in process); URL the client's Host.
	Server *httptest.Server
	URL    string
	// CAPEM is the server certificate in PEM (TLS only); it is its own CA.
	CAPEM []byte
	// User and Password are the default client's credentials.
	User, Password string
	// Client is the default client.
	Client *nsxclient.Client

	transport Transport
	base      http.RoundTripper
}

// Start starts a simulator and connects the default client.
func Start(opts Options) (*NSX, error) {
	n := &NSX{User: opts.User, Password: opts.Password, transport: opts.Transport}
	if n.User == "" {
		n.User = DefaultUser
	}
	if n.Password == "" {
		n.Password = randomPassword()
	}
	simOpts := opts.Sim
	if simOpts.Users == nil {
		simOpts.Users = map[string]string{n.User: n.Password}
	}
	n.Sim = nsxsim.New(simOpts)
	var h http.Handler = n.Sim
	if opts.Handler != nil {
		h = opts.Handler(n.Sim)
	}
	switch opts.Transport {
	case InProcess:
		n.URL = "http://nsx.in-process.invalid"
		n.base = HandlerTransport{Handler: h}
	case HTTP, TLS:
		n.Server = httptest.NewUnstartedServer(h)
		n.Server.Config.ErrorLog = opts.ServerErrorLog
		if n.Server.Config.ErrorLog == nil {
			n.Server.Config.ErrorLog = log.New(io.Discard, "", 0)
		}
		if opts.Transport == HTTP {
			n.Server.Start()
		} else {
			if opts.ServerTLS != nil {
				n.Server.TLS = newTLSConfig()
				opts.ServerTLS(n.Server.TLS)
			}
			n.Server.StartTLS()
			n.CAPEM = certs.PEM(n.Server.Certificate())
		}
		n.URL = n.Server.URL
		n.base = n.Server.Client().Transport
	default:
		return nil, errors.New("simnsx: unknown transport")
	}
	cfg := n.ClientConfig()
	if opts.ClientTransport != nil {
		cfg.CACertPEM = nil
		cfg.Transport = opts.ClientTransport(n.base)
	}
	if opts.Client != nil {
		opts.Client(&cfg)
	}
	var err error
	if n.Client, err = nsxclient.New(cfg); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// ClientConfig is the configuration of a client of this simulator, as the default client's
// starts: its URL, trust (the CA over TLS, the in-process transport otherwise), the default
// credentials with Basic auth, and no client-side rate limit. Adjust it for other clients.
func (n *NSX) ClientConfig() nsxclient.Config {
	cfg := nsxclient.Config{
		Host:        n.URL,
		Credentials: nsxclient.StaticCredentials(n.User, n.Password),
		RateLimit:   -1,
	}
	switch n.transport {
	case InProcess:
		cfg.AllowInsecureHTTP = true
		cfg.Transport = n.base
	case HTTP:
		cfg.AllowInsecureHTTP = true
	case TLS:
		cfg.CACertPEM = n.CAPEM
	}
	return cfg
}

// NewClient builds another client from ClientConfig, adjusted by adjust (if not nil).
func (n *NSX) NewClient(adjust func(*nsxclient.Config)) (*nsxclient.Client, error) {
	cfg := n.ClientConfig()
	if adjust != nil {
		adjust(&cfg)
	}
	return nsxclient.New(cfg)
}

// Close stops the server (nothing to stop in process).
func (n *NSX) Close() {
	if n.Server != nil {
		n.Server.Close()
	}
}

// TB is the part of testing.TB that StartT needs (so that this package does not link testing
// into the binaries that use it).
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// StartT starts a simulator for a test: it fails the test on error and stops the server when
// the test ends.
func StartT(t TB, opts Options) *NSX {
	t.Helper()
	n, err := Start(opts)
	if err != nil {
		t.Fatalf("starting the NSX simulator: %v", err)
	}
	t.Cleanup(n.Close)
	return n
}

func randomPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return "Sim-" + hex.EncodeToString(b) + "!"
}
