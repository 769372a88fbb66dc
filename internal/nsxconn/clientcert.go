package nsxconn

import (
	"crypto/tls"
	"fmt"
	"time"

	"github.com/go-logr/logr"
)

// ClientCertificate serves the NSX client certificate (a principal identity) from a certificate
// and a key file, for nsxclient.Config.GetClientCertificate, reloaded when the files change (see
// fileBacked): a rotated certificate is used at the next handshake without a restart.
type ClientCertificate struct {
	*fileBacked[*tls.Certificate]
}

// NewClientCertificate loads the pair once, so that a wrong path or a mismatched pair fails at
// start with a clear error. interval <= 0 means DefaultFileCheckInterval.
func NewClientCertificate(certFile, keyFile string, interval time.Duration, log logr.Logger) (*ClientCertificate, error) {
	load := func() (*tls.Certificate, error) {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			// The tls error describes the PEM blocks, never the key material.
			return nil, fmt.Errorf("loading the NSX client certificate from --nsx-client-cert %s and --nsx-client-key %s: %w", certFile, keyFile, err)
		}
		return &cert, nil
	}
	f, err := newFileBacked("NSX client certificate", []string{certFile, keyFile}, load, interval, log)
	if err != nil {
		return nil, err
	}
	return &ClientCertificate{f}, nil
}

// GetClientCertificate returns the current certificate; it has the signature of
// tls.Config.GetClientCertificate.
func (c *ClientCertificate) GetClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return c.get(), nil
}
