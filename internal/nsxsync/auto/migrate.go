package auto

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/nsxclient"
)

// Migration from the Manager API to the Policy API. A cluster that microseg programmed through
// the Manager API keeps microseg's sections and groups there when the operator moves to the
// Policy API (NCP moved, or NSX 9 forces it). The Policy backend then runs first: Policy
// policies evaluate above every Manager section, so once the Policy objects hold the model,
// microseg's Manager sections decide no flow the model decides. Only then, in later syncs, are
// microseg's Manager objects deleted, through the Manager backend with an empty model (plain
// deletes; no deny rule, so no guard). docs/architecture.md ("Migrating from the Manager API")
// has the argument that no state in between allows a flow that both the Manager configuration
// before and the Policy configuration after deny.

// migrating is the Policy backend followed by the cleanup of microseg's Manager objects.
type migrating struct {
	policy    nsxsync.Backend
	cluster   string
	newMgr    func() (nsxsync.Backend, error)
	manager   nsxsync.Backend
	cleanedUp bool // no Manager object of microseg's is left (or the Manager API is not served)
}

var _ nsxsync.Backend = (*migrating)(nil)

func (m *migrating) API() string { return m.policy.API() }

// migState is the Policy state, with the Manager state while a cleanup may be due.
type migState struct {
	nsxsync.State
	manager nsxsync.State
}

func (s *migState) Calls() int64 {
	n := s.State.Calls()
	if s.manager != nil {
		n += s.manager.Calls()
	}
	return n
}

func (m *migrating) Read(ctx context.Context, mode nsxsync.ReadMode) (nsxsync.State, error) {
	ps, err := m.policy.Read(ctx, mode)
	if err != nil || m.cleanedUp {
		return wrapState(ps), err
	}
	if m.manager == nil {
		if m.manager, err = m.newMgr(); err != nil {
			return wrapState(ps), err
		}
	}
	ms, err := m.manager.Read(ctx, nsxsync.ReadFull)
	switch {
	case nsxclient.IsNotFound(err):
		m.cleanedUp = true // NSX does not serve the Manager API for the DFW: nothing to clean
		return wrapState(ps), nil
	case err != nil:
		return &migState{State: ps, manager: ms}, fmt.Errorf("reading microseg's Manager API objects (to delete them after the migration to the Policy API): %w", err)
	}
	if total(ms.Owned().Counts()) == 0 {
		m.cleanedUp = true
		return wrapState(ps), nil
	}
	return &migState{State: ps, manager: ms}, nil
}

func wrapState(ps nsxsync.State) nsxsync.State {
	if ps == nil {
		return nil
	}
	return &migState{State: ps}
}

func total(counts map[string]int) int {
	n := 0
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		n += counts[k]
	}
	return n
}

// cleanup is a plan that deletes microseg's Manager objects; its problems are the Policy plan's
// (the Manager plan of an empty model has none).
type cleanup struct {
	nsxsync.Plan
	problems []nsxsync.Problem
}

func (c cleanup) Problems() []nsxsync.Problem { return c.problems }

// Plan is the Policy plan while the Policy API does not hold the model yet; once it does, the
// deletion of microseg's Manager objects.
func (m *migrating) Plan(desired *ir.Model, current nsxsync.State) (nsxsync.Plan, error) {
	st, ok := current.(*migState)
	if !ok {
		return nil, fmt.Errorf("migrating backend: cannot plan against a %T", current)
	}
	pp, err := m.policy.Plan(desired, st.State)
	if err != nil || !pp.Empty() || st.manager == nil {
		return pp, err
	}
	mp, err := m.manager.Plan(&ir.Model{ClusterID: m.cluster}, st.manager)
	if err != nil {
		return nil, fmt.Errorf("planning the deletion of microseg's Manager API objects: %w", err)
	}
	if mp.Empty() {
		return pp, nil
	}
	return cleanup{Plan: mp, problems: pp.Problems()}, nil
}

func (m *migrating) Apply(ctx context.Context, p nsxsync.Plan) (nsxsync.ApplyResult, error) {
	if c, ok := p.(cleanup); ok {
		return m.manager.Apply(ctx, c.Plan)
	}
	return m.policy.Apply(ctx, p)
}
