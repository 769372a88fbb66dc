package nsxconn

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Credential file names: the keys of the Secret mounted at --nsx-credentials-dir.
const (
	UsernameFile = "username"
	PasswordFile = "password"
)

// DefaultCredentialsTTL is how long FileCredentials reuses what it read. The kubelet refreshes a
// mounted Secret within about a minute of a change; a few seconds more changes nothing, and the
// client asks for credentials on every request in Basic mode.
const DefaultCredentialsTTL = 10 * time.Second

// FileCredentials is an nsxclient.CredentialsProvider that reads the NSX user name and password
// from the files "username" and "password" of a directory (a mounted Kubernetes Secret). The
// files are read again once the last read is TTL old, so a rotated Secret is used without a
// restart. Its errors name the files, never their content, and printing it (pointer or value,
// any verb) shows only the directory.
type FileCredentials struct {
	dir string
	now func() time.Time
	// cached holds what was read last in a closure, as nsxclient.StaticCredentials does: not even
	// a reflection-based printer can reach it.
	cached func(read func() (string, string, error)) (string, string, error)
}

// NewFileCredentials returns a provider reading dir; ttl <= 0 means DefaultCredentialsTTL.
func NewFileCredentials(dir string, ttl time.Duration) *FileCredentials {
	if ttl <= 0 {
		ttl = DefaultCredentialsTTL
	}
	f := &FileCredentials{dir: dir, now: time.Now}
	var (
		mu                 sync.Mutex
		username, password string
		readAt             time.Time
	)
	f.cached = func(read func() (string, string, error)) (string, string, error) {
		mu.Lock()
		defer mu.Unlock()
		if !readAt.IsZero() && f.now().Sub(readAt) < ttl {
			return username, password, nil
		}
		u, p, err := read()
		if err != nil {
			return "", "", err
		}
		username, password, readAt = u, p, f.now()
		return u, p, nil
	}
	return f
}

// Credentials returns the user name and password, from the files or from a read less than TTL ago.
func (f *FileCredentials) Credentials(context.Context) (string, string, error) {
	return f.cached(func() (string, string, error) {
		username, err := f.read(UsernameFile)
		if err != nil {
			return "", "", err
		}
		password, err := f.read(PasswordFile)
		if err != nil {
			return "", "", err
		}
		return username, password, nil
	})
}

// read returns one file's content without the line break an editor or `echo` leaves at the end.
// Errors name the path (os errors describe the call, never the content).
func (f *FileCredentials) read(name string) (string, error) {
	path := filepath.Join(f.dir, name)
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("NSX credentials: %s does not exist: mount a Secret with the keys %q and %q at the --nsx-credentials-dir directory (%s)", path, UsernameFile, PasswordFile, f.dir)
	case errors.Is(err, fs.ErrPermission):
		return "", fmt.Errorf("NSX credentials: %s is not readable by the operator: check the Secret volume's defaultMode and the pod's securityContext", path)
	case err != nil:
		return "", fmt.Errorf("NSX credentials: %w", err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", fmt.Errorf("NSX credentials: %s is empty: set the key %q of the credentials Secret", path, name)
	}
	return s, nil
}

// String shows where the credentials come from, never the credentials.
func (f *FileCredentials) String() string { return "FileCredentials{dir: " + f.dir + "}" }

// GoString makes %#v as safe as %v.
func (f *FileCredentials) GoString() string { return f.String() }

// Format makes every verb, %+v included, go through String.
func (f *FileCredentials) Format(s fmt.State, _ rune) { _, _ = s.Write([]byte(f.String())) }
