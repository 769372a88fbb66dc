// Package nsxsync is microseg's one sync path: read what NSX holds, plan the change to the
// compiled model, stop there on a dry run, apply, read back and re-plan to decide whether NSX has
// converged. Sync runs that sequence over a Backend (the NSX API it speaks: the Manager API
// today, the Policy API next), and every caller — the operator, kubectl-microseg simulate, the
// pipeline behind the conformance suites, the demo — goes through it. The design is in
// docs/architecture.md ("The sync path").
package nsxsync

import (
	"context"
	"time"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/ownership"
)

// Backend is one NSX API: how to read what NSX holds, plan a change and apply it. Configuration
// that belongs to the API (cluster id, anchor, limits, cost model) is given when the backend is
// constructed. State and Plan are the backend's own; the sync path sees them only through the
// small interfaces below.
type Backend interface {
	// API names the NSX API ("manager", "policy"), for logs and metrics.
	API() string
	// Read reads what NSX holds of microseg's objects (and what planning needs besides). mode
	// says how much may come from a backend's own cache.
	Read(ctx context.Context, mode ReadMode) (State, error)
	// Plan computes the writes that turn current into desired. It is pure: no I/O. An error
	// the operator's configuration causes is a *ConfigError.
	Plan(desired *ir.Model, current State) (Plan, error)
	// Apply executes a plan computed by this backend. It stops at the first error and reports
	// what it did so far; plans are idempotent, so the next sync re-plans from where NSX is.
	Apply(ctx context.Context, p Plan) (ApplyResult, error)
}

// ReadMode says how much of a read may come from a backend's realized-state cache: what the
// backend knows NSX holds, built by a full read and kept up to date from the replies of its own
// writes. A backend without a cache reads everything in every mode; a backend whose cache is not
// valid (never built, or dropped after a failed apply) reads everything too. docs/architecture.md
// ("The sync path") says how a backend's cache must behave.
type ReadMode int

const (
	// ReadFull reads everything from NSX and rebuilds the cache: the first sync (a restart or a
	// leader change starts with it), and the sync after a failed one.
	ReadFull ReadMode = iota
	// ReadIncremental is a periodic resync: detect cheaply what others changed since the last
	// read and re-read only that (for instance, the sections whose _revision moved), plus one
	// step of the rolling verification of the objects that carry no cheap change signal, paced
	// so that each is re-read within the backend's verification window.
	ReadIncremental
	// ReadCached is a sync that Kubernetes changes triggered between resyncs: plan against the
	// cache, reading nothing.
	ReadCached
	// ReadBack follows the backend's own writes (the sync path's read-back): confirm cheaply that
	// what it wrote landed as the replies said (the _revision of what it wrote), and re-read
	// what a stale-revision reply or a failed check invalidated.
	ReadBack
)

func (m ReadMode) String() string {
	switch m {
	case ReadIncremental:
		return "incremental"
	case ReadCached:
		return "cached"
	case ReadBack:
		return "back"
	}
	return "full"
}

// State is what one Read found.
type State interface {
	// Owned indexes microseg's objects in the state by IR key.
	Owned() *ownership.Index
	// Calls is the number of NSX calls the read made.
	Calls() int64
}

// Plan is a backend's plan.
type Plan interface {
	// Empty reports whether the plan writes nothing.
	Empty() bool
	// Summary describes the plan for logs, results and dry runs.
	Summary() Summary
	// Problems are per-object issues found while planning (InvalidReference).
	Problems() []Problem
}

// Summary describes a plan in the backend's own terms.
type Summary struct {
	// Steps is the number of NSX writes planned.
	Steps int `json:"steps"`
	// Ops counts the steps per operation (the backend's names, e.g. CreateSection).
	Ops map[string]int `json:"ops,omitempty"`
	// Guarded: the change is wrapped in a guard (see docs/architecture.md, "The guard").
	Guarded bool `json:"guarded,omitempty"`
	// EstimatedCost is the backend's estimate of the time NSX takes for the writes.
	EstimatedCost time.Duration `json:"estimatedCost"`
	// Details lists the steps in order.
	Details []Step `json:"details,omitempty"`
}

// Step is one planned write, for logs.
type Step struct {
	Op     string `json:"op"`
	Key    string `json:"key,omitempty"`
	Rule   string `json:"rule,omitempty"`
	Reason string `json:"reason"`
}

// Problem is something about one source object that the operator reports on its status.
type Problem struct {
	Object  ir.ObjectRef `json:"object"`
	Rule    string       `json:"rule,omitempty"`
	Code    string       `json:"code"`
	Message string       `json:"message"`
}

// ProblemInvalidReference: a rule references an NSX group (by name) that does not exist or is
// ambiguous; the rule was realized fail-closed.
const ProblemInvalidReference = "InvalidReference"

// ApplyResult is what an Apply did.
type ApplyResult struct {
	// StepsDone of StepsTotal steps completed; on error, the failed step is StepsDone.
	StepsDone  int `json:"stepsDone"`
	StepsTotal int `json:"stepsTotal"`
	// Reads and Writes count NSX calls (a paged list counts once).
	Reads  int64 `json:"reads"`
	Writes int64 `json:"writes"`
	// StaleRetries counts writes repeated after a stale _revision.
	StaleRetries int `json:"staleRetries"`
	// Warnings are things that did not stop the apply (e.g. a group kept because an object
	// microseg does not own still uses it).
	Warnings []string `json:"warnings,omitempty"`
}

// ConfigError is a problem with the operator's configuration that only a human can fix (an
// anchor section that does not exist, for instance). Retrying does not help.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }
