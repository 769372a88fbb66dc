package policy

import (
	"errors"
	"fmt"
	"time"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/nsxclient"
)

// Plan is a Policy API plan: the hierarchical PATCHes that bring NSX to the model, in order, and
// the realizations still to be seen.
type Plan struct {
	calls    []call
	problems []nsxsync.Problem
	guarded  bool
	// pending are paths written earlier whose realization has not been seen complete.
	pending []string
	cost    time.Duration
}

// Cost estimates, as the simulator's default cost model charges (internal/nsxsim/cost.go).
const (
	costPerCall   = 20 * time.Millisecond
	costPerObject = 5 * time.Millisecond
)

// Empty reports whether the plan writes nothing and has no realization left to check.
func (p *Plan) Empty() bool { return len(p.calls) == 0 && len(p.pending) == 0 }

// Calls is the number of hierarchical PATCHes the plan makes.
func (p *Plan) Calls() int { return len(p.calls) }

// Objects is the number of objects the plan writes.
func (p *Plan) Objects() int {
	n := 0
	for _, c := range p.calls {
		n += c.objects
	}
	return n
}

// Guarded reports whether the plan wraps its change in a guard.
func (p *Plan) Guarded() bool { return p.guarded }

// Summary describes the plan: Steps is the number of calls, Ops counts the objects per operation
// plus the calls themselves (PatchInfra).
func (p *Plan) Summary() nsxsync.Summary {
	s := nsxsync.Summary{Steps: len(p.calls), Ops: map[string]int{}, Guarded: p.guarded, EstimatedCost: p.cost}
	for _, c := range p.calls {
		s.Ops["PatchInfra"]++
		for _, st := range c.steps {
			s.Ops[st.Op]++
			s.Details = append(s.Details, st)
		}
	}
	if len(p.calls) == 0 {
		s.Ops = nil
	}
	return s
}

// Problems are the per-object problems found while realizing the model.
func (p *Plan) Problems() []nsxsync.Problem { return p.problems }

// Plan computes the change (pure: no I/O).
func (b *Backend) Plan(desiredModel *ir.Model, current nsxsync.State) (nsxsync.Plan, error) {
	st, ok := current.(*State)
	if !ok {
		return nil, fmt.Errorf("policy backend: cannot plan against a %T", current)
	}
	return Compute(b.cfg, desiredModel, st)
}

// Compute plans the writes that turn st into the model m. The same inputs give the same plan; a
// state that holds the model gives an empty plan. Only objects carrying the cluster's tag (and
// not protected by NSX) are updated or deleted; new ones are created at ids derived from the
// model's keys.
func Compute(cfg Config, m *ir.Model, st *State) (*Plan, error) {
	cfg = cfg.withDefaults()
	switch {
	case m == nil:
		return nil, errors.New("policy backend: no desired model")
	case m.ClusterID != "" && m.ClusterID != cfg.ClusterID:
		return nil, fmt.Errorf("policy backend: the model is for cluster %q but the backend is for %q", m.ClusterID, cfg.ClusterID)
	}
	d, err := realize(cfg, m, st, repairInPlace)
	if err != nil {
		return nil, err
	}
	df, err := computeDiff(cfg, d, st)
	if err != nil {
		return nil, err
	}
	p := &Plan{problems: d.problems, pending: st.pending}
	if df.objects() <= cfg.MaxObjectsPerCall {
		p.calls = single(cfg, df)
	} else {
		if df.repairs > 0 {
			if d, err = realize(cfg, m, st, repairByMove); err != nil {
				return nil, err
			}
			if df, err = computeDiff(cfg, d, st); err != nil {
				return nil, err
			}
		}
		if p.calls, p.guarded, err = split(cfg, st, d, df); err != nil {
			return nil, err
		}
	}
	for _, c := range p.calls {
		p.cost += costPerCall + time.Duration(c.objects)*costPerObject
	}
	return p, nil
}

// single is the whole change in one call (none when there is nothing to write).
func single(cfg Config, df *diff) []call {
	if df.empty() {
		return nil
	}
	b := &callBuilder{limit: cfg.MaxObjectsPerCall + 1}
	b.start(phaseSingle)
	for _, g := range df.groupWrites {
		b.add(groupNode(g))
	}
	var written []string
	for i := range df.units {
		b.addUnit(&df.units[i])
		if !df.units[i].delete {
			written = append(written, df.units[i].path)
		}
	}
	for _, g := range df.groupDeletes {
		b.add(groupNode(g))
	}
	b.waitAfter(append(written, groupPaths(cfg, df.groupWrites)...))
	return b.done()
}

// split is a change too large for one call, in phases under a deny-only guard.
func split(cfg Config, st *State, d *desired, df *diff) ([]call, bool, error) {
	guards, err := guardPolicies(cfg, st, guardRules(cfg.ClusterID, st, d))
	if err != nil {
		return nil, false, err
	}
	b := &callBuilder{limit: cfg.MaxObjectsPerCall}
	b.start(phaseGroups)
	for _, g := range df.groupWrites {
		b.add(groupNode(g))
	}
	b.waitAfter(groupPaths(cfg, df.groupWrites))
	b.start(phaseGuard)
	var guardPaths []string
	for i := range guards {
		u := unit{key: "guard", id: guards[i].ID, path: nsxclient.SecurityPolicyPath(cfg.Domain, guards[i].ID), body: guards[i], create: true, guard: true}
		for _, r := range guards[i].Rules {
			u.rules = append(u.rules, ruleChange{op: OpCreateRule, key: "guard", id: r.ID, body: r})
		}
		u.body.Rules = nil
		b.addUnit(&u)
		guardPaths = append(guardPaths, u.path)
	}
	b.waitAfter(guardPaths)
	b.start(phasePolicies)
	var written []string
	for i := range df.units {
		b.addUnit(&df.units[i])
		if !df.units[i].delete {
			written = append(written, df.units[i].path)
		}
	}
	b.waitAfter(written)
	b.start(phaseUnguard)
	for _, g := range guards {
		b.add(nxNode{node: nsxclient.DeletePolicyNode(g.ID), objects: 1, policy: g.ID,
			steps: []nsxsync.Step{{Op: OpDeleteGuard, Key: "guard", Reason: "the change is complete"}}})
	}
	b.start(phaseCleanup)
	for _, g := range df.groupDeletes {
		b.add(groupNode(g))
	}
	return b.done(), len(guards) > 0, nil
}

func groupPaths(cfg Config, gs []groupChange) []string {
	var out []string
	for _, g := range gs {
		if g.op == OpCreateGroup || g.op == OpRepairGroup {
			out = append(out, nsxclient.GroupPath(cfg.Domain, g.id))
		}
	}
	return out
}
