// Package manager is the sync path's backend for the NSX-T Manager API (/api/v1 firewall
// sections, NSGroups, IPSets): it wraps the pure planner (internal/plan) and the applier
// (internal/apply), and resolves the anchor section the block sits below. How the model maps
// onto sections, groups and rules is in docs/architecture.md ("The Manager backend").
package manager

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/microseg/microseg/internal/apply"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/internal/plan"
	"github.com/microseg/microseg/nsxclient"
)

// API is the Backend.API of this backend.
const API = "manager"

// Target is where the backend reads and writes: NSX over HTTP (apply.NSX) or the in-memory
// Manager NSX of the tests (memnsx).
type Target interface {
	// ReadState reads what the planner needs (apply.ReadState's contract), as much of it from a
	// realized-state cache as mode allows, and says how many calls it made.
	ReadState(ctx context.Context, clusterID string, mode nsxsync.ReadMode) (plan.State, int64, error)
	// ApplyPlan executes a plan (apply.Apply's contract) on the objects of clusterID.
	ApplyPlan(ctx context.Context, p *plan.Plan, clusterID string) (apply.Result, error)
}

// Config is the backend's configuration.
type Config struct {
	// ClusterID is the cluster whose objects microseg owns (required).
	ClusterID string
	// Anchor is the id or display name of the section microseg's block sits directly below
	// (--anchor-section); empty: the top of the DFW.
	Anchor string
	// Limits are the compiler's NSX limits; the guard respects them too.
	Limits ir.Limits
	// Cost weighs NSX calls (zero: plan.DefaultCostModel).
	Cost plan.CostModel
	// Guard replaces the planner's guard construction (plan.Options.Guard): tests only.
	Guard func(desired *ir.Model) *plan.Guard
	// Verify paces the rolling verification of NSGroups and IP sets (Over's cache): each is
	// re-read within Verify.Window; Verify.Period is the resync period.
	Verify nsxsync.Verify
	// Now is the clock of the verification (nil: time.Now); benchmarks advance their own.
	Now func() time.Time
}

// Backend is the Manager API backend. The realized-state cache, when its Target has one (Over's
// does), lives from one sync to the next: one Backend serves every sync of one process, one at
// a time.
type Backend struct {
	nsx Target
	cfg Config
}

var _ nsxsync.Backend = (*Backend)(nil)

// New returns the backend over nsx.
func New(nsx Target, cfg Config) (*Backend, error) {
	if cfg.ClusterID == "" {
		return nil, errors.New("manager backend: the cluster id is required")
	}
	return &Backend{nsx: nsx, cfg: cfg}, nil
}

// Over returns the backend for an NSX Manager reached with client, with a realized-state cache
// (apply.Cache): the first read is full, and later ones read what the mode allows.
func Over(client *nsxclient.Client, cfg Config) (*Backend, error) {
	return New(apply.NSX{Client: client, Cache: apply.NewCache(cfg.Verify, cfg.Now)}, cfg)
}

// API is "manager".
func (b *Backend) API() string { return API }

// Read reads the state in the given mode (see nsxsync.ReadMode and apply.Cache).
func (b *Backend) Read(ctx context.Context, mode nsxsync.ReadMode) (nsxsync.State, error) {
	st, calls, err := b.nsx.ReadState(ctx, b.cfg.ClusterID, mode)
	s := &State{State: st, ClusterID: b.cfg.ClusterID, calls: calls}
	if err != nil {
		return s, err
	}
	return s, nil
}

// Plan resolves the anchor in the state and plans the change (the guard included).
func (b *Backend) Plan(desired *ir.Model, current nsxsync.State) (nsxsync.Plan, error) {
	st, ok := current.(*State)
	if !ok {
		return nil, fmt.Errorf("manager backend: cannot plan against a %T", current)
	}
	anchorID, err := resolveAnchor(st.Sections, b.cfg.Anchor, b.cfg.ClusterID)
	if err != nil {
		return nil, err
	}
	p, err := plan.Compute(desired, st.State, plan.Options{ClusterID: b.cfg.ClusterID, AnchorSectionID: anchorID,
		Cost: b.cfg.Cost, Limits: b.cfg.Limits, Guard: b.cfg.Guard})
	if err != nil {
		return nil, fmt.Errorf("planning the NSX changes: %w", err)
	}
	return &Plan{Plan: p}, nil
}

// Apply executes a plan of this backend.
func (b *Backend) Apply(ctx context.Context, p nsxsync.Plan) (nsxsync.ApplyResult, error) {
	mp, ok := p.(*Plan)
	if !ok {
		return nsxsync.ApplyResult{}, fmt.Errorf("manager backend: cannot apply a %T", p)
	}
	return b.nsx.ApplyPlan(ctx, mp.Plan, b.cfg.ClusterID)
}

// State is a Manager API state (plan.State) with its owned-object index.
type State struct {
	plan.State
	ClusterID string
	calls     int64
	index     *ownership.Index
}

// Owned indexes the owned sections, rules and groups (built once).
func (s *State) Owned() *ownership.Index {
	if s.index == nil {
		s.index = s.Index(s.ClusterID)
	}
	return s.index
}

// Calls is the number of NSX calls the read made.
func (s *State) Calls() int64 { return s.calls }

// Plan is a Manager API plan.
type Plan struct{ *plan.Plan }

// Empty reports whether the plan writes nothing.
func (p *Plan) Empty() bool { return p.Plan.Empty() }

// Summary describes the plan.
func (p *Plan) Summary() nsxsync.Summary {
	s := nsxsync.Summary{Steps: len(p.Steps), Ops: map[string]int{}, Guarded: p.Guarded, EstimatedCost: p.EstimatedCost,
		Details: make([]nsxsync.Step, len(p.Steps))}
	for op, n := range p.Counts() {
		s.Ops[string(op)] = n
	}
	for i, st := range p.Steps {
		s.Details[i] = nsxsync.Step{Op: string(st.Op), Key: st.Key, Rule: st.RuleKey, Reason: st.Reason}
	}
	return s
}

// Problems are the planner's per-object problems.
func (p *Plan) Problems() []nsxsync.Problem {
	out := make([]nsxsync.Problem, len(p.Plan.Problems))
	for i, pr := range p.Plan.Problems {
		out[i] = nsxsync.Problem(pr)
	}
	return out
}

// PlanOf returns the Manager API plan inside p, or nil when p is another backend's (or nil).
func PlanOf(p nsxsync.Plan) *plan.Plan {
	if mp, ok := p.(*Plan); ok {
		return mp.Plan
	}
	return nil
}
