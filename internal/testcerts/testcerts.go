// Package testcerts issues throwaway certificates for TLS tests (internal/certs, failing the test
// on error): a CA valid for an hour around now, server certificates for 127.0.0.1 and client
// certificates (NSX principal identities). Standard library only, so the NSX client's own tests
// can use it too.
package testcerts

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/certs"
)

// CA is a certificate authority valid for an hour around now.
type CA struct {
	*certs.CA
}

// NewCA creates a CA with the given common name.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	ca, err := certs.NewCA(name, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return &CA{ca}
}

// Server issues a server certificate for 127.0.0.1.
func (ca *CA) Server(t testing.TB, cn string) tls.Certificate {
	t.Helper()
	c, err := ca.CA.Server(cn, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Client issues a client-auth certificate with subject CN cn.
func (ca *CA) Client(t testing.TB, cn string) tls.Certificate {
	t.Helper()
	c, err := ca.CA.Client(cn)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// PEM encodes a certificate as PEM.
func PEM(cert *x509.Certificate) []byte { return certs.PEM(cert) }
