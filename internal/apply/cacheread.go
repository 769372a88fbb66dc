package apply

import (
	"context"
	"fmt"

	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/plan"
	"github.com/microseg/microseg/nsxclient"
)

// sectionsPerPage is the most sections one GET /firewall/sections returns (NSX's page_size
// maximum and default).
const sectionsPerPage = 1000

// read serves one Read of the Manager backend through the cache (see nsxsync.ReadMode):
//
//   - ReadFull, or any mode while the cache is not valid: everything, as ReadState reads it; the
//     cache is rebuilt and a new verification round starts.
//   - ReadCached: the cache, no call.
//   - ReadIncremental: the section list (one call per 1,000 sections, each with its _revision);
//     the rules of the owned sections whose _revision moved (or that are new, or invalidated);
//     the groups a stale revision invalidated; and one step of the rolling verification of
//     NSGroups and IP sets.
//   - ReadBack: the sections microseg wrote or invalidated, by GET when they are fewer than the
//     pages of the section list, else by the list; their rules only when the _revision is not
//     the one the replies gave; and the invalidated groups.
//
// A read that fails drops the cache, so the next one is full.
func (c *Cache) read(ctx context.Context, client *nsxclient.Client, clusterID string, mode nsxsync.ReadMode, workers int, calls *counter) (plan.State, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.valid || c.clusterID != clusterID {
		mode = nsxsync.ReadFull
	}
	var err error
	switch mode {
	case nsxsync.ReadFull:
		var st plan.State
		var pages [2]int
		if st, pages, err = readAll(ctx, client, ReadOptions{ClusterID: clusterID, Concurrency: workers}, calls); err == nil {
			c.reset(clusterID, st)
			c.scan = scan{lastPages: pages} // the full read was a complete round
		}
	case nsxsync.ReadIncremental:
		if err = c.refreshSections(ctx, client, workers, calls); err == nil {
			if err = c.refreshGroups(ctx, client, calls); err == nil {
				err = c.scan.step(ctx, client, c, calls)
			}
		}
	case nsxsync.ReadBack:
		if err = c.checkWritten(ctx, client, workers, calls); err == nil {
			err = c.refreshGroups(ctx, client, calls)
		}
	}
	if err != nil {
		c.valid = false
		return plan.State{}, err
	}
	return c.state(), nil
}

// refreshSections lists the sections and re-reads the rules of the owned ones whose _revision
// moved, that the cache does not know, or that were invalidated. The order is the list's.
func (c *Cache) refreshSections(ctx context.Context, client *nsxclient.Client, workers int, calls *counter) error {
	calls.read()
	listed, err := client.ListSections(ctx, nsxclient.ListSectionsOptions{Type: nsxclient.SectionLayer3})
	if err != nil {
		return fmt.Errorf("apply: listing firewall sections: %w", err)
	}
	fresh := make([]plan.SectionState, len(listed))
	var stale []int
	for i, s := range listed {
		fresh[i].Section = s
		if !c.ownsSection(s) {
			continue
		}
		cs, ok := c.sections[s.ID]
		if ok && cs.rulesRead && cs.section.Revision == s.Revision && !c.dirty[s.ID] {
			fresh[i].Rules = cs.rules
			continue
		}
		stale = append(stale, i)
	}
	if err := readRules(ctx, client, fresh, stale, max(workers, 1), calls); err != nil {
		return err
	}
	c.order = make([]string, len(fresh))
	sections := make(map[string]*cachedSection, len(fresh))
	for i, s := range fresh {
		c.order[i] = s.Section.ID
		sections[s.Section.ID] = &cachedSection{section: s.Section, rules: s.Rules, rulesRead: c.ownsSection(s.Section)}
	}
	c.sections = sections
	c.written, c.dirty, c.orderChanged = map[string]bool{}, map[string]bool{}, false
	return nil
}

