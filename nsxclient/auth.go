package nsxclient

import (
	"context"
	"fmt"
	"net/http"
)

// authToken identifies the credentials an attempt was sent with (a *session in session mode,
// nil otherwise), so that a rejection invalidates exactly the session NSX rejected and not a
// newer one another goroutine has meanwhile obtained.
type authToken any

// authenticator adds credentials to outgoing requests.
type authenticator interface {
	// authorize adds credentials to h, logging in first if needed.
	authorize(ctx context.Context, h http.Header) (authToken, error)
	// rejected is told that NSX refused tok as expired or invalid (401, or 403 with error_code
	// 98). It returns true if sending the request again with fresh credentials may succeed.
	rejected(tok authToken) bool
}

// basicAuth sends HTTP Basic credentials, read from the provider on every request so that
// rotated credentials take effect at once.
type basicAuth struct {
	creds CredentialsProvider
}

func (a basicAuth) authorize(ctx context.Context, h http.Header) (authToken, error) {
	user, pass, err := a.creds.Credentials(ctx)
	if err != nil {
		return nil, credentialsError(err)
	}
	// Build the header through a throwaway request so that the encoding is net/http's own.
	req := http.Request{Header: h}
	req.SetBasicAuth(user, pass)
	return nil, nil
}

// rejected returns false: the provider was already consulted for this very request, so sending it
// again would only repeat the failure (and count against NSX's lockout policy).
func (basicAuth) rejected(authToken) bool { return false }

// clientCertAuth authenticates in the TLS handshake (see transport.go); there is nothing to add
// to the request.
type clientCertAuth struct{}

func (clientCertAuth) authorize(context.Context, http.Header) (authToken, error) { return nil, nil }
func (clientCertAuth) rejected(authToken) bool                                   { return false }

// credentialsError wraps a CredentialsProvider failure. The provider's own error is kept (it
// should say which secret is missing) and must not contain the secret itself.
func credentialsError(err error) error {
	return fmt.Errorf("nsxclient: reading the NSX credentials: %w", err)
}
