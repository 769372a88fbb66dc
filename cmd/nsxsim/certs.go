package main

import (
	"crypto/tls"
	"net"
	"time"

	"github.com/microseg/microseg/internal/certs"
)

// serverCertificate is a generated CA and the server certificate it signed.
type serverCertificate struct {
	server tls.Certificate
	caPEM  []byte
}

// newServerCertificate makes a CA and a server certificate valid for host, localhost, 127.0.0.1
// and ::1, both kept in memory only; the CA certificate (not its key) is returned as PEM so that
// clients can verify the server instead of skipping verification.
func newServerCertificate(host string, now time.Time) (serverCertificate, error) {
	ca, err := certs.NewCA("nsxsim CA", now.Add(-time.Hour), now.Add(365*24*time.Hour))
	if err != nil {
		return serverCertificate{}, err
	}
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if ip := net.ParseIP(host); (ip != nil && !ip.IsUnspecified()) || (ip == nil && host != "") {
		hosts = append(hosts, host)
	}
	leaf, err := ca.Server("nsxsim", hosts...)
	if err != nil {
		return serverCertificate{}, err
	}
	leaf.Certificate = append(leaf.Certificate, ca.Cert.Raw)
	return serverCertificate{server: leaf, caPEM: ca.PEM}, nil
}
