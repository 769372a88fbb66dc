// Command nsxsim serves the NSX-T Manager API simulator (internal/nsxsim) on a TCP address, for
// the demo, manual testing, and pointing the operator at something that behaves like NSX.
//
//	go run ./cmd/nsxsim --listen 127.0.0.1:0 --tls --ca-out /tmp/nsxsim-ca.pem --user admin --password secret
//
// It prints the URL it serves and runs until SIGINT or SIGTERM. The password is never printed.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/microseg/microseg/internal/nsxsim"
)

type config struct {
	listen       string
	useTLS       bool
	caOut        string
	clientCA     string
	clientCNs    string
	user         string
	password     string
	seed         uint64
	realLatency  bool
	logRequests  bool
	nsgroupPage  int
	sessionIdle  time.Duration
	protectSimAP bool

	policyRealize time.Duration
	policyDelete  time.Duration
	policyShuffle uint64
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "nsxsim:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("nsxsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:0", "address to serve on; port 0 picks a free port")
	fs.BoolVar(&c.useTLS, "tls", false, "serve HTTPS with a self-signed certificate generated in memory")
	fs.StringVar(&c.caOut, "ca-out", "", "with --tls: write the CA certificate (PEM) that signed the server certificate to this file")
	fs.StringVar(&c.clientCA, "client-ca", "", "with --tls: PEM file of CAs whose client certificates are accepted (principal-identity auth)")
	fs.StringVar(&c.clientCNs, "client-cn", "", "with --client-ca: comma-separated subject CNs accepted; empty accepts any certificate the CA signed")
	fs.StringVar(&c.user, "user", "admin", "NSX user name for Basic and session auth")
	fs.StringVar(&c.password, "password", "", "password of --user (default: $NSXSIM_PASSWORD)")
	fs.Uint64Var(&c.seed, "seed", 0, "seed for generated ids (0: random)")
	fs.BoolVar(&c.realLatency, "real-latency", false, "sleep for the simulated NSX latency of each call")
	fs.BoolVar(&c.logRequests, "log", false, "log one line per API call to stderr")
	fs.IntVar(&c.nsgroupPage, "nsgroup-page-size", 50, "maximum NSGroups per list page")
	fs.DurationVar(&c.sessionIdle, "session-timeout", 1800*time.Second, "idle timeout of /api/session/create sessions")
	fs.BoolVar(&c.protectSimAP, "protect-sim-api", false, "require NSX credentials on the private /sim/v1 endpoints")
	fs.DurationVar(&c.policyRealize, "policy-realization-delay", 0, "Policy API: how long a write stays UNREALIZED")
	fs.DurationVar(&c.policyDelete, "policy-delete-delay", 0, "Policy API: how long a deleted object stays marked for delete (its path refused with 500045)")
	fs.Uint64Var(&c.policyShuffle, "policy-tie-break-seed", 0, "Policy API: order policies and rules with equal sequence numbers by this seed instead of by path")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.password == "" {
		c.password = os.Getenv("NSXSIM_PASSWORD")
	}
	if c.password == "" && c.clientCA == "" {
		return c, errors.New("--password (or $NSXSIM_PASSWORD) is required")
	}
	if !c.useTLS && (c.caOut != "" || c.clientCA != "") {
		return c, errors.New("--ca-out and --client-ca need --tls")
	}
	return c, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, c, stdout, stderr)
}

// serve runs the simulator until ctx is done, then shuts down gracefully.
func serve(ctx context.Context, c config, stdout, stderr io.Writer) error {
	opts := nsxsim.Options{
		NSGroupPageSize: c.nsgroupPage,
		SessionTimeout:  c.sessionIdle,
		Seed:            c.seed,
		ProtectSimAPI:   c.protectSimAP,

		PolicyRealizationDelay: c.policyRealize,
		PolicyDeleteDelay:      c.policyDelete,
		PolicyTieBreakSeed:     c.policyShuffle,
	}
	if c.password != "" {
		opts.Users = map[string]string{c.user: c.password}
	}
	if c.realLatency {
		cost := nsxsim.DefaultCostModel()
		cost.RealLatency = true
		opts.Cost = &cost
	}
	if c.logRequests {
		logger := log.New(stderr, "", log.LstdFlags)
		opts.Logf = logger.Printf
	}
	var tlsConfig *tls.Config
	if c.useTLS {
		var err error
		if tlsConfig, err = serverTLS(c); err != nil {
			return err
		}
		if c.clientCA != "" {
			opts.ClientCertCNs = []string{}
			if c.clientCNs != "" {
				opts.ClientCertCNs = strings.Split(c.clientCNs, ",")
			}
		}
	}

	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return err
	}
	scheme := "http"
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
		scheme = "https"
	}
	srv := &http.Server{
		Handler:           nsxsim.New(opts),
		ReadHeaderTimeout: 10 * time.Second,
		// HTTP/1.1 only, so that the "drop connection" fault can hijack and close the socket.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	who := fmt.Sprintf("user %s", c.user)
	if c.password == "" {
		who = "client certificates only"
	}
	fmt.Fprintf(stdout, "nsxsim: serving NSX-T Manager API at %s://%s (%s)\n", scheme, ln.Addr(), who)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "nsxsim: stopped")
	return nil
}

// serverTLS builds the server's TLS configuration: a fresh CA and a server certificate for the
// listen host (plus localhost and loopback), and client-certificate verification when asked.
func serverTLS(c config) (*tls.Config, error) {
	host, _, err := net.SplitHostPort(c.listen)
	if err != nil {
		return nil, err
	}
	certs, err := newServerCertificate(host, time.Now())
	if err != nil {
		return nil, err
	}
	if c.caOut != "" {
		if err := os.WriteFile(c.caOut, certs.caPEM, 0o644); err != nil {
			return nil, err
		}
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{certs.server}, MinVersion: tls.VersionTLS12}
	if c.clientCA != "" {
		pem, err := os.ReadFile(c.clientCA)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", c.clientCA)
		}
		cfg.ClientCAs = pool
		// Verify a certificate when one is sent, but let Basic and session auth work without one.
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return cfg, nil
}
