package controllers

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// nsxAPI says which NSX API the operator speaks: 1 for the API in use (manager or policy), the
// other absent; nothing before the first sync chose it (--nsx-api auto).
var nsxAPI = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Name: "microseg_nsx_api",
	Help: "The NSX API microseg programs the DFW through: 1 for the api in use (manager or policy), chosen by --nsx-api (auto: where NCP put the cluster's pod ports).",
}, []string{"api"})

func init() { metrics.Registry.MustRegister(nsxAPI) }

// RecordNSXAPI sets microseg_nsx_api to the API in use.
func RecordNSXAPI(api string) {
	nsxAPI.Reset()
	nsxAPI.WithLabelValues(api).Set(1)
}
