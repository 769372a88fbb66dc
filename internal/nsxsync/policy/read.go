package policy

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/nsxclient"
)

// Reading. A full read is one hierarchical GET of microseg's domain with its groups, policies and
// rules (GET /infra?filter=Type-Group|SecurityPolicy|Rule&base_path=/infra/domains/<domain>). It
// rebuilds the realized-state cache: every policy of microseg with its rules and _revision.
//
// An incremental read lists the domain's policies (without rules) and groups in one
// hierarchical GET, takes the rules of a policy of microseg from the cache when its _revision is
// the one cached, and GETs (rules embedded) only the policies that moved, that microseg wrote
// since, that are new, or that are due for verification: NSX does not document whether a rule
// change bumps its policy's _revision, so every policy is re-read in full at least once per
// Config.VerifyWindow, spread evenly over the reads. Groups are compared in full on every read.
// When more policies must be re-read than fullReadThreshold, one full read is cheaper.

// fullReadThreshold is how many policy GETs an incremental read may make before it reads
// everything in one call instead.
const fullReadThreshold = 20

// cache is the realized-state cache: what microseg knows of its policies' rules.
type cache struct {
	policies map[string]cachedPolicy
	lastRead time.Time
	// dirty are the ids of policies microseg wrote since it last read them.
	dirty map[string]bool
}

type cachedPolicy struct {
	revision   int64
	rules      []nsxclient.PolicyRule
	verifiedAt time.Time
}

func revisionOf(r nsxclient.PolicyResource) int64 {
	if r.Revision == nil {
		return -1
	}
	return *r.Revision
}

// Read reads the state of microseg's domain. A mode the backend does not know is read as
// ReadIncremental.
func (b *Backend) Read(ctx context.Context, mode nsxsync.ReadMode) (nsxsync.State, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if mode == nsxsync.ReadFull || b.cache == nil {
		return b.readFull(ctx, 0)
	}
	return b.readIncremental(ctx)
}

func (b *Backend) domainPath() string { return nsxclient.DomainPath(b.cfg.Domain) }

// readFull reads everything and rebuilds the cache; calls counts the calls already made by the
// caller.
func (b *Backend) readFull(ctx context.Context, calls int64) (*State, error) {
	tree, err := b.readTree(ctx, nsxclient.ResourceSecurityPolicy, nsxclient.ResourceRule, nsxclient.ResourceGroup)
	calls++
	if err != nil {
		return &State{calls: calls}, err
	}
	st := newState(b.cfg.ClusterID, b.cfg.Domain, tree.policies, tree.rules, tree.groups)
	st.calls = calls
	now := b.cfg.Now()
	b.cache = &cache{policies: map[string]cachedPolicy{}, lastRead: now, dirty: map[string]bool{}}
	for id, p := range st.policies {
		if p.owned {
			b.cache.policies[id] = cachedPolicy{revision: revisionOf(p.body.PolicyResource), rules: p.rules, verifiedAt: now}
		}
	}
	st.pending = b.pendingPaths()
	return st, nil
}

func (b *Backend) readIncremental(ctx context.Context) (*State, error) {
	tree, err := b.readTree(ctx, nsxclient.ResourceSecurityPolicy, nsxclient.ResourceGroup)
	if err != nil {
		return &State{calls: 1}, err
	}
	now := b.cfg.Now()
	var owned []string
	reread := map[string]bool{}
	for _, p := range tree.policies {
		if !owns(p.PolicyResource, b.cfg.ClusterID) {
			continue
		}
		owned = append(owned, p.ID)
		c, ok := b.cache.policies[p.ID]
		if !ok || b.cache.dirty[p.ID] || c.revision != revisionOf(p.PolicyResource) {
			reread[p.ID] = true
		}
	}
	for _, id := range b.dueForVerification(owned, reread, now) {
		reread[id] = true
	}
	if len(reread) > fullReadThreshold {
		return b.readFull(ctx, 1)
	}
	calls := int64(1)
	rules := map[string][]nsxclient.PolicyRule{}
	policies := make([]nsxclient.SecurityPolicy, 0, len(tree.policies))
	for _, p := range tree.policies {
		if !reread[p.ID] {
			if c, ok := b.cache.policies[p.ID]; ok {
				rules[p.ID] = c.rules
			}
			policies = append(policies, p)
			continue
		}
		full, err := b.client.GetSecurityPolicy(ctx, b.cfg.Domain, p.ID)
		calls++
		switch {
		case nsxclient.IsNotFound(err):
			delete(b.cache.policies, p.ID)
			continue // deleted since it was listed
		case err != nil:
			b.cache = nil // a half-refreshed cache is not to be trusted: the next read is full
			return &State{calls: calls}, fmt.Errorf("reading security policy %s: %w", p.Path, err)
		}
		rules[p.ID] = full.Rules
		policies = append(policies, *full)
	}
	st := newState(b.cfg.ClusterID, b.cfg.Domain, policies, rules, tree.groups)
	st.calls = calls
	for _, id := range slices.Collect(maps.Keys(b.cache.policies)) {
		if p, ok := st.policies[id]; !ok || !p.owned {
			delete(b.cache.policies, id)
		}
	}
	for id, p := range st.policies {
		if !p.owned {
			continue
		}
		c := b.cache.policies[id]
		if reread[id] {
			c = cachedPolicy{rules: p.rules, verifiedAt: now}
		}
		c.revision = revisionOf(p.body.PolicyResource)
		b.cache.policies[id] = c
		delete(b.cache.dirty, id)
	}
	b.cache.lastRead = now
	st.pending = b.pendingPaths()
	return st, nil
}

