package nsxclient

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-logr/logr"
)

// AuthMode selects how the client authenticates to NSX.
type AuthMode string

const (
	// AuthBasic sends HTTP Basic credentials on every request. It is the default.
	AuthBasic AuthMode = "Basic"
	// AuthSession logs in once (POST /api/session/create) and then sends the JSESSIONID cookie
	// and X-XSRF-TOKEN header. NSX checks the password only at login, which makes it cheaper
	// than Basic for busy clients (Basic auth costs NSX a password check per request).
	AuthSession AuthMode = "Session"
	// AuthClientCert authenticates with a client certificate (an NSX principal identity) over
	// mutual TLS and sends no credentials.
	AuthClientCert AuthMode = "ClientCert"
)

// Defaults applied by New to zero-valued Config fields.
const (
	DefaultRateLimit = 50 // requests/s; NSX's per-client limit is 100/s.
	DefaultBurst     = 10
	// DefaultMaxConcurrentRequests is a quarter of NSX's per-client concurrency limit (40): NCP
	// and other tools often share the account.
	DefaultMaxConcurrentRequests   = 10
	DefaultMaxRetries              = 8
	DefaultRetryBaseDelay          = 500 * time.Millisecond
	DefaultRetryMaxDelay           = 5 * time.Second
	DefaultMaxRetryAfter           = time.Minute
	DefaultTimeout                 = 60 * time.Second
	DefaultMaxStaleRevisionRetries = 5
	DefaultUserAgent               = "microseg-nsxclient"
)

// Config configures a Client. Only Host and, depending on AuthMode, Credentials or a client
// certificate are required; every other field has a safe default.
//
// Printing a Config with fmt never shows credentials or private keys.
type Config struct {
	// Host is the NSX Manager base URL, for example "https://nsx.example.com". The client adds
	// /api/v1 (and /api/session for logins) itself. A path prefix is allowed for reverse proxies.
	Host string
	// AllowInsecureHTTP permits an http:// Host. Requests, including Basic credentials, then
	// travel in clear text, so this is only for simulators and tests.
	AllowInsecureHTTP bool

	// AuthMode defaults to AuthBasic.
	AuthMode AuthMode
	// Credentials is required for AuthBasic and AuthSession. Use StaticCredentials or a
	// CredentialsFunc that reads a mounted secret.
	Credentials CredentialsProvider

	// CACertPEM is the PEM bundle of CAs that may sign the NSX server certificate. When set,
	// only these CAs are trusted (not the system roots): NSX managers usually have self-signed
	// or private-CA certificates, and pinning the CA is the point of setting it.
	CACertPEM []byte
	// GetCACertPEM, if set, is asked for the CA bundle at each new TLS connection instead of
	// CACertPEM, so that a rotated CA (the manager's certificate re-issued by a new CA) is trusted
	// without a restart. Returning an error or no certificate fails the handshake. Only its CAs
	// are trusted, as with CACertPEM.
	GetCACertPEM func() ([]byte, error)
	// ClientCertificate is presented to NSX during the TLS handshake (required for
	// AuthClientCert unless GetClientCertificate is set).
	ClientCertificate *tls.Certificate
	// GetClientCertificate, if set, is called on each handshake instead of using
	// ClientCertificate, so a rotated certificate is picked up without a restart.
	GetClientCertificate func(*tls.CertificateRequestInfo) (*tls.Certificate, error)
	// InsecureSkipVerify disables verification of the NSX server certificate. Verification is on
	// unless this is set explicitly; use it for labs only.
	InsecureSkipVerify bool

	// RateLimit is the client-side request rate in requests per second (default 50, below NSX's
	// default per-client limit of 100/s so that other tools sharing the account keep headroom).
	// A negative value disables client-side limiting.
	RateLimit float64
	// Burst is the number of requests that may be sent at once above RateLimit (default 10).
	Burst int
	// The rate adapts to NSX: a 429 or 503 halves it (down to 1 request/s) and pauses every
	// request for the Retry-After NSX gives; each second without throttling gives back a
	// twentieth of RateLimit. Client.Throttling reports the current rate.

	// MaxConcurrentRequests caps the requests in flight at once (default 10; negative: no cap).
	// NSX refuses a client's requests past 40 in flight (429) and the manager's past 199 (503).
	MaxConcurrentRequests int

	// MaxRetries is how many times a failed request is retried (default 8; negative: never).
	MaxRetries int
	// RetryBaseDelay is the first backoff (default 500ms); it doubles on each retry up to
	// RetryMaxDelay (default 5s). Each wait is jittered between half and all of that value.
	RetryBaseDelay time.Duration
	RetryMaxDelay  time.Duration
	// MaxRetryAfter caps how long a Retry-After header may make the client wait (default 1m).
	MaxRetryAfter time.Duration
	// MaxStaleRevisionRetries bounds the read-revision-and-retry loop of the *AtLatestRevision
	// helpers (default 5).
	MaxStaleRevisionRetries int

	// Timeout bounds a single HTTP attempt, including reading the response (default 60s:
	// update_with_rules on a 1000-rule section takes NSX about 15s).
	Timeout time.Duration

	// Transport replaces the HTTP transport (tests, proxies, instrumentation). TLS settings
	// (CACertPEM, client certificates, InsecureSkipVerify) cannot be combined with it; configure
	// TLS on the Transport itself.
	Transport http.RoundTripper

	// UserAgent is sent on every request (default "microseg-nsxclient").
	UserAgent string
	// AllowOverwrite sends "X-Allow-Overwrite: true", which NSX requires to modify objects owned
	// by another principal identity (for example objects created by NCP).
	AllowOverwrite bool

	// Logger receives debug logs (V(1)) about retries and logins, and a warning from New when
	// InsecureSkipVerify is set. It never receives credentials or session tokens. The zero value
	// discards logs.
	Logger logr.Logger
	// Observer, if set, is called once per HTTP attempt (including logins and retries). It is
	// called synchronously from the requesting goroutine, possibly concurrently, so it must be
	// fast and safe for concurrent use.
	Observer func(CallInfo)
}

