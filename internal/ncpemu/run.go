package ncpemu

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// Run runs the emulator standalone, in a manager of its own that serves no metrics or probes (so
// it never competes for a port with the operator), until ctx ends.
func (e *Emulator) Run(ctx context.Context, restConfig *rest.Config) error {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		Logger:  ctrl.Log.WithName(controllerName),
	})
	if err != nil {
		return fmt.Errorf("ncpemu: creating the manager: %w", err)
	}
	if err := e.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("ncpemu: %w", err)
	}
	return mgr.Start(ctx)
}
