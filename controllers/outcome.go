package controllers

import (
	"k8s.io/apimachinery/pkg/types"

	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/ownership"
)

// Outcome is what one sync learned about every policy at once; status and events are computed
// from it by their own controllers. The DFW reconciler publishes each outcome once and never
// changes it afterwards. An outcome that has not reached NSX yet (Planned false, no Err) is the
// interim one published right after compiling.
type Outcome struct {
	// Model is the compiled DFW.
	Model *ir.Model
	// Sources are the policies the model was compiled from, as they were listed: a status or an
	// event is computed from this outcome only for a policy at that UID and generation.
	Sources map[ir.ObjectRef]Source
	// Input is what the model was compiled from (the cache's lists, never changed): the status
	// controller evaluates Staged policies' impact on it.
	Input compile.Input
	// DryRun: the plan was computed and nothing was written.
	DryRun bool
	// Planned: the sync read NSX and planned the change; Wrote: the plan had steps.
	Planned, Wrote bool
	// Problems are the plan's per-object problems (InvalidReference).
	Problems []nsxsync.Problem
	// Err is what stopped the sync (reading, planning or applying); nil when it got through.
	Err error
	// Converged: after the sync, NSX holds exactly the model (a fresh plan is empty).
	Converged bool
	// Owned indexes microseg's objects in NSX after the sync (nil when NSX was not read).
	Owned *ownership.Index
	// FirstSync: the operator's first sync that reached NSX.
	FirstSync bool
}

// Source identifies the version of a policy a model was compiled from.
type Source struct {
	UID        types.UID
	Generation int64
}

// compiledFrom reports whether the outcome was compiled from this version of the object.
func (o *Outcome) compiledFrom(obj ir.ObjectRef, uid types.UID, generation int64) bool {
	s, ok := o.Sources[obj]
	return ok && s.UID == uid && s.Generation == generation
}

// problems returns the plan's problems about one object.
func (o *Outcome) problems(obj ir.ObjectRef) []nsxsync.Problem {
	var out []nsxsync.Problem
	for _, p := range o.Problems {
		if p.Object == obj {
			out = append(out, p)
		}
	}
	return out
}
