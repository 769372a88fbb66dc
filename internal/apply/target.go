package apply

import (
	"cmp"
	"context"

	"github.com/microseg/microseg/internal/plan"
	"github.com/microseg/microseg/nsxclient"
)

// NSX is the Manager backend's way to NSX over the Manager API: ReadState and Apply with one
// client (internal/nsxsync/manager runs the sync over it).
type NSX struct {
	Client *nsxclient.Client
	// Apply configures Apply (its ClusterID is the one each call gives).
	Apply Options
	// ReadConcurrency is ReadOptions.Concurrency.
	ReadConcurrency int
}

// ReadState reads the state for clusterID (see ReadState) and says how many calls it made.
func (n NSX) ReadState(ctx context.Context, clusterID string) (plan.State, int64, error) {
	var c counter
	st, err := readState(ctx, n.Client, ReadOptions{ClusterID: clusterID, Concurrency: cmp.Or(n.ReadConcurrency, 4)}, &c)
	return st, c.reads.Load(), err
}

// ApplyPlan executes p (see Apply) on the objects of clusterID.
func (n NSX) ApplyPlan(ctx context.Context, p *plan.Plan, clusterID string) (Result, error) {
	opts := n.Apply
	opts.ClusterID = clusterID
	return Apply(ctx, n.Client, p, opts)
}