// withDefaults returns a copy of c with zero-valued fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.AuthMode == "" {
		c.AuthMode = AuthBasic
	}
	if c.RateLimit == 0 {
		c.RateLimit = DefaultRateLimit
	}
	if c.Burst <= 0 {
		c.Burst = DefaultBurst
	}
	switch {
	case c.MaxConcurrentRequests == 0:
		c.MaxConcurrentRequests = DefaultMaxConcurrentRequests
	case c.MaxConcurrentRequests < 0:
		c.MaxConcurrentRequests = 0
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = DefaultMaxRetries
	} else if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}
	if c.RetryBaseDelay <= 0 {
		c.RetryBaseDelay = DefaultRetryBaseDelay
	}
	if c.RetryMaxDelay <= 0 {
		c.RetryMaxDelay = DefaultRetryMaxDelay
	}
	if c.RetryMaxDelay < c.RetryBaseDelay {
		c.RetryMaxDelay = c.RetryBaseDelay
	}
	if c.MaxRetryAfter <= 0 {
		c.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if c.MaxStaleRevisionRetries <= 0 {
		c.MaxStaleRevisionRetries = DefaultMaxStaleRevisionRetries
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.Logger.GetSink() == nil {
		c.Logger = logr.Discard()
	}
	return c
}

// validate checks c (after withDefaults) and returns the parsed base URL of the manager.
func (c Config) validate() (*url.URL, error) {
	if c.Host == "" {
		return nil, errors.New("nsxclient: Config.Host is empty: set it to the NSX Manager URL, e.g. https://nsx.example.com")
	}
	u, err := url.Parse(c.Host)
	if err != nil {
		// url.Parse echoes its input, which may hold user:password@; do not wrap it.
		return nil, errors.New("nsxclient: Config.Host is not a valid URL: use the form https://nsx.example.com")
	}
	if u.User != nil {
		return nil, errors.New("nsxclient: Config.Host must not contain credentials: use Config.Credentials")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !c.AllowInsecureHTTP {
			return nil, fmt.Errorf("nsxclient: Config.Host %q uses http, which would send credentials in clear text: use https (or set AllowInsecureHTTP for a simulator)", u.Redacted())
		}
	default:
		return nil, fmt.Errorf("nsxclient: Config.Host %q must start with https://", u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("nsxclient: Config.Host %q has no host name", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("nsxclient: Config.Host %q must not have a query or fragment", u.Redacted())
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	if strings.HasSuffix(u.Path, "/api/v1") || strings.HasSuffix(u.Path, "/api") {
		return nil, fmt.Errorf("nsxclient: Config.Host %q must be the manager's base URL: drop the /api suffix, the client adds /api/v1 itself", u.Redacted())
	}

	switch c.AuthMode {
	case AuthBasic, AuthSession:
		if c.Credentials == nil {
			return nil, fmt.Errorf("nsxclient: AuthMode %s needs Config.Credentials (for example StaticCredentials(user, password))", c.AuthMode)
		}
	case AuthClientCert:
		if c.ClientCertificate == nil && c.GetClientCertificate == nil && c.Transport == nil {
			return nil, errors.New("nsxclient: AuthMode ClientCert needs Config.ClientCertificate or Config.GetClientCertificate")
		}
	default:
		return nil, fmt.Errorf("nsxclient: unknown AuthMode %q: use Basic, Session or ClientCert", string(c.AuthMode))
	}
	if c.Transport != nil && (len(c.CACertPEM) > 0 || c.GetCACertPEM != nil || c.ClientCertificate != nil || c.GetClientCertificate != nil || c.InsecureSkipVerify) {
		return nil, errors.New("nsxclient: Config.Transport cannot be combined with CACertPEM, GetCACertPEM, ClientCertificate, GetClientCertificate or InsecureSkipVerify: configure TLS on the Transport instead")
	}
	if c.GetCACertPEM != nil && (len(c.CACertPEM) > 0 || c.InsecureSkipVerify) {
		return nil, errors.New("nsxclient: Config.GetCACertPEM cannot be combined with CACertPEM or InsecureSkipVerify: it replaces CACertPEM, and it means to verify")
	}
	return u, nil
}

// String describes c without credentials or key material.
func (c Config) String() string {
	set := func(ok bool) string {
		if ok {
			return "<set>"
		}
		return "<unset>"
	}
	return fmt.Sprintf("nsxclient.Config{Host: %q, AuthMode: %q, Credentials: %s, CACertPEM: %d bytes, GetCACertPEM: %s, "+
		"ClientCertificate: %s, GetClientCertificate: %s, InsecureSkipVerify: %t, AllowInsecureHTTP: %t, "+
		"RateLimit: %g, Burst: %d, MaxConcurrentRequests: %d, MaxRetries: %d, RetryBaseDelay: %s, RetryMaxDelay: %s, MaxRetryAfter: %s, "+
		"Timeout: %s, Transport: %s, UserAgent: %q, AllowOverwrite: %t, Observer: %s}",
		c.Host, string(c.AuthMode), set(c.Credentials != nil), len(c.CACertPEM), set(c.GetCACertPEM != nil),
		set(c.ClientCertificate != nil), set(c.GetClientCertificate != nil), c.InsecureSkipVerify, c.AllowInsecureHTTP,
		c.RateLimit, c.Burst, c.MaxConcurrentRequests, c.MaxRetries, c.RetryBaseDelay, c.RetryMaxDelay, c.MaxRetryAfter,
		c.Timeout, set(c.Transport != nil), c.UserAgent, c.AllowOverwrite, set(c.Observer != nil))
}

// GoString makes %#v as safe as %v.
func (c Config) GoString() string { return c.String() }

// Format implements fmt.Formatter so that every verb (%v, %+v, %#v, %s, %q, ...) goes through
// String: without it, %+v would walk the struct and print whatever the fields contain.
func (c Config) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }
