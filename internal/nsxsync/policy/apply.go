package policy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/nsxclient"
)

// ErrNotOwned is returned when an object microseg was about to write lost its cluster tag (or
// gained NSX's protection) since it was read: microseg never writes it.
var ErrNotOwned = errors.New("the object is no longer microseg's")

// ErrNotRealized is returned when NSX has not realized what a sync wrote within
// Config.RealizationTimeout; the next sync checks again.
var ErrNotRealized = errors.New("not realized yet")

// maxStaleRetries bounds the retries of a call that NSX refused because an object changed since
// it was read.
const maxStaleRetries = 3

// Apply executes a plan of this backend: its calls in order, each one hierarchical PATCH, waiting
// where the plan says for NSX to realize what was written (the guard before the change under
// it, the change before the guard goes, everything before the sync reports success). It stops at
// the first error; plans are idempotent, so the next sync re-plans from where NSX is.
func (b *Backend) Apply(ctx context.Context, np nsxsync.Plan) (nsxsync.ApplyResult, error) {
	p, ok := np.(*Plan)
	if !ok {
		return nsxsync.ApplyResult{}, fmt.Errorf("policy backend: cannot apply a %T", np)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	res := nsxsync.ApplyResult{StepsTotal: len(p.calls)}
	for _, c := range p.calls {
		err := b.patch(ctx, c, &res)
		b.markWritten(c, err)
		if err != nil {
			return res, fmt.Errorf("policy backend: %s call %d of %d: %w", c.phase, res.StepsDone+1, len(p.calls), err)
		}
		res.StepsDone++
		if err := b.waitRealized(ctx, c.waitFor, &res); err != nil {
			return res, err
		}
	}
	if err := b.waitRealized(ctx, p.pending, &res); err != nil {
		return res, err
	}
	return res, nil
}

// markWritten records what a call wrote: the policies to re-read, the paths to see realized.
// After a failed call the cache is dropped: the next read is full.
func (b *Backend) markWritten(c call, err error) {
	if err != nil || b.cache == nil {
		b.cache = nil
	} else {
		for _, id := range c.policies {
			b.cache.dirty[id] = true
		}
	}
	if err == nil {
		for _, path := range c.waitFor {
			b.pending[path] = true
		}
	}
}

// patch sends one call. When NSX refuses it because an object changed since it was read, the
// domain is read again: if every object the call updates is still microseg's, the call is sent
// again with the current revisions (it states the whole desired content, so it overwrites the
// edit, as drift repair would); otherwise nothing is written.
func (b *Backend) patch(ctx context.Context, c call, res *nsxsync.ApplyResult) error {
	children := c.children
	for attempt := 0; ; attempt++ {
		body := nsxclient.NewInfra(nsxclient.DomainRef(b.cfg.Domain, children...))
		err := b.client.PatchInfra(ctx, body, nsxclient.PatchInfraOptions{EnforceRevisionCheck: c.revisions})
		res.Writes++
		if err == nil || !nsxclient.IsStaleRevision(err) || attempt == maxStaleRetries {
			return err
		}
		t, rerr := b.readTree(ctx, nsxclient.ResourceSecurityPolicy, nsxclient.ResourceRule, nsxclient.ResourceGroup)
		res.Reads++
		if rerr != nil {
			return fmt.Errorf("%w (and re-reading after it: %w)", err, rerr)
		}
		st := newState(b.cfg.ClusterID, b.cfg.Domain, t.policies, t.rules, t.groups)
		if children, err = refreshRevisions(children, st); err != nil {
			return err
		}
		res.StaleRetries++
	}
}

// refreshRevisions returns a copy of children whose revisions are the state's: dropped for an
// object that no longer exists (PATCH creates it again), an error for one that is no longer
// microseg's.
func refreshRevisions(children []nsxclient.ChildNode, st *State) ([]nsxclient.ChildNode, error) {
	out := slices.Clone(children)
	for i := range out {
		n := &out[i]
		switch {
		case n.MarkedForDelete:
		case n.Group != nil:
			g := *n.Group
			cur, ok := st.groups[g.ID]
			if ok && !cur.owned {
				return nil, fmt.Errorf("group %s: %w", cur.body.Path, ErrNotOwned)
			}
			g.Revision = nil
			if ok {
				g.Revision = cur.body.Revision
			}
			n.Group = &g
		case n.SecurityPolicy != nil:
			sp := *n.SecurityPolicy
			cur, ok := st.policies[sp.ID]
			if ok && !cur.owned {
				return nil, fmt.Errorf("security policy %s: %w", cur.body.Path, ErrNotOwned)
			}
			sp.Revision = nil
			if ok {
				sp.Revision = cur.body.Revision
			}
			rules := map[string]*int64{}
			if ok {
				for _, r := range cur.rules {
					rules[r.ID] = r.Revision
				}
			}
			sp.Children = slices.Clone(sp.Children)
			for j := range sp.Children {
				if r := sp.Children[j].Rule; r != nil && !sp.Children[j].MarkedForDelete {
					rr := *r
					rr.Revision = rules[rr.ID]
					sp.Children[j].Rule = &rr
				}
			}
			n.SecurityPolicy = &sp
		}
	}
	return out, nil
}

// waitRealized polls until NSX has realized every path (policies: realized-entities all
// REALIZED; groups: state SUCCESS, for all of them in one read per round), a realization fails
// (an error naming NSX's alarms), or Config.RealizationTimeout passes (ErrNotRealized). Realized
// paths leave the pending set.
func (b *Backend) waitRealized(ctx context.Context, paths []string, res *nsxsync.ApplyResult) error {
	left := map[string]bool{}
	for _, p := range paths {
		left[p] = true
	}
	if len(left) == 0 {
		return nil
	}
	deadline := time.Now().Add(b.cfg.RealizationTimeout)
	for {
		if err := b.checkRealized(ctx, left, res); err != nil {
			return err
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("policy backend: NSX has not realized %d of the objects microseg wrote within %s (for example %s): %w",
				len(left), b.cfg.RealizationTimeout, firstKey(left), ErrNotRealized)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("policy backend: waiting for NSX to realize the change: %w", ctx.Err())
		case <-time.After(b.cfg.RealizationPoll):
		}
	}
}

func (b *Backend) checkRealized(ctx context.Context, left map[string]bool, res *nsxsync.ApplyResult) error {
	groupsLeft := false
	for path := range left {
		if strings.Contains(path, "/groups/") {
			groupsLeft = true
			continue
		}
		entities, err := b.client.RealizedEntities(ctx, path)
		res.Reads++
		if nsxclient.IsNotFound(err) {
			b.done(left, path) // deleted since: nothing left to realize
			continue
		}
		if err != nil {
			return fmt.Errorf("policy backend: reading the realization of %s: %w", path, err)
		}
		realized := len(entities) > 0
		for _, e := range entities {
			switch e.State {
			case nsxclient.StateError:
				return &nsxclient.RealizationError{IntentPath: path, Entity: e.EntityType, Alarms: e.Alarms}
			case nsxclient.StateRealized:
			default:
				realized = false
			}
		}
		if realized {
			b.done(left, path)
		}
	}
	if !groupsLeft {
		return nil
	}
	t, err := b.readTree(ctx, nsxclient.ResourceGroup)
	res.Reads++
	if err != nil {
		return fmt.Errorf("policy backend: reading the realization of groups: %w", err)
	}
	byPath := map[string]nsxclient.PolicyGroup{}
	for _, g := range t.groups {
		byPath[g.Path] = g
	}
	for path := range left {
		if !strings.Contains(path, "/groups/") {
			continue
		}
		g, ok := byPath[path]
		switch {
		case !ok || g.State == "SUCCESS":
			b.done(left, path)
		case g.State == "FAILURE":
			return &nsxclient.RealizationError{IntentPath: path, Entity: "Group"}
		}
	}
	return nil
}

func (b *Backend) done(left map[string]bool, path string) {
	delete(left, path)
	delete(b.pending, path)
}

func firstKey(m map[string]bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys[0]
}
