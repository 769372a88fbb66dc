package nsxconn

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/simnsx"
	"github.com/microseg/microseg/nsxclient"
)

// clock is a settable time for the providers' caches.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func writeCredentials(t *testing.T, dir, username, password string) {
	t.Helper()
	for name, v := range map[string]string{UsernameFile: username, PasswordFile: password} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func newTestCredentials(dir string, ttl time.Duration) (*FileCredentials, *clock) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	f := NewFileCredentials(dir, ttl)
	f.now = c.now
	return f, c
}

func TestFileCredentialsRotation(t *testing.T) {
	dir := t.TempDir()
	writeCredentials(t, dir, "alice\n", "first-Passw0rd\r\n")
	f, clk := newTestCredentials(dir, 10*time.Second)
	ctx := context.Background()

	u, p, err := f.Credentials(ctx)
	if err != nil || u != "alice" || p != "first-Passw0rd" {
		t.Fatalf("got %q, %q, %v; want alice, first-Passw0rd (line breaks trimmed)", u, p, err)
	}
	writeCredentials(t, dir, "bob", "second-Passw0rd")
	clk.advance(9 * time.Second)
	if u, p, _ = f.Credentials(ctx); u != "alice" || p != "first-Passw0rd" {
		t.Errorf("within the TTL got %q, %q; want the cached alice, first-Passw0rd", u, p)
	}
	clk.advance(time.Second)
	if u, p, _ = f.Credentials(ctx); u != "bob" || p != "second-Passw0rd" {
		t.Errorf("after the TTL got %q, %q; want the rotated bob, second-Passw0rd", u, p)
	}
}

func TestFileCredentialsErrorsNameTheFileNotTheSecret(t *testing.T) {
	const secret = "Top-Secret-Passw0rd"
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		setup func(dir string)
		want  []string
	}{
		{"no directory", func(string) {}, []string{"username does not exist", "--nsx-credentials-dir"}},
		{"no username", func(dir string) { _ = os.WriteFile(filepath.Join(dir, PasswordFile), []byte(secret), 0o600) },
			[]string{"username does not exist", "--nsx-credentials-dir"}},
		{"no password", func(dir string) { _ = os.WriteFile(filepath.Join(dir, UsernameFile), []byte("alice"), 0o600) },
			[]string{"password does not exist"}},
		{"empty username", func(dir string) {
			_ = os.WriteFile(filepath.Join(dir, UsernameFile), []byte("\n"), 0o600)
			_ = os.WriteFile(filepath.Join(dir, PasswordFile), []byte(secret), 0o600)
		}, []string{"username is empty"}},
		{"password is a directory", func(dir string) {
			_ = os.WriteFile(filepath.Join(dir, UsernameFile), []byte("alice"), 0o600)
			_ = os.Mkdir(filepath.Join(dir, PasswordFile), 0o700)
		}, []string{"password"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "creds")
			if tc.name != "no directory" {
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			tc.setup(dir)
			f, _ := newTestCredentials(dir, time.Second)
			u, p, err := f.Credentials(ctx)
			if err == nil {
				t.Fatalf("no error (got %q, %q)", u, p)
			}
			if u != "" || p != "" {
				t.Errorf("credentials returned with the error: %q, %q", u, p)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q contains the password", err)
			}
		})
	}
}

func TestFileCredentialsPrintsNoSecret(t *testing.T) {
	const secret = "Top-Secret-Passw0rd"
	dir := t.TempDir()
	writeCredentials(t, dir, "alice", secret)
	f, _ := newTestCredentials(dir, time.Minute)
	if _, _, err := f.Credentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		if out := fmt.Sprintf(verb, f); strings.Contains(out, secret) || strings.Contains(out, "alice") {
			t.Errorf("%s prints %q", verb, out)
		}
		if out := fmt.Sprintf(verb, *f); strings.Contains(out, secret) {
			t.Errorf("%s of the value prints %q", verb, out)
		}
	}
}

// TestFileCredentialsRotateWithoutRestart drives a real client against the NSX simulator: a
// rotated Secret is used by the same client, and a rejected password never shows in its errors.
func TestFileCredentialsRotateWithoutRestart(t *testing.T) {
	nsx := simnsx.StartT(t, simnsx.Options{Transport: simnsx.HTTP,
		Sim: nsxsim.Options{Users: map[string]string{"alice": "Alice-Passw0rd", "bob": "Bob-Passw0rd"}, Seed: 1}})
	dir := t.TempDir()
	writeCredentials(t, dir, "alice", "Alice-Passw0rd")
	f, clk := newTestCredentials(dir, time.Second)
	for _, mode := range []nsxclient.AuthMode{nsxclient.AuthBasic, nsxclient.AuthSession} {
		t.Run(string(mode), func(t *testing.T) {
			c, err := nsx.NewClient(func(c *nsxclient.Config) { c.AuthMode, c.Credentials, c.MaxRetries = mode, f, -1 })
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			writeCredentials(t, dir, "alice", "Alice-Passw0rd")
			clk.advance(time.Minute)
			if _, err := c.ListSections(ctx, nsxclient.ListSectionsOptions{}); err != nil {
				t.Fatalf("with alice: %v", err)
			}
			const wrong = "Wrong-Passw0rd"
			writeCredentials(t, dir, "alice", wrong)
			clk.advance(time.Minute)
			_ = c.Logout(ctx) // a session would otherwise outlive the rotation
			_, err = c.ListSections(ctx, nsxclient.ListSectionsOptions{})
			if !nsxclient.IsUnauthorized(err) {
				t.Fatalf("with a wrong password: %v, want unauthorized", err)
			}
			if strings.Contains(err.Error(), wrong) {
				t.Errorf("error %q contains the password", err)
			}
			writeCredentials(t, dir, "bob", "Bob-Passw0rd")
			clk.advance(time.Minute)
			if _, err := c.ListSections(ctx, nsxclient.ListSectionsOptions{}); err != nil {
				t.Fatalf("after rotating to bob: %v", err)
			}
		})
	}
}
