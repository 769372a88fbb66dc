package operator

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// Defaults of the metrics endpoint's certificate files, as kubebuilder names them (and as
// cert-manager writes them into a Secret).
const (
	DefaultMetricsCertName = "tls.crt"
	DefaultMetricsKeyName  = "tls.key"
)

// metricsServerOptions builds the metrics endpoint the way current kubebuilder scaffolds do:
// HTTPS, and every request authenticated with the API server (TokenReview of its bearer token)
// and authorized there (SubjectAccessReview of GET on the non-resource URL /metrics), so only
// scrapers bound to the microseg-metrics-reader ClusterRole read it. The operator's own
// ClusterRole may create those reviews (controllers/rbac.go).
func metricsServerOptions(mo ManagerOptions) (metricsserver.Options, error) {
	o := metricsserver.Options{BindAddress: cmp.Or(mo.MetricsBindAddress, "0")}
	if o.BindAddress == "0" || mo.InsecureMetrics {
		return o, nil
	}
	o.SecureServing = true
	o.FilterProvider = filters.WithAuthenticationAndAuthorization
	if !mo.EnableHTTP2 {
		// HTTP/2's stream cancellation and rapid reset attacks (CVE-2023-44487, CVE-2023-39325)
		// are cheap to mount; scrapers do not need HTTP/2.
		o.TLSOpts = append(o.TLSOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	if mo.MetricsCertDir == "" {
		// controller-runtime generates a self-signed certificate: the traffic is encrypted, and
		// scrapers authenticate the operator by the Service they reach rather than by the
		// certificate (kube-controller-manager does the same by default).
		return o, nil
	}
	o.CertDir = mo.MetricsCertDir
	o.CertName = cmp.Or(mo.MetricsCertName, DefaultMetricsCertName)
	o.KeyName = cmp.Or(mo.MetricsKeyName, DefaultMetricsKeyName)
	// controller-runtime falls back to a self-signed certificate when a file is missing; a
	// directory given on purpose must hold them, or the scrapers' CA would silently stop
	// matching. It reloads the files when they change (certificate rotation needs no restart).
	var errs []error
	for _, name := range []string{o.CertName, o.KeyName} {
		if _, err := os.Stat(filepath.Join(o.CertDir, name)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return o, fmt.Errorf("the metrics certificate directory %s must hold %s and %s (mount the Secret there, or leave --metrics-cert-path empty for a self-signed certificate): %w",
			o.CertDir, o.CertName, o.KeyName, err)
	}
	return o, nil
}
