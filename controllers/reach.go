package controllers

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsync"
)

// reached is a sync's outcome and what its apply did.
type reached struct {
	Outcome
	applied nsxsync.ApplyResult
}

// reachNSX brings NSX to the model through the sync path (nsxsync.Syncer), which decides how much
// of NSX to read: everything at start and after a failure, what may have changed at a periodic
// resync, only what its own writes need for a sync Kubernetes changes triggered — and nothing at
// all when those changes leave the compiled model as it is (pods come and go inside tag-based
// groups, whose membership NSX maintains from NCP's port tags), in which case the last sync's
// outcome stands. Drift in NSX is found by the periodic resync.
func (r *DFWReconciler) reachNSX(ctx context.Context, model *ir.Model, pending int64) (*reached, error) {
	logger := log.FromContext(ctx)
	run, err := r.syncer.Sync(ctx, model, pending > 0)
	res := run.Result
	o := &reached{Outcome: Outcome{Model: model, DryRun: r.cfg.DryRun, Planned: res.Plan != nil, Wrote: res.Summary.Steps > 0,
		Problems: res.Problems, Err: err, Converged: res.Converged, Owned: res.Owned}}
	if run.Skipped {
		logger.V(1).Info("The Kubernetes changes leave the compiled DFW as it is; NSX not contacted", "pending", pending)
		return o, nil
	}
	o.applied = res.Applied
	switch {
	case err != nil:
		return o, err
	case r.cfg.DryRun:
		logDryRun(logger, res.Summary)
	case res.Applied.StepsTotal > 0:
		logger.Info("NSX updated", "api", res.API, "read", run.Mode.String(), "steps", res.Summary.Ops, "guarded", res.Summary.Guarded,
			"reads", res.Reads, "writes", res.Applied.Writes, "staleRetries", res.Applied.StaleRetries)
	default:
		logger.V(1).Info("NSX holds the compiled DFW", "read", run.Mode.String(), "reads", res.Reads)
	}
	for _, w := range res.Applied.Warnings {
		logger.Info("NSX apply warning", "warning", w)
	}
	if res.Owned != nil {
		recordOwned(res.Owned)
	}
	return o, nil
}