// dueForVerification picks the owned policies, least recently verified first, that this read
// re-reads so that each is verified within the window: the share of them the time since the
// last read represents.
func (b *Backend) dueForVerification(owned []string, already map[string]bool, now time.Time) []string {
	if len(owned) == 0 {
		return nil
	}
	elapsed := now.Sub(b.cache.lastRead)
	n := int(math.Ceil(float64(len(owned)) * float64(elapsed) / float64(b.cfg.VerifyWindow)))
	var out []string
	candidates := slices.Clone(owned)
	slices.SortFunc(candidates, func(x, y string) int {
		if c := b.cache.policies[x].verifiedAt.Compare(b.cache.policies[y].verifiedAt); c != 0 {
			return c
		}
		if x < y {
			return -1
		}
		return 1
	})
	for _, id := range candidates {
		c := b.cache.policies[id]
		overdue := !c.verifiedAt.IsZero() && now.Sub(c.verifiedAt) >= b.cfg.VerifyWindow
		if already[id] || (len(out) >= n && !overdue) {
			continue
		}
		out = append(out, id)
	}
	return out
}

// tree is a hierarchical read of the domain.
type tree struct {
	policies []nsxclient.SecurityPolicy
	rules    map[string][]nsxclient.PolicyRule
	groups   []nsxclient.PolicyGroup
}

func (b *Backend) readTree(ctx context.Context, types ...string) (*tree, error) {
	infra, err := b.client.ReadInfra(ctx, nsxclient.ReadInfraOptions{Types: types, BasePath: b.domainPath()})
	if nsxclient.IsNotFound(err) {
		return nil, &nsxsync.ConfigError{Msg: fmt.Sprintf("the NSX Policy domain %q does not exist: create it, or set the domain microseg uses to an existing one (the default domain is %q)", b.cfg.Domain, nsxclient.DefaultDomain)}
	}
	if err != nil {
		return nil, fmt.Errorf("reading the Policy domain %s: %w", b.domainPath(), err)
	}
	t := &tree{rules: map[string][]nsxclient.PolicyRule{}}
	for _, n := range infra.Children {
		if n.ID != b.cfg.Domain {
			continue
		}
		children := n.Children
		if n.Domain != nil {
			children = n.Domain.Children
		}
		t.addDomainChildren(children)
	}
	return t, nil
}

func (t *tree) addDomainChildren(children []nsxclient.ChildNode) {
	for _, n := range children {
		switch {
		case n.Group != nil:
			t.groups = append(t.groups, *n.Group)
		case n.SecurityPolicy != nil:
			p := *n.SecurityPolicy
			t.addRules(p.ID, p.Children)
			t.rules[p.ID] = append(t.rules[p.ID], p.Rules...)
			t.policies = append(t.policies, p)
		case n.ResourceType == nsxclient.ChildResourceReference && n.TargetType == nsxclient.ResourceSecurityPolicy:
			t.addRules(n.ID, n.Children)
		}
	}
}

func (t *tree) addRules(policyID string, children []nsxclient.ChildNode) {
	for _, n := range children {
		if n.Rule != nil {
			t.rules[policyID] = append(t.rules[policyID], *n.Rule)
		}
	}
}
