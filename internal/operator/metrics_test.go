package operator

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestMetricsServerOptions(t *testing.T) {
	if o, err := metricsServerOptions(ManagerOptions{}); err != nil || o.BindAddress != "0" {
		t.Errorf("the zero ManagerOptions serve metrics on %q (error %v), want none", o.BindAddress, err)
	}

	o, err := metricsServerOptions(ManagerOptions{MetricsBindAddress: ":8443"})
	if err != nil {
		t.Fatal(err)
	}
	if !o.SecureServing || o.FilterProvider == nil {
		t.Errorf("metrics are not secure by default: HTTPS %v, authentication filter %v", o.SecureServing, o.FilterProvider != nil)
	}
	if o.CertDir != "" {
		t.Errorf("cert dir %q without --metrics-cert-path, want controller-runtime's self-signed fallback", o.CertDir)
	}
	if got := nextProtos(o.TLSOpts); !slices.Equal(got, []string{"http/1.1"}) {
		t.Errorf("ALPN %v, want HTTP/1.1 only unless HTTP/2 is enabled", got)
	}
	if o, _ := metricsServerOptions(ManagerOptions{MetricsBindAddress: ":8443", EnableHTTP2: true}); slices.Equal(nextProtos(o.TLSOpts), []string{"http/1.1"}) {
		t.Error("EnableHTTP2 still restricts ALPN to HTTP/1.1")
	}

	o, err = metricsServerOptions(ManagerOptions{MetricsBindAddress: ":8080", InsecureMetrics: true})
	if err != nil || o.SecureServing || o.FilterProvider != nil {
		t.Errorf("InsecureMetrics: HTTPS %v, filter %v, error %v; want plain HTTP", o.SecureServing, o.FilterProvider != nil, err)
	}
}

func TestMetricsCertDir(t *testing.T) {
	dir := t.TempDir()
	_, err := metricsServerOptions(ManagerOptions{MetricsBindAddress: ":8443", MetricsCertDir: dir})
	if err == nil || !strings.Contains(err.Error(), "must hold tls.crt and tls.key") {
		t.Errorf("an empty --metrics-cert-path gives %v, want an error naming the files", err)
	}
	for _, f := range []string{"cert.pem", "key.pem"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	o, err := metricsServerOptions(ManagerOptions{MetricsBindAddress: ":8443", MetricsCertDir: dir, MetricsCertName: "cert.pem", MetricsKeyName: "key.pem"})
	if err != nil {
		t.Fatal(err)
	}
	if o.CertDir != dir || o.CertName != "cert.pem" || o.KeyName != "key.pem" {
		t.Errorf("certificate files %s/{%s,%s}", o.CertDir, o.CertName, o.KeyName)
	}
}

func TestFlagsMetrics(t *testing.T) {
	_, mo, err := parseFlags(t, "--nsx-url=https://nsx", "--cluster-id=c", "--nsx-credentials-dir=/c",
		"--metrics-secure=false", "--metrics-bind-address=:8080", "--metrics-cert-path=/certs", "--metrics-cert-name=a", "--metrics-cert-key=b", "--enable-http2")
	if err != nil {
		t.Fatal(err)
	}
	want := ManagerOptions{MetricsBindAddress: ":8080", InsecureMetrics: true, MetricsCertDir: "/certs", MetricsCertName: "a", MetricsKeyName: "b",
		EnableHTTP2: true, HealthProbeBindAddress: ":8081"}
	if mo != want {
		t.Errorf("manager options %+v, want %+v", mo, want)
	}
}

func nextProtos(opts []func(*tls.Config)) []string {
	c := &tls.Config{NextProtos: []string{"h2"}}
	for _, o := range opts {
		o(c)
	}
	return c.NextProtos
}
