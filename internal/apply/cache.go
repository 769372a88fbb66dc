package apply

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/internal/plan"
	"github.com/microseg/microseg/nsxclient"
)

// Cache is the Manager backend's realized-state cache: what microseg knows NSX holds. A full
// read builds it; Apply keeps it up to date from the replies of microseg's own writes (ids,
// _revisions, bodies, and where created and moved objects went); the incremental read re-reads what others changed (sections whose
// _revision moved; NSGroups and IP sets by a rolling verification) and the read-back confirms
// what microseg wrote. A failed apply drops it, so the next read is a full one. How a backend's
// cache must behave is in docs/architecture.md ("The sync path").
//
// A Cache serves one backend, one sync at a time; its mutex only guards against misuse.
type Cache struct {
	mu     sync.Mutex
	verify nsxsync.Verify
	now    func() time.Time

	clusterID string
	valid     bool
	// order is every LAYER3 section id in DFW order, as last listed.
	order    []string
	sections map[string]*cachedSection
	groups   map[string]nsxclient.NSGroup // owned NSGroups by id
	ipSets   map[string]nsxclient.IPSet   // owned IPSets by id
	external map[string]string            // id → display name of the NSGroups microseg does not own

	// Since the last check of NSX: sections microseg wrote (their _revision is the one the
	// replies gave), sections and groups whose content is not known (a stale revision, a
	// failed write, a revision that moved under microseg), and whether a section went somewhere
	// the cache could not place it (the order must be listed again).
	written      map[string]bool
	dirty        map[string]bool
	dirtyGroups  map[string]string // id → nsxclient.TargetNSGroup or TargetIPSet
	orderChanged bool

	scan scan
}

// cachedSection is a section and, for the sections microseg owns, its rules in order.
type cachedSection struct {
	section nsxclient.FirewallSection
	rules   []nsxclient.FirewallRule
	// rulesRead: rules holds the section's rules (only owned sections' are read).
	rulesRead bool
}

// NewCache returns an empty (invalid) cache: its first read is a full one. verify paces the
// rolling verification of NSGroups and IP sets; now is the clock (nil: time.Now).
func NewCache(verify nsxsync.Verify, now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	return &Cache{verify: verify.WithDefaults(), now: now}
}

// Drop forgets everything: the next read is a full one. A nil cache has nothing to drop.
func (c *Cache) Drop() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.valid = false
}

// reset replaces the content with a full read's.
func (c *Cache) reset(clusterID string, st plan.State) {
	c.clusterID, c.valid = clusterID, true
	c.order = make([]string, len(st.Sections))
	c.sections = make(map[string]*cachedSection, len(st.Sections))
	for i, s := range st.Sections {
		c.order[i] = s.Section.ID
		c.sections[s.Section.ID] = &cachedSection{section: s.Section, rules: s.Rules, rulesRead: c.ownsSection(s.Section)}
	}
	c.groups = make(map[string]nsxclient.NSGroup, len(st.NSGroups))
	for _, g := range st.NSGroups {
		c.groups[g.ID] = g
	}
	c.ipSets = make(map[string]nsxclient.IPSet, len(st.IPSets))
	for _, s := range st.IPSets {
		c.ipSets[s.ID] = s
	}
	c.external = make(map[string]string, len(st.ExternalGroups))
	for _, g := range st.ExternalGroups {
		c.external[g.ID] = g.DisplayName
	}
	c.clearChecks()
}

func (c *Cache) clearChecks() {
	c.written, c.dirty, c.dirtyGroups, c.orderChanged = map[string]bool{}, map[string]bool{}, map[string]string{}, false
}

// ownsSection reports whether a section is one whose rules microseg reads.
func (c *Cache) ownsSection(s nsxclient.FirewallSection) bool {
	return ownership.Owned(s.Tags, c.clusterID) && !s.IsDefault
}

// state is the cache as a plan.State. The slices are new; the rule slices are shared, and the
// cache never modifies a rule slice in place (it replaces it).
func (c *Cache) state() plan.State {
	var st plan.State
	st.Sections = make([]plan.SectionState, len(c.order))
	for i, id := range c.order {
		s := c.sections[id]
		st.Sections[i] = plan.SectionState{Section: s.section, Rules: s.rules}
	}
	for _, id := range slices.Sorted(maps.Keys(c.groups)) {
		st.NSGroups = append(st.NSGroups, c.groups[id])
	}
	for _, id := range slices.Sorted(maps.Keys(c.ipSets)) {
		st.IPSets = append(st.IPSets, c.ipSets[id])
	}
	for _, id := range slices.Sorted(maps.Keys(c.external)) {
		st.ExternalGroups = append(st.ExternalGroups, plan.ExternalGroup{ID: id, DisplayName: c.external[id]})
	}
	return st
}

// What Apply learns from NSX's replies. Every method is a no-op on a nil cache (Apply without a
// cache), and the caller holds no lock: each method locks.

func (c *Cache) learnNSGroup(g nsxclient.NSGroup) { c.learnGroup(g.ID, func() { c.groups[g.ID] = g }) }

func (c *Cache) learnIPSet(s nsxclient.IPSet) { c.learnGroup(s.ID, func() { c.ipSets[s.ID] = s }) }

// learnGroup stores a group from a reply (store writes it into its map): its content is known
// again, and the verification round counts it as fresh.
func (c *Cache) learnGroup(id string, store func()) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	store()
	delete(c.dirtyGroups, id)
	c.scan.written(id)
}

