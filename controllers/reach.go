package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsync"
)

// lastSync is the last sync that got NSX to a model (or, in dry-run, planned it).
type lastSync struct {
	fingerprint [sha256.Size]byte
	outcome     Outcome
	at          time.Time
}

// reached is a sync's outcome and what its apply did.
type reached struct {
	Outcome
	applied nsxsync.ApplyResult
}

// reachNSX brings NSX to the model through the sync path, or skips NSX when that is certain to
// change nothing.
//
// Most Kubernetes events do not change the compiled DFW: pods come and go inside tag-based
// groups, whose membership NSX maintains from NCP's port tags. When the model is the one the
// last sync already brought NSX to, reading NSX again would only cost NSX Manager calls (it rate
// limits every client), so the outcome of that sync stands. Drift in NSX is still found by the
// periodic resync: a sync with no Kubernetes change pending, or one past the resync period,
// always reads NSX.
func (r *DFWReconciler) reachNSX(ctx context.Context, model *ir.Model, pending int64) (*reached, error) {
	logger := log.FromContext(ctx)
	fp, ok := fingerprint(model)
	if l := r.last; ok && l != nil && pending > 0 && l.fingerprint == fp && time.Since(l.at) < r.cfg.ResyncPeriod {
		logger.V(1).Info("The Kubernetes changes leave the compiled DFW as it is; NSX not contacted", "pending", pending)
		o := &reached{Outcome: l.outcome}
		o.Model = model
		return o, nil
	}
	r.last = nil
	mode := nsxsync.ReadIncremental
	if r.lastFailed || !r.synced.Load() {
		mode = nsxsync.ReadFull
	}
	res, err := nsxsync.Sync(ctx, r.cfg.NSX, model, nsxsync.Options{DryRun: r.cfg.DryRun, Read: mode})
	o := &reached{Outcome: Outcome{Model: model, DryRun: r.cfg.DryRun, Planned: res.Plan != nil, Wrote: res.Summary.Steps > 0,
		Problems: res.Problems, Err: err, Converged: res.Converged, Owned: res.Owned}, applied: res.Applied}
	switch {
	case err != nil:
		return o, err
	case r.cfg.DryRun:
		logDryRun(logger, res.Summary)
	case res.Applied.StepsTotal > 0:
		logger.Info("NSX updated", "api", res.API, "steps", res.Summary.Ops, "guarded", res.Summary.Guarded,
			"writes", res.Applied.Writes, "staleRetries", res.Applied.StaleRetries)
	}
	for _, w := range res.Applied.Warnings {
		logger.Info("NSX apply warning", "warning", w)
	}
	if res.Owned != nil {
		recordOwned(res.Owned)
	}
	if ok && (r.cfg.DryRun || o.Converged) {
		r.last = &lastSync{fingerprint: fp, outcome: o.Outcome, at: time.Now()}
	}
	return o, nil
}

// untilResync is how long until the periodic resync is due.
func (r *DFWReconciler) untilResync() time.Duration {
	if r.last == nil {
		return r.cfg.ResyncPeriod
	}
	return max(r.cfg.ResyncPeriod-time.Since(r.last.at), time.Second)
}

// fingerprint identifies a model by content (the compiler's output is deterministic).
func fingerprint(m *ir.Model) ([sha256.Size]byte, bool) {
	b, err := json.Marshal(m)
	if err != nil {
		return [sha256.Size]byte{}, false
	}
	return sha256.Sum256(b), true
}
