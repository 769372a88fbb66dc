package policy

import (
	"slices"
	"sync"

	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/nsxclient"
)

// Backend is the Policy API backend. It keeps the realized-state cache and the paths whose
// realization it still has to see between calls; one value serves every sync of one cluster, one
// sync at a time (the sync path's contract).
type Backend struct {
	client *nsxclient.PolicyClient
	cfg    Config

	mu      sync.Mutex
	cache   *cache
	pending map[string]bool
}

var _ nsxsync.Backend = (*Backend)(nil)

// New returns the backend for an NSX Manager reached with client.
func New(client *nsxclient.Client, cfg Config) (*Backend, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Backend{client: client.Policy(), cfg: cfg, pending: map[string]bool{}}, nil
}

// API is "policy".
func (b *Backend) API() string { return API }

// Config is the configuration in force, defaults applied.
func (b *Backend) Config() Config { return b.cfg }

// pendingPaths lists the paths whose realization is still to be seen, sorted (mu held).
func (b *Backend) pendingPaths() []string {
	out := make([]string, 0, len(b.pending))
	for p := range b.pending {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// PlanOf returns the Policy API plan inside p, or nil when p is another backend's (or nil).
func PlanOf(p nsxsync.Plan) *Plan {
	pp, _ := p.(*Plan)
	return pp
}
