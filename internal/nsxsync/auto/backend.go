package auto

import (
	"context"
	"fmt"
	"sync"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/nsxclient"
)

// Config configures the Backend.
type Config struct {
	// Mode is auto, policy or manager (empty: auto).
	Mode string
	// ClusterID is NCP's cluster name (ncp/cluster tag) and microseg's ownership tag.
	ClusterID string
	// Manager and Policy build the backend of each API, once it is chosen. ManagerCleanup builds
	// the Manager backend that deletes microseg's Manager objects after a move to the Policy API
	// (nil: no cleanup).
	Manager, Policy, ManagerCleanup func() (nsxsync.Backend, error)
	// OnChosen is told the API once it is chosen, and why (the operator logs it and sets the
	// microseg_nsx_api metric).
	OnChosen func(api, reason string)
}

// Backend chooses the API on its first read, then delegates to that API's backend for good: a
// running operator never switches APIs (moving a cluster from the Manager to the Policy API is a
// migration; README, "Migrating to the Policy API").
type Backend struct {
	client *nsxclient.Client
	cfg    Config

	mu    sync.Mutex
	inner nsxsync.Backend
}

var _ nsxsync.Backend = (*Backend)(nil)

// New returns the backend; it does not contact NSX until the first Read.
func New(client *nsxclient.Client, cfg Config) (*Backend, error) {
	switch cfg.Mode {
	case "":
		cfg.Mode = ModeAuto
	case ModeAuto, ModePolicy, ModeManager:
	default:
		return nil, fmt.Errorf("--nsx-api %q: use auto, policy or manager", cfg.Mode)
	}
	return &Backend{client: client, cfg: cfg}, nil
}

// API is the chosen API, or the mode until the first read chose one.
func (b *Backend) API() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.inner != nil {
		return b.inner.API()
	}
	return b.cfg.Mode
}

// Chosen is the backend in use, nil before the first successful read.
func (b *Backend) Chosen() nsxsync.Backend {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inner
}

// Read chooses the API if it is not chosen yet (its NSX calls count in the state's), then reads.
func (b *Backend) Read(ctx context.Context, mode nsxsync.ReadMode) (nsxsync.State, error) {
	inner, calls, err := b.choose(ctx)
	if err != nil {
		return &state{calls: calls}, err
	}
	st, err := inner.Read(ctx, mode)
	if st == nil {
		return &state{calls: calls}, err
	}
	return &state{State: st, calls: calls + st.Calls()}, err
}

func (b *Backend) choose(ctx context.Context) (nsxsync.Backend, int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.inner != nil {
		return b.inner, 0, nil
	}
	var f Finding
	if b.cfg.Mode != ModeManager {
		var err error
		if f, err = Find(ctx, b.client, b.cfg.ClusterID); err != nil {
			return nil, f.Calls, fmt.Errorf("choosing the NSX API: %w", err)
		}
	}
	api, reason, err := Choose(b.cfg.Mode, b.cfg.ClusterID, f)
	if err != nil {
		return nil, f.Calls, err
	}
	build := b.cfg.Manager
	if api == ModePolicy {
		build = b.cfg.Policy
	}
	inner, err := build()
	if err != nil {
		return nil, f.Calls, err
	}
	if api == ModePolicy && b.cfg.ManagerCleanup != nil {
		inner = &migrating{policy: inner, cluster: b.cfg.ClusterID, newMgr: b.cfg.ManagerCleanup}
	}
	b.inner = inner
	if b.cfg.OnChosen != nil {
		b.cfg.OnChosen(api, reason)
	}
	return inner, f.Calls, nil
}

// Plan delegates to the chosen backend.
func (b *Backend) Plan(desired *ir.Model, current nsxsync.State) (nsxsync.Plan, error) {
	st, ok := current.(*state)
	inner := b.Chosen()
	if !ok || inner == nil {
		return nil, fmt.Errorf("auto backend: cannot plan against a %T before the API is chosen", current)
	}
	return inner.Plan(desired, st.State)
}

// Apply delegates to the chosen backend.
func (b *Backend) Apply(ctx context.Context, p nsxsync.Plan) (nsxsync.ApplyResult, error) {
	inner := b.Chosen()
	if inner == nil {
		return nsxsync.ApplyResult{}, fmt.Errorf("auto backend: no API chosen yet")
	}
	return inner.Apply(ctx, p)
}

// state is the chosen backend's state with the calls detection made.
type state struct {
	nsxsync.State
	calls int64
}

func (s *state) Calls() int64 { return s.calls }
