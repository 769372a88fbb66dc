package nsxconn

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/go-logr/logr"

	"github.com/microseg/microseg/nsxclient"
)

// NSX authentication modes, the values of --nsx-auth.
const (
	AuthBasic   = "basic"
	AuthSession = "session"
	AuthCert    = "cert"
)

// Flags are the flags that say how to reach NSX: the operator's, which kubectl-microseg explain
// takes with the same names, help and defaults.
type Flags struct {
	NSXURL                string
	NSXAuth               string
	NSXCredentialsDir     string
	NSXCAFile             string
	NSXClientCert         string
	NSXClientKey          string
	NSXInsecureSkipVerify bool
}

// Bind registers the NSX flags on fs. --nsx-url defaults to the environment variable NSX_URL.
func (f *Flags) Bind(fs *flag.FlagSet) {
	fs.StringVar(&f.NSXURL, "nsx-url", os.Getenv("NSX_URL"), "NSX Manager base URL, e.g. https://nsx.example.com (required; default $NSX_URL).")
	fs.StringVar(&f.NSXAuth, "nsx-auth", AuthSession, "How to authenticate to NSX: session (log in once, then a session cookie: NSX checks the password once per session, not on every call), basic (HTTP Basic on every call), or cert (a client certificate registered as an NSX principal identity).")
	fs.StringVar(&f.NSXCredentialsDir, "nsx-credentials-dir", "", "Directory holding the files 'username' and 'password' (a mounted Secret) for --nsx-auth session or basic. Re-read while running, so rotating the Secret needs no restart.")
	fs.StringVar(&f.NSXCAFile, "nsx-ca-file", "", "PEM file of the CA(s) that signed the NSX Manager's certificate; only these are trusted. Default: the system roots.")
	fs.StringVar(&f.NSXClientCert, "nsx-client-cert", "", "PEM client certificate for --nsx-auth cert (reloaded when the file changes).")
	fs.StringVar(&f.NSXClientKey, "nsx-client-key", "", "PEM private key of --nsx-client-cert (reloaded when the file changes).")
	fs.BoolVar(&f.NSXInsecureSkipVerify, "nsx-insecure-skip-verify", false, "Do not verify the NSX Manager's certificate. For labs only: anyone on the path can impersonate NSX and read the credentials.")
}

// NSXConfig is the NSX client configuration the flags describe. It reads the CA and client
// certificate files, so that a wrong path fails at start, and keeps watching them; the
// credentials are read when NSX asks for them.
func (f *Flags) NSXConfig(log logr.Logger) (nsxclient.Config, error) {
	cfg := nsxclient.Config{Host: f.NSXURL, InsecureSkipVerify: f.NSXInsecureSkipVerify, Logger: log.WithName("nsx")}
	if f.NSXURL == "" {
		return cfg, errors.New("--nsx-url is required: the NSX Manager base URL, e.g. https://nsx.example.com")
	}
	switch strings.ToLower(f.NSXAuth) {
	case AuthSession:
		cfg.AuthMode = nsxclient.AuthSession
	case AuthBasic:
		cfg.AuthMode = nsxclient.AuthBasic
	case AuthCert:
		cfg.AuthMode = nsxclient.AuthClientCert
	default:
		return cfg, fmt.Errorf("--nsx-auth %q: use session, basic or cert", f.NSXAuth)
	}
	if cfg.AuthMode != nsxclient.AuthClientCert {
		if f.NSXCredentialsDir == "" {
			return cfg, fmt.Errorf("--nsx-auth %s needs --nsx-credentials-dir: a directory with the files %q and %q (a mounted Secret)", f.NSXAuth, UsernameFile, PasswordFile)
		}
		cfg.Credentials = NewFileCredentials(f.NSXCredentialsDir, 0)
	}
	if f.NSXCAFile != "" {
		if f.NSXInsecureSkipVerify {
			return cfg, errors.New("--nsx-ca-file and --nsx-insecure-skip-verify contradict each other: keep --nsx-ca-file")
		}
		bundle, err := NewCABundle(f.NSXCAFile, 0, log.WithName("nsx-ca-file"))
		if err != nil {
			return cfg, err
		}
		cfg.GetCACertPEM = bundle.PEM
	}
	if (f.NSXClientCert == "") != (f.NSXClientKey == "") {
		return cfg, errors.New("--nsx-client-cert and --nsx-client-key go together: set both or neither")
	}
	if f.NSXClientCert != "" {
		cc, err := NewClientCertificate(f.NSXClientCert, f.NSXClientKey, 0, log.WithName("nsx-client-cert"))
		if err != nil {
			return cfg, err
		}
		cfg.GetClientCertificate = cc.GetClientCertificate
	} else if cfg.AuthMode == nsxclient.AuthClientCert {
		return cfg, errors.New("--nsx-auth cert needs --nsx-client-cert and --nsx-client-key")
	}
	if f.NSXInsecureSkipVerify {
		log.Info("WARNING: --nsx-insecure-skip-verify is set: the NSX Manager's certificate is not verified, so anyone on the network path can impersonate NSX and capture the credentials; use --nsx-ca-file instead")
	}
	return cfg, nil
}
