package nsxclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/go-logr/logr"
)

// Client is a typed NSX-T Manager API client. It is safe for concurrent use; create one per NSX
// Manager and share it, so that the rate limit and the session are shared too.
type Client struct {
	cfg      Config   // with defaults applied
	baseURL  *url.URL // the manager, without /api/v1
	http     *http.Client
	auth     authenticator
	throttle *throttle
	log      logr.Logger

	// sleep and jitter are replaced in tests to observe and shorten backoff waits.
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func(n time.Duration) time.Duration
}

// New validates cfg and returns a Client. It does not contact NSX; use Ping to check
// connectivity and credentials.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	base, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	hc, err := newHTTPClient(cfg)
	if err != nil {
		return nil, err
	}
	// The transport holds the certificate now. Dropping it from the stored Config means that even
	// a reflection-based dump of the Client cannot reach the private key.
	cfg.ClientCertificate, cfg.GetClientCertificate = nil, nil

	c := &Client{
		cfg:      cfg,
		baseURL:  base,
		http:     hc,
		throttle: newThrottle(cfg),
		log:      cfg.Logger.WithName("nsxclient"),
		sleep:    sleepContext,
		jitter:   randomJitter,
	}
	switch cfg.AuthMode {
	case AuthBasic:
		c.auth = basicAuth{creds: cfg.Credentials}
	case AuthSession:
		c.auth = &sessionAuth{login: c.login}
	case AuthClientCert:
		c.auth = clientCertAuth{}
	}
	if cfg.InsecureSkipVerify {
		c.log.Info("TLS verification of the NSX Manager certificate is disabled (InsecureSkipVerify); do not use this in production", "host", base.Host)
	}
	return c, nil
}

// String describes the client without credentials or session tokens.
//
// String, GoString and Format have value receivers so that printing a Client value, not only a
// pointer, goes through them.
func (c Client) String() string {
	if c.baseURL == nil {
		return "nsxclient.Client{}"
	}
	return fmt.Sprintf("nsxclient.Client{Host: %q, AuthMode: %q}", c.baseURL.String(), string(c.cfg.AuthMode))
}

// GoString makes %#v as safe as %v.
func (c Client) GoString() string { return c.String() }

// Format implements fmt.Formatter so that no verb walks the struct.
func (c Client) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// Ping checks that NSX answers and accepts the credentials, by listing at most one firewall
// section. It makes a single attempt (plus a session re-login if needed) and does not retry, so
// that a readiness probe reflects the current state quickly.
func (c *Client) Ping(ctx context.Context) error {
	r, err := newRequest(http.MethodGet, "/firewall/sections")
	if err != nil {
		return err
	}
	r.query.Set("page_size", "1")
	r.noRetry = true
	return c.doJSON(ctx, r, nil)
}
