// Command microseg is the operator: it realizes ClusterSecurityPolicies and NetworkPolicies as NSX-T
// Distributed Firewall sections, rules and groups. The wiring lives in internal/operator, which
// the tests and the demo use too; this file only reads the flags.
package main

import (
	"flag"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/microseg/microseg/internal/operator"
)

func main() {
	flags := operator.BindFlags(flag.CommandLine)
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	setupLog := ctrl.Log.WithName("setup")

	opts, mgrOpts, err := flags.Options(ctrl.Log)
	if err != nil {
		setupLog.Error(err, "Invalid flags")
		os.Exit(2)
	}
	mgr, err := operator.NewManager(ctrl.GetConfigOrDie(), mgrOpts)
	if err != nil {
		setupLog.Error(err, "Unable to create the manager")
		os.Exit(1)
	}
	if _, err := operator.Setup(mgr, opts); err != nil {
		setupLog.Error(err, "Unable to set up the operator")
		os.Exit(1)
	}
	setupLog.Info("Starting the operator", "clusterID", opts.ClusterID, "nsx", opts.NSX.Host,
		"anchorSection", opts.AnchorSection, "dryRun", opts.DryRun)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setupLog.Error(err, "The manager stopped with an error")
		os.Exit(1)
	}
}
