package controllers

import "github.com/go-logr/logr"

// logDryRun logs what a sync would write.
func logDryRun(logger logr.Logger, o *Outcome) {
	if o.Plan.Empty() {
		logger.Info("dry run: NSX already matches the policies; nothing to write")
		return
	}
	logger.Info("dry run: NSX does not match the policies; these writes would fix it (none made)",
		"steps", o.Plan.Counts(), "guarded", o.Plan.Guarded, "estimatedCost", o.Plan.EstimatedCost.String())
	for i, s := range o.Plan.Steps {
		logger.V(1).Info("dry run: planned step", "n", i+1, "op", s.Op, "key", s.Key, "rule", s.RuleKey, "reason", s.Reason)
	}
}