func (c *Cache) forgetGroup(id string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.groups, id)
	delete(c.ipSets, id)
	delete(c.dirtyGroups, id)
}

// invalidateGroup marks a group whose content is not known any more (kind is
// nsxclient.TargetNSGroup or TargetIPSet): the next read of it is fresh.
func (c *Cache) invalidateGroup(id, kind string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dirtyGroups[id] = kind
}

// learnSection records a section body from a reply, with its rules when withRules (the reply of
// create_with_rules, update_with_rules or revise_with_rules). pos, for a created or moved
// section, is where it went (anchor resolved); the cache places it there as NSX does.
func (c *Cache) learnSection(sec nsxclient.FirewallSection, rules []nsxclient.FirewallRule, withRules bool, pos *plan.Position) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cs, ok := c.sections[sec.ID]
	if !ok {
		cs = &cachedSection{rulesRead: true} // a section microseg has just created: no rules yet
		c.sections[sec.ID] = cs
	}
	cs.section = sec
	if withRules {
		cs.rules, cs.rulesRead = slices.Clone(rules), true
		delete(c.dirty, sec.ID)
	}
	c.written[sec.ID] = true
	if pos != nil || !ok {
		c.place(sec.ID, pos)
	}
}

// place moves (or inserts) section id to pos in the DFW order; when the anchor is unknown, the
// order is listed again at the next check.
func (c *Cache) place(id string, pos *plan.Position) {
	// In place: the states handed out hold copies, never c.order itself.
	order := c.order
	if i := slices.Index(order, id); i >= 0 {
		order = slices.Delete(order, i, i+1)
	}
	at := -1
	switch {
	case pos == nil:
	case pos.Op == plan.InsertTop:
		at = 0
	case pos.Op == plan.InsertBefore || pos.Op == plan.InsertAfter:
		if at = slices.Index(order, pos.Anchor); at >= 0 && pos.Op == plan.InsertAfter {
			at++
		}
	}
	if at < 0 {
		c.orderChanged = true
		at = len(order)
	}
	c.order = slices.Insert(order, at, id)
}

// learnSectionRevision records the revision Apply tracked for a section after its rule writes.
func (c *Cache) learnSectionRevision(id string, rev int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cs, ok := c.sections[id]; ok {
		cs.section.Revision = rev
		c.written[id] = true
	}
}

// learnRules records rules created at the top of a section (create_multiple into a new section).
func (c *Cache) learnRulesAtTop(sectionID string, rules []nsxclient.FirewallRule) {
	c.editRules(sectionID, func(cur []nsxclient.FirewallRule) ([]nsxclient.FirewallRule, bool) {
		return append(slices.Clone(rules), cur...), true
	})
}

// learnRule records a rule from a reply: in place when pos is nil, else removed from where it
// was (if anywhere) and placed at pos (anchor ids resolved).
func (c *Cache) learnRule(sectionID string, r nsxclient.FirewallRule, pos *plan.Position) {
	c.editRules(sectionID, func(cur []nsxclient.FirewallRule) ([]nsxclient.FirewallRule, bool) {
		i := slices.IndexFunc(cur, func(x nsxclient.FirewallRule) bool { return x.ID == r.ID })
		if pos == nil {
			if i < 0 {
				return nil, false
			}
			out := slices.Clone(cur)
			out[i] = r
			return out, true
		}
		out := slices.Clone(cur)
		if i >= 0 {
			out = slices.Delete(out, i, i+1)
		}
		at := 0
		switch pos.Op {
		case plan.InsertTop:
		case plan.InsertBefore, plan.InsertAfter:
			at = slices.IndexFunc(out, func(x nsxclient.FirewallRule) bool { return x.ID == pos.Anchor })
			if at < 0 {
				return nil, false
			}
			if pos.Op == plan.InsertAfter {
				at++
			}
		default:
			return nil, false
		}
		return slices.Insert(out, at, r), true
	})
}

func (c *Cache) forgetRule(sectionID, ruleID string) {
	c.editRules(sectionID, func(cur []nsxclient.FirewallRule) ([]nsxclient.FirewallRule, bool) {
		return slices.DeleteFunc(slices.Clone(cur), func(x nsxclient.FirewallRule) bool { return x.ID == ruleID }), true
	})
}

// editRules replaces a section's cached rules with edit's result; when edit cannot tell (ok
// false) or the rules were not known, the section's rules are re-read at the next check.
func (c *Cache) editRules(sectionID string, edit func([]nsxclient.FirewallRule) ([]nsxclient.FirewallRule, bool)) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cs, ok := c.sections[sectionID]
	if !ok || !cs.rulesRead {
		c.dirty[sectionID] = true
		return
	}
	rules, ok := edit(cs.rules)
	if !ok {
		c.dirty[sectionID] = true
		return
	}
	cs.rules = rules
	c.written[sectionID] = true
}

func (c *Cache) forgetSection(id string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.sections, id)
	c.order = slices.DeleteFunc(c.order, func(x string) bool { return x == id })
	delete(c.written, id)
	delete(c.dirty, id)
}

// invalidateSection marks a section whose rules are not known any more: the next read of it is
// fresh.
func (c *Cache) invalidateSection(id string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dirty[id] = true
}

// sectionRevision is the cached revision of a section (ok false when not cached).
func (c *Cache) sectionRevision(id string) (int64, bool) {
	if c == nil {
		return 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cs, ok := c.sections[id]
	if !ok {
		return 0, false
	}
	return cs.section.Revision, true
}
