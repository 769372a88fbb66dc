package nsxconn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
)

// writeKeyPair writes a fresh self-signed certificate with the given serial and its key.
func writeKeyPair(t *testing.T, certFile, keyFile string, serial int64) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "microseg"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func serialOf(t *testing.T, c *ClientCertificate) int64 {
	t.Helper()
	cert, err := c.GetClientCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf.SerialNumber.Int64()
}

func TestClientCertificateReloadsRotatedFiles(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	writeKeyPair(t, certFile, keyFile, 1)
	c, err := NewClientCertificate(certFile, keyFile, 10*time.Second, logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now()}
	c.now = clk.now
	if got := serialOf(t, c); got != 1 {
		t.Fatalf("serial %d, want 1", got)
	}

	writeKeyPair(t, certFile, keyFile, 2)
	// Make the rotation visible even on file systems with coarse modification times.
	later := time.Now().Add(time.Minute)
	for _, f := range []string{certFile, keyFile} {
		if err := os.Chtimes(f, later, later); err != nil {
			t.Fatal(err)
		}
	}
	if got := serialOf(t, c); got != 1 {
		t.Errorf("before the check interval: serial %d, want the cached 1", got)
	}
	clk.advance(10 * time.Second)
	if got := serialOf(t, c); got != 2 {
		t.Errorf("after the rotation: serial %d, want 2", got)
	}

	// A half-written rotation keeps the last good pair.
	if err := os.WriteFile(keyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	clk.advance(time.Minute)
	if got := serialOf(t, c); got != 2 {
		t.Errorf("with a broken key file: serial %d, want the last good 2", got)
	}
}

func TestClientCertificateFailsAtStart(t *testing.T) {
	dir := t.TempDir()
	if _, err := NewClientCertificate(filepath.Join(dir, "missing.crt"), filepath.Join(dir, "missing.key"), 0, logr.Discard()); err == nil {
		t.Error("no error for missing files")
	}
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	writeKeyPair(t, certFile, keyFile, 1)
	otherCert, otherKey := filepath.Join(dir, "other.crt"), filepath.Join(dir, "other.key")
	writeKeyPair(t, otherCert, otherKey, 2)
	if _, err := NewClientCertificate(certFile, otherKey, 0, logr.Discard()); err == nil {
		t.Error("no error for a certificate and a key that do not match")
	}
}
