package apply

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/internal/plan"
	"github.com/microseg/microseg/nsxclient"
)

// Options configure Apply.
type Options struct {
	// ClusterID is the cluster whose objects may be written (default: the plan's).
	ClusterID string
	// MaxStaleRetries bounds how often one step is retried after a stale _revision (another
	// writer changed the object between read and write). Default 5.
	MaxStaleRetries int
	// CreateWithRulesLimit is the largest section created with create_with_rules; NSX documents
	// that call as unsupported above 50 rules with many references, so a larger section is
	// created empty and filled with create_multiple. Default 50.
	CreateWithRulesLimit int
	// Cache, when set, learns from every reply what NSX now holds (the Manager backend's
	// realized-state cache); a failed apply drops it.
	Cache *Cache
}

func (o Options) withDefaults(p *plan.Plan) Options {
	o.ClusterID = cmp.Or(o.ClusterID, p.ClusterID)
	if o.MaxStaleRetries <= 0 {
		o.MaxStaleRetries = 5
	}
	if o.CreateWithRulesLimit <= 0 {
		o.CreateWithRulesLimit = 50
	}
	return o
}

// Result reports what Apply did (the sync path's ApplyResult).
type Result = nsxsync.ApplyResult

// ErrNotOwned is returned (wrapped) when an object microseg was about to write no longer
// carries its cluster tag: someone took it over, and microseg leaves it alone.
var ErrNotOwned = errors.New("object no longer carries microseg's cluster tag, so microseg will not modify it")

// StepError is the error of the step that stopped an apply.
type StepError struct {
	Index int
	Step  plan.Step
	Err   error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("apply: step %d (%s %s %s): %v", e.Index+1, e.Step.Op, e.Step.Key, e.Step.RuleKey, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// Apply executes the plan's steps in order. It resolves placeholders to the ids NSX assigned to
// objects created by earlier steps, sends the newest _revision it knows for every write, and on a
// stale revision re-reads the object, checks that it still carries microseg's cluster tag, and
// retries (at most MaxStaleRetries times). It stops at the first error and returns what was done
// so far: plans are idempotent, so the next sync re-plans from the state NSX is then in.
func Apply(ctx context.Context, client *nsxclient.Client, p *plan.Plan, opts Options) (Result, error) {
	if opts.ClusterID != "" && p.ClusterID != "" && opts.ClusterID != p.ClusterID {
		return Result{}, fmt.Errorf("apply: the plan is for cluster %q, not %q", p.ClusterID, opts.ClusterID)
	}
	var c counter
	a := newApplier(client, p, opts, &c)
	return a.run(ctx, p)
}

// applier carries one Apply.
type applier struct {
	c     *nsxclient.Client
	opts  Options
	cache *Cache
	calls *counter
	ids   *ids
	// Newest known _revision per object id; absent means "as the plan saw it".
	sectionRev, ruleRev, groupRev map[string]int64
	// checked holds the sections whose ownership was confirmed before a rule write.
	checked map[string]bool
	res     Result
}

func newApplier(client *nsxclient.Client, p *plan.Plan, opts Options, c *counter) *applier {
	return &applier{
		c: client, opts: opts.withDefaults(p), cache: opts.Cache, calls: c, ids: newIDs(),
		sectionRev: map[string]int64{}, ruleRev: map[string]int64{}, groupRev: map[string]int64{},
		checked: map[string]bool{},
	}
}

func (a *applier) run(ctx context.Context, p *plan.Plan) (Result, error) {
	a.res.StepsTotal = len(p.Steps)
	defer func() { a.res.Reads, a.res.Writes = a.calls.reads.Load(), a.calls.writes.Load() }()
	for i := range p.Steps {
		if err := ctx.Err(); err != nil {
			a.cache.Drop()
			return a.result(), &StepError{Index: i, Step: p.Steps[i], Err: err}
		}
		if err := a.step(ctx, &p.Steps[i]); err != nil {
			// What NSX holds after a failed step is not known: the next read rebuilds the cache.
			a.cache.Drop()
			return a.result(), &StepError{Index: i, Step: p.Steps[i], Err: err}
		}
		a.res.StepsDone++
	}
	return a.result(), nil
}

func (a *applier) result() Result {
	r := a.res
	r.Reads, r.Writes = a.calls.reads.Load(), a.calls.writes.Load()
	r.Warnings = slices.Clone(a.res.Warnings)
	return r
}

func (a *applier) step(ctx context.Context, s *plan.Step) error {
	switch s.Op {
	case plan.OpCreateGroup:
		return a.createGroup(ctx, s)
	case plan.OpUpdateGroup:
		return a.updateGroup(ctx, s)
	case plan.OpDeleteGroup:
		return a.deleteGroup(ctx, s)
	case plan.OpCreateSection:
		return a.createSection(ctx, s)
	case plan.OpUpdateSection, plan.OpUpdateSectionRules, plan.OpReviseSection:
		return a.writeSection(ctx, s)
	case plan.OpCreateRule:
		return a.createRule(ctx, s)
	case plan.OpUpdateRule, plan.OpReviseRule:
		return a.writeRule(ctx, s)
	case plan.OpDeleteRule:
		return a.deleteRule(ctx, s)
	case plan.OpDeleteSection:
		return a.deleteSection(ctx, s)
	}
	return fmt.Errorf("apply: unknown step %q", s.Op)
}

// revision returns the newest known revision of id, or the plan's.
func revision(known map[string]int64, id string, planned int64) int64 {
	if v, ok := known[id]; ok {
		return v
	}
	return planned
}

// mustOwn refuses to touch an object without the cluster tag.
func (a *applier) mustOwn(kind, id string, tags []nsxclient.Tag) error {
	if !ownership.Owned(tags, a.opts.ClusterID) {
		return fmt.Errorf("%s %s: %w", kind, id, ErrNotOwned)
	}
	return nil
}

func (a *applier) warn(format string, args ...any) {
	a.res.Warnings = append(a.res.Warnings, fmt.Sprintf(format, args...))
}

// Groups.