// checkWritten confirms the sections microseg wrote (and re-reads the invalidated ones): a
// section whose _revision is the one the replies gave holds what microseg wrote, since any
// change to a section or its rules moves it.
func (c *Cache) checkWritten(ctx context.Context, client *nsxclient.Client, workers int, calls *counter) error {
	ids := make(map[string]bool, len(c.written)+len(c.dirty))
	for id := range c.written {
		ids[id] = true
	}
	for id := range c.dirty {
		ids[id] = true
	}
	if len(ids) == 0 && !c.orderChanged {
		return nil
	}
	if c.orderChanged || len(ids) > (len(c.order)+sectionsPerPage-1)/sectionsPerPage {
		return c.refreshSections(ctx, client, workers, calls)
	}
	for id := range ids {
		cs, ok := c.sections[id]
		if !ok {
			continue
		}
		calls.read()
		cur, err := client.GetSection(ctx, id)
		if nsxclient.IsNotFound(err) {
			delete(c.sections, id)
			c.order = deleteID(c.order, id)
			continue
		}
		if err != nil {
			return fmt.Errorf("apply: reading back section %s: %w", id, err)
		}
		if c.ownsSection(*cur) && (cur.Revision != cs.section.Revision || c.dirty[id] || !cs.rulesRead) {
			calls.read()
			rules, err := client.ListRules(ctx, id)
			if err != nil {
				return fmt.Errorf("apply: reading back the rules of section %s: %w", id, err)
			}
			cs.rules, cs.rulesRead = rules, true
		}
		if !c.ownsSection(*cur) {
			cs.rules, cs.rulesRead = nil, false
		}
		cs.section = *cur
	}
	c.written, c.dirty = map[string]bool{}, map[string]bool{}
	return nil
}

// refreshGroups re-reads the groups a stale revision or a failed write invalidated.
func (c *Cache) refreshGroups(ctx context.Context, client *nsxclient.Client, calls *counter) error {
	for id, kind := range c.dirtyGroups {
		if err := c.refreshGroup(ctx, client, id, kind, calls); err != nil {
			return err
		}
		delete(c.dirtyGroups, id)
	}
	return nil
}

// refreshGroup GETs one NSGroup or IPSet and records what it found (nothing, when it is gone).
func (c *Cache) refreshGroup(ctx context.Context, client *nsxclient.Client, id, kind string, calls *counter) error {
	calls.read()
	if kind == nsxclient.TargetIPSet {
		s, err := client.GetIPSet(ctx, id)
		switch {
		case nsxclient.IsNotFound(err):
			delete(c.ipSets, id)
		case err != nil:
			return fmt.Errorf("apply: reading IPSet %s: %w", id, err)
		default:
			c.seeIPSet(*s)
		}
		return nil
	}
	g, err := client.GetNSGroup(ctx, id)
	switch {
	case nsxclient.IsNotFound(err):
		delete(c.groups, id)
		delete(c.external, id)
	case err != nil:
		return fmt.Errorf("apply: reading NSGroup %s: %w", id, err)
	default:
		c.seeNSGroup(*g)
	}
	return nil
}

// seeNSGroup records an NSGroup as read from NSX: microseg's, or another's by id and name.
func (c *Cache) seeNSGroup(g nsxclient.NSGroup) {
	if ownedBy(g.Tags, c.clusterID) {
		c.groups[g.ID] = g
		delete(c.external, g.ID)
		return
	}
	delete(c.groups, g.ID)
	c.external[g.ID] = g.DisplayName
}

// seeIPSet records an IPSet as read from NSX (only microseg's are kept).
func (c *Cache) seeIPSet(s nsxclient.IPSet) {
	if ownedBy(s.Tags, c.clusterID) {
		c.ipSets[s.ID] = s
		return
	}
	delete(c.ipSets, s.ID)
}

func deleteID(ids []string, id string) []string {
	out := make([]string, 0, len(ids))
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}
