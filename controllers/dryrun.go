package controllers

import (
	"github.com/go-logr/logr"

	"github.com/microseg/microseg/internal/nsxsync"
)

// logDryRun logs what a sync would write.
func logDryRun(logger logr.Logger, p nsxsync.Summary) {
	if p.Steps == 0 {
		logger.Info("Dry run: NSX already matches the policies; nothing to write")
		return
	}
	logger.Info("Dry run: NSX does not match the policies; these writes would fix it (none made)",
		"steps", p.Ops, "guarded", p.Guarded, "estimatedCost", p.EstimatedCost.String())
	for i, s := range p.Details {
		logger.V(1).Info("Dry run: planned step", "n", i+1, "op", s.Op, "key", s.Key, "rule", s.Rule, "reason", s.Reason)
	}
}
