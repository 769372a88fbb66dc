package nsxsync

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/ownership"
)

// Options configure one Sync.
type Options struct {
	// DryRun stops after planning: nothing is written.
	DryRun bool
	// Read is the mode of the first read (see ReadMode; Syncer chooses it for the operator). The
	// read-back after a write is always ReadBack.
	Read ReadMode
	// PreApply, when set, is asked before anything is written (and before a dry run stops). An
	// error refuses the change: NSX is left untouched and Sync returns a *RefusedError wrapping
	// it, with the plan in the Result. The NSX budget check hooks in here.
	PreApply func(desired *ir.Model, p Plan) error
}

// Result is what one Sync did.
type Result struct {
	// API is the backend's (Backend.API).
	API string `json:"api"`
	// DryRun: the plan was computed and nothing was written.
	DryRun bool `json:"dryRun,omitempty"`
	// Plan is the plan computed against what NSX held; nil when the sync stopped before.
	Plan Plan `json:"-"`
	// Summary and Problems are the plan's.
	Summary  Summary   `json:"summary"`
	Problems []Problem `json:"problems,omitempty"`
	// Applied is what Apply did (zero when nothing was applied).
	Applied ApplyResult `json:"applied"`
	// Reads and Writes count every NSX call of the sync: reads of the state, apply's calls and
	// the read-back.
	Reads  int64 `json:"reads"`
	Writes int64 `json:"writes"`
	// ReadBack: something was written, so NSX was read again and the model re-planned.
	ReadBack bool `json:"readBack,omitempty"`
	// Converged: NSX holds exactly the model after the sync (a fresh plan is empty). In a dry
	// run, whether the plan was empty.
	Converged bool `json:"converged"`
	// Owned indexes microseg's objects in NSX after the sync (the read-back when there was one,
	// otherwise the first read); nil when the first read failed.
	Owned *ownership.Index `json:"-"`
}

// RefusedError is returned when Options.PreApply refused the change.
type RefusedError struct{ Err error }

func (e *RefusedError) Error() string { return "not applied: " + e.Err.Error() }
func (e *RefusedError) Unwrap() error { return e.Err }

// syncs counts Sync calls in this process.
var syncs atomic.Int64

// Syncs is the number of Sync calls in this process so far. Tests of every caller assert that it
// moves, which proves they run this sync path and not an orchestration of their own.
func Syncs() int64 { return syncs.Load() }

// Sync brings NSX to desired through b: read → plan → (dry run: stop) → apply → read back and
// re-plan (only when the plan wrote something). A state that already matches the model costs
// only the first read. On error, the Result holds what was done so far.
func Sync(ctx context.Context, b Backend, desired *ir.Model, opts Options) (Result, error) {
	syncs.Add(1)
	res := Result{API: b.API(), DryRun: opts.DryRun}
	if desired == nil {
		return res, errors.New("nsxsync: no desired model")
	}
	st, err := b.Read(ctx, opts.Read)
	if st != nil {
		res.Reads += st.Calls()
	}
	if err != nil {
		return res, err
	}
	res.API = b.API() // a backend that chooses its API does so on its first read
	res.Owned = st.Owned()
	p, err := b.Plan(desired, st)
	if err != nil {
		return res, err
	}
	res.Plan, res.Summary, res.Problems = p, p.Summary(), p.Problems()
	if opts.PreApply != nil {
		if err := opts.PreApply(desired, p); err != nil {
			return res, &RefusedError{Err: err}
		}
	}
	if opts.DryRun || p.Empty() {
		res.Converged = p.Empty()
		return res, nil
	}
	res.Applied, err = b.Apply(ctx, p)
	res.Reads += res.Applied.Reads
	res.Writes += res.Applied.Writes
	if err != nil {
		return res, err
	}
	// Read back what NSX now holds: proof that the change landed (nobody edited NSX in between),
	// and a fresh view of whatever a stale revision invalidated.
	res.ReadBack = true
	after, err := b.Read(ctx, ReadBack)
	if after != nil {
		res.Reads += after.Calls()
	}
	if err != nil {
		return res, fmt.Errorf("reading NSX back after the change: %w", err)
	}
	res.Owned = after.Owned()
	again, err := b.Plan(desired, after)
	res.Converged = err == nil && again.Empty()
	return res, nil
}
