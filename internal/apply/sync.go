package apply

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/plan"
	"github.com/microseg/microseg/nsxclient"
)

// GuardFunc computes the guard for a desired model (the compiler's deny projection of it). Sync
// calls it only when the plan needs a guard.
type GuardFunc func(desired *ir.Model) (*plan.Guard, error)

// SyncOptions configure Sync.
type SyncOptions struct {
	// Plan configures the planner (ClusterID, AnchorSectionID, Cost); its Guard is ignored:
	// Sync asks guardFn when one is needed.
	Plan plan.Options
	// Apply configures the apply step; its ClusterID defaults to the plan's.
	Apply Options
	// ReadConcurrency is ReadOptions.Concurrency.
	ReadConcurrency int
}

// SyncResult is the plan that was applied and what applying it did (Reads include reading the
// state).
type SyncResult struct {
	Plan *plan.Plan
	Result
}

// Sync reads NSX's state, plans the change to desired, and applies it. A state that already
// matches the model costs only the reads: the plan is empty.
func Sync(ctx context.Context, client *nsxclient.Client, desired *ir.Model, guardFn GuardFunc, opts SyncOptions) (SyncResult, error) {
	var out SyncResult
	if desired == nil {
		return out, errors.New("apply: no desired model")
	}
	clusterID := cmp.Or(opts.Plan.ClusterID, desired.ClusterID)
	var calls counter
	st, err := readState(ctx, client, ReadOptions{ClusterID: clusterID, Concurrency: cmp.Or(opts.ReadConcurrency, 4)}, &calls)
	if err != nil {
		out.Reads = calls.reads.Load()
		return out, err
	}
	popts := opts.Plan
	popts.ClusterID = clusterID
	popts.Guard = nil
	p, err := plan.Compute(desired, st, popts)
	if errors.Is(err, plan.ErrGuardRequired) && guardFn != nil {
		if popts.Guard, err = guardFn(desired); err != nil {
			return out, fmt.Errorf("apply: computing the guard: %w", err)
		}
		if popts.Guard == nil {
			return out, errors.New("apply: the guard function returned no guard")
		}
		p, err = plan.Compute(desired, st, popts)
	}
	if err != nil {
		out.Reads = calls.reads.Load()
		return out, err
	}
	out.Plan = p
	a := newApplier(client, p, opts.Apply, &calls)
	out.Result, err = a.run(ctx, p)
	return out, err
}
