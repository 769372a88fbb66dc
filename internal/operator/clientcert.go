package operator

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/go-logr/logr"
)

// DefaultCertCheckInterval is how often ClientCertificate looks at the files for a new certificate.
const DefaultCertCheckInterval = 10 * time.Second

// ClientCertificate serves the NSX client certificate (a principal identity) from a certificate
// and a key file, for nsxclient.Config.GetClientCertificate. At most every interval it compares
// the files' modification times and sizes with the last load and reloads them when they changed,
// so a rotated certificate (cert-manager, a re-mounted Secret) is used at the next handshake
// without a restart. A reload that fails (the key written before the certificate, say) keeps the
// last good pair and is logged; the next check tries again.
type ClientCertificate struct {
	certFile, keyFile string
	interval          time.Duration
	now               func() time.Time
	log               logr.Logger

	mu        sync.Mutex
	cert      *tls.Certificate
	loaded    [2]fileStamp
	checkedAt time.Time
}

type fileStamp struct {
	mod  time.Time
	size int64
}

// NewClientCertificate loads the pair once, so that a wrong path or a mismatched pair fails at
// start with a clear error. interval <= 0 means DefaultCertCheckInterval.
func NewClientCertificate(certFile, keyFile string, interval time.Duration, log logr.Logger) (*ClientCertificate, error) {
	if interval <= 0 {
		interval = DefaultCertCheckInterval
	}
	c := &ClientCertificate{certFile: certFile, keyFile: keyFile, interval: interval, now: time.Now, log: log}
	if err := c.reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// GetClientCertificate returns the current certificate; it has the signature of
// tls.Config.GetClientCertificate.
func (c *ClientCertificate) GetClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now().Sub(c.checkedAt) >= c.interval {
		if err := c.reload(); err != nil {
			c.log.Error(err, "Keeping the previous NSX client certificate")
		}
	}
	return c.cert, nil
}

// reload loads the pair if the files changed since the last load. Callers hold mu (or own c).
func (c *ClientCertificate) reload() error {
	c.checkedAt = c.now()
	stamps, err := stampFiles(c.certFile, c.keyFile)
	if err != nil {
		return err
	}
	if c.cert != nil && stamps == c.loaded {
		return nil
	}
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		// The tls error describes the PEM blocks, never the key material.
		return fmt.Errorf("loading the NSX client certificate from --nsx-client-cert %s and --nsx-client-key %s: %w", c.certFile, c.keyFile, err)
	}
	c.cert, c.loaded = &cert, stamps
	return nil
}

func stampFiles(certFile, keyFile string) ([2]fileStamp, error) {
	var out [2]fileStamp
	for i, f := range []string{certFile, keyFile} {
		st, err := os.Stat(f)
		if err != nil {
			return out, fmt.Errorf("NSX client certificate: %w", err)
		}
		out[i] = fileStamp{mod: st.ModTime(), size: st.Size()}
	}
	return out, nil
}
