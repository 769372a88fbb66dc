package nsxclient

import "context"

// CredentialsProvider supplies the NSX user name and password.
//
// It is called on every request in AuthBasic mode and on every login in AuthSession mode, never
// cached by the client, so a rotated secret (for example a re-mounted Kubernetes Secret) takes
// effect without restarting the operator. In Basic mode that means once per request, so an
// implementation should be cheap (for example, cache the secret and reload it when the file
// changes). Its errors must not contain the secret.
type CredentialsProvider interface {
	Credentials(ctx context.Context) (username, password string, err error)
}

// CredentialsFunc adapts a function to CredentialsProvider.
type CredentialsFunc func(ctx context.Context) (username, password string, err error)

// Credentials calls f.
func (f CredentialsFunc) Credentials(ctx context.Context) (string, string, error) { return f(ctx) }

// StaticCredentials returns a provider that always yields the same user name and password.
//
// The values are captured in a closure rather than stored in a struct field, so that even
// reflection-based printers (fmt on an unexported field, spew) cannot print them.
func StaticCredentials(username, password string) CredentialsProvider {
	return CredentialsFunc(func(context.Context) (string, string, error) {
		return username, password, nil
	})
}

// redacted replaces secrets in text the client produces (error messages from a login).
const redacted = "<redacted>"
