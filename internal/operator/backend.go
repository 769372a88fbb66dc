package operator

import (
	"github.com/go-logr/logr"

	"github.com/microseg/microseg/controllers"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/nsxsync/auto"
	"github.com/microseg/microseg/internal/nsxsync/manager"
	"github.com/microseg/microseg/internal/nsxsync/policy"
	"github.com/microseg/microseg/nsxclient"
)

// newBackend is the sync path's backend for --nsx-api: it chooses the API on its first read
// (auto looks where NCP put the cluster's pod ports), says which in the log and in the
// microseg_nsx_api metric, and, on the Policy API, deletes what microseg left in the Manager API
// once the Policy API holds the model. The configuration of both APIs is checked here, before
// NSX is contacted.
func newBackend(nsx *nsxclient.Client, opts Options, log logr.Logger) (nsxsync.Backend, error) {
	pcfg := opts.Policy
	pcfg.ClusterID = opts.ClusterID
	if _, err := policy.New(nsx, pcfg); err != nil {
		return nil, err
	}
	mcfg := manager.Config{ClusterID: opts.ClusterID, Anchor: opts.AnchorSection, Limits: opts.Settings.Limits,
		Verify: nsxsync.Verify{Window: opts.VerifyWindow, Period: opts.ResyncPeriod}}
	return auto.New(nsx, auto.Config{
		Mode:      opts.NSXAPI,
		ClusterID: opts.ClusterID,
		Manager:   func() (nsxsync.Backend, error) { return manager.Over(nsx, mcfg) },
		Policy:    func() (nsxsync.Backend, error) { return policy.New(nsx, pcfg) },
		ManagerCleanup: func() (nsxsync.Backend, error) {
			return manager.Over(nsx, manager.Config{ClusterID: opts.ClusterID, Limits: opts.Settings.Limits})
		},
		OnChosen: func(api, reason string) {
			log.Info("NSX API chosen", "api", api, "reason", reason)
			controllers.RecordNSXAPI(api)
		},
	})
}
