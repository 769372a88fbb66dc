package apply

import (
	"cmp"
	"context"

	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/plan"
	"github.com/microseg/microseg/nsxclient"
)

// NSX is the Manager backend's way to NSX over the Manager API: reads and Apply with one client
// (internal/nsxsync/manager runs the sync over it).
type NSX struct {
	Client *nsxclient.Client
	// Apply configures Apply (its ClusterID is the one each call gives, its Cache this Cache).
	Apply Options
	// ReadConcurrency is ReadOptions.Concurrency.
	ReadConcurrency int
	// Cache is the realized-state cache the reads go through and Apply keeps up to date; nil:
	// every read reads everything.
	Cache *Cache
}

// ReadState reads the state for clusterID in the given mode (see Cache.read; without a cache,
// everything, as ReadState does) and says how many calls it made.
func (n NSX) ReadState(ctx context.Context, clusterID string, mode nsxsync.ReadMode) (plan.State, int64, error) {
	var c counter
	workers := cmp.Or(n.ReadConcurrency, 4)
	if n.Cache == nil {
		st, err := readState(ctx, n.Client, ReadOptions{ClusterID: clusterID, Concurrency: workers}, &c)
		return st, c.reads.Load(), err
	}
	st, err := n.Cache.read(ctx, n.Client, clusterID, mode, workers, &c)
	return st, c.reads.Load(), err
}

// ApplyPlan executes p (see Apply) on the objects of clusterID, keeping the cache up to date.
func (n NSX) ApplyPlan(ctx context.Context, p *plan.Plan, clusterID string) (Result, error) {
	opts := n.Apply
	opts.ClusterID, opts.Cache = clusterID, n.Cache
	return Apply(ctx, n.Client, p, opts)
}
