// Package perf is the harness of microseg's cost benchmarks (BenchmarkSyncCost,
// BenchmarkAntreaWorld): a compiled world realized in the NSX simulator, driven through the same
// nsxsync.Syncer as the operator (the same read modes, the same shortcut when a change leaves the
// compiled model as it is), with the NSX calls, writes and simulated NSX time of each event taken
// from the simulator's counters and cost model. README ("Performance") has the figures and the
// commands.
package perf

import (
	"context"
	"fmt"
	"time"

	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/nsxsync/manager"
	"github.com/microseg/microseg/internal/simnsx"
	"github.com/microseg/microseg/nsxclient"
)

// Cluster is the cluster id of the benchmark worlds.
const Cluster = "bench"

// Defaults the operator runs with (internal/operator), which the benchmarks use too.
const (
	ResyncPeriod = 5 * time.Minute
	VerifyWindow = time.Hour
)

// Env is a simulated NSX Manager (in process, the default cost model) with microseg's sync
// machinery over it, on a clock the benchmark advances.
type Env struct {
	NSX     *simnsx.NSX
	Backend *manager.Backend
	Syncer  *nsxsync.Syncer
	now     time.Time
}

// NewEnv starts a simulator holding the NSGroups microseg's benchmark worlds reference by name
// (externalGroups) and the operator's Syncer over the Manager backend.
func NewEnv(externalGroups ...string) (*Env, error) {
	nsx, err := simnsx.Start(simnsx.Options{}) // the simulator's default cost model
	if err != nil {
		return nil, err
	}
	for _, name := range externalGroups {
		if _, err := nsx.Client.CreateNSGroup(context.Background(), nsxclient.NSGroup{
			ManagedResource: nsxclient.ManagedResource{DisplayName: name}}); err != nil {
			nsx.Close()
			return nil, fmt.Errorf("creating the external NSGroup %q: %w", name, err)
		}
	}
	e := &Env{NSX: nsx, now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	e.Backend, err = manager.Over(nsx.Client, manager.Config{ClusterID: Cluster,
		Verify: nsxsync.Verify{Window: VerifyWindow, Period: ResyncPeriod}, Now: e.Now})
	if err != nil {
		nsx.Close()
		return nil, err
	}
	e.Syncer = nsxsync.NewSyncer(nsxsync.SyncerConfig{Backend: e.Backend, ResyncPeriod: ResyncPeriod, Now: e.Now})
	return e, nil
}

// Close stops the simulator.
func (e *Env) Close() { e.NSX.Close() }

// Now is the Env's clock.
func (e *Env) Now() time.Time { return e.now }

// Advance moves the clock forward.
func (e *Env) Advance(d time.Duration) { e.now = e.now.Add(d) }

// Cost is what a stretch of work cost NSX, from the simulator's counters: HTTP calls (a paged
// list costs one per page), the writes among them, and the simulated NSX time of the cost model.
type Cost struct {
	Calls, Reads, Writes int64
	Simulated            time.Duration
}

// Add sums two costs.
func (c Cost) Add(o Cost) Cost {
	return Cost{Calls: c.Calls + o.Calls, Reads: c.Reads + o.Reads, Writes: c.Writes + o.Writes, Simulated: c.Simulated + o.Simulated}
}

// Measure runs f and returns what it cost NSX.
func (e *Env) Measure(f func() error) (Cost, error) {
	before := e.NSX.Sim.Stats()
	err := f()
	after := e.NSX.Sim.Stats()
	return Cost{Calls: after.Calls - before.Calls, Reads: after.Reads - before.Reads, Writes: after.Writes - before.Writes,
		Simulated: after.SimulatedTime - before.SimulatedTime}, err
}

// Sync compiles in and runs one sync as the operator does: triggered is true for a sync that
// Kubernetes changes started, false for the periodic resync.
func (e *Env) Sync(ctx context.Context, in compile.Input, triggered bool) (nsxsync.Run, Cost, error) {
	m, err := compile.Compile(in)
	if err != nil {
		return nsxsync.Run{}, Cost{}, err
	}
	return e.SyncModel(ctx, m, triggered)
}

// SyncModel runs one sync of an already compiled model.
func (e *Env) SyncModel(ctx context.Context, m *ir.Model, triggered bool) (nsxsync.Run, Cost, error) {
	var run nsxsync.Run
	cost, err := e.Measure(func() error {
		var err error
		run, err = e.Syncer.Sync(ctx, m, triggered)
		return err
	})
	if err == nil && !run.Converged && !run.DryRun {
		err = fmt.Errorf("perf: the sync did not converge (%d steps)", run.Summary.Steps)
	}
	return run, cost, err
}
