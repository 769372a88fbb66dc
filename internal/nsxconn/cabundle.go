package nsxconn

import (
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"github.com/go-logr/logr"
)

// CABundle serves the CA bundle that signs the NSX Manager's certificate (--nsx-ca-file), for
// nsxclient.Config.GetCACertPEM, reloaded when the file changes (see fileBacked): a manager
// certificate re-issued by a new CA is trusted at the next connection once the bundle names it,
// without a restart.
type CABundle struct {
	*fileBacked[[]byte]
}

// NewCABundle loads the bundle once, so that a wrong path or a file without certificates fails at
// start with a clear error. interval <= 0 means DefaultFileCheckInterval.
func NewCABundle(file string, interval time.Duration, log logr.Logger) (*CABundle, error) {
	load := func() ([]byte, error) {
		pem, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--nsx-ca-file: %w", err)
		}
		if !x509.NewCertPool().AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--nsx-ca-file %s holds no PEM-encoded certificate: pass the CA bundle that signed the NSX Manager certificate", file)
		}
		return pem, nil
	}
	f, err := newFileBacked("NSX CA bundle (--nsx-ca-file)", []string{file}, load, interval, log)
	if err != nil {
		return nil, err
	}
	return &CABundle{f}, nil
}

// PEM returns the current bundle; it has the signature of nsxclient.Config.GetCACertPEM.
func (b *CABundle) PEM() ([]byte, error) { return b.get(), nil }
