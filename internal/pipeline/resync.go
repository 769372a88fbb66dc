package pipeline

import (
	"context"
	"fmt"

	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxsync"
)

// Change is what the operator's sync did to bring a realized world's NSX to another world.
type Change struct {
	// Sync is the sync's result: the plan's summary (writes per operation, guard), what apply
	// did and whether NSX converged.
	Sync nsxsync.Result
	// Stats are the simulator's counters of that sync alone: calls, writes, rules written and
	// the simulated NSX time of the cost model. The NCP emulator's port changes are not in them:
	// NCP makes those whether microseg runs or not.
	Stats nsxsim.Stats
}

// Resync brings the realized world to w the way a running cluster would: NCP first (ports of new
// pods created, of removed pods deleted, of changed pods replaced), then the operator compiles w
// and syncs NSX to it through the sync path, against everything the earlier sync left there. The
// Realized then describes w. opts.ClusterID must be the one Run used.
func (r *Realized) Resync(ctx context.Context, w World, opts Options) (Change, error) {
	if opts.ClusterID == "" {
		opts.ClusterID = DefaultClusterID
	}
	if opts.API == APIPolicy {
		// updatePorts plays NCP in Manager mode only.
		return Change{}, fmt.Errorf("pipeline: a resync of a world realized on the NSX Policy API is not supported yet: use the Manager API (%q)", APIManager)
	}
	if err := r.updatePorts(ctx, w, opts.ClusterID); err != nil {
		return Change{}, err
	}
	model, err := compile.Compile(compile.Input{ClusterID: opts.ClusterID, ClusterSecurityPolicies: w.ClusterSecurityPolicies,
		NetworkPolicies: w.NetworkPolicies, Namespaces: w.Namespaces, Pods: w.Pods, Settings: opts.Settings})
	if err != nil {
		return Change{}, err
	}
	backend, err := newBackend(r.client, opts)
	if err != nil {
		return Change{}, err
	}
	r.sim.ResetStats()
	var ch Change
	if ch.Sync, err = nsxsync.Sync(ctx, backend, model, nsxsync.Options{}); err != nil {
		return Change{}, fmt.Errorf("syncing the new model into the simulator: %w", err)
	}
	ch.Stats = r.sim.Stats()
	r.Model, r.Sync = model, ch.Sync
	r.index()
	return ch, nil
}

// updatePorts plays NCP for a change of pods.
func (r *Realized) updatePorts(ctx context.Context, w World, clusterID string) error {
	want := map[PodRef]bool{}
	for _, p := range sortedPods(w.Pods) {
		ref := PodRef{p.Namespace, p.Name}
		body, ok, err := portBody(p, clusterID)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		want[ref] = true
		if old, exists := r.ports[ref]; exists {
			if old.fingerprint == portFingerprint(body) {
				continue
			}
			if err := r.client.DeleteLogicalPort(ctx, old.id, true); err != nil {
				return fmt.Errorf("deleting the logical port of pod %s: %w", ref, err)
			}
		}
		if err := r.createPort(ctx, ref, body); err != nil {
			return err
		}
	}
	for _, ref := range r.Pods() {
		if !want[ref] {
			if err := r.client.DeleteLogicalPort(ctx, r.ports[ref].id, true); err != nil {
				return fmt.Errorf("deleting the logical port of pod %s: %w", ref, err)
			}
			delete(r.ports, ref)
		}
	}
	return nil
}
