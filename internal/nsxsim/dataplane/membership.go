package dataplane

import (
	"maps"
	"slices"

	"github.com/microseg/microseg/nsxclient"
)

// Membership is the effective content of an NSGroup: what it selects directly (static members
// and membership criteria, ORed) plus everything its nested groups select, transitively.
type Membership struct {
	// Ports are the effective logical port ids, sorted: ports selected directly, ports on member
	// logical switches, and the ports of nested groups.
	Ports []string
	// IPSets and LogicalSwitches are the effective IPSet and logical switch member ids, sorted.
	IPSets          []string
	LogicalSwitches []string
	// IPs are the addresses bound to the effective ports plus the addresses of the effective
	// IPSets.
	IPs AddrSet
}

// groupInfo is a group's compiled effective membership.
type groupInfo struct {
	ports    portSet
	ipsets   []string
	switches []string
	addrs    AddrSet
}

// directMembers is what one group's own expressions select, before nesting is expanded.
type directMembers struct {
	ports                    portSet
	ipsets, switches, groups []string
}

// catalog lists every object a group expression can select, per object type, with indexes that
// let the common expressions (static member by id, tag EQUALS on ports) avoid a full scan.
type catalog struct {
	objects map[string][]candidate    // by target type, in the order of the index below
	byID    map[string]map[string]int // target type → id → position in objects
	byTag   map[nsxclient.Tag][]int   // (scope, tag) → port positions
	byScope map[string][]int          // scope → port positions
	byValue map[string][]int          // tag value → port positions
}

func (dp *Dataplane) newCatalog(snap *Snapshot) *catalog {
	c := &catalog{
		objects: map[string][]candidate{},
		byID:    map[string]map[string]int{},
		byTag:   map[nsxclient.Tag][]int{},
		byScope: map[string][]int{},
		byValue: map[string][]int{},
	}
	add := func(kind string, cand candidate) {
		if c.byID[kind] == nil {
			c.byID[kind] = map[string]int{}
		}
		c.byID[kind][cand.id] = len(c.objects[kind])
		c.objects[kind] = append(c.objects[kind], cand)
	}
	for i, p := range dp.ports {
		add(nsxclient.TargetLogicalPort, candidate{id: p.id, name: p.name, tags: p.tags})
		for j, t := range p.tags {
			if slices.Contains(p.tags[:j], t) {
				continue // a duplicate tag must not list the port twice
			}
			c.byTag[t] = append(c.byTag[t], i)
			if !slices.ContainsFunc(p.tags[:j], func(o nsxclient.Tag) bool { return o.Scope == t.Scope }) {
				c.byScope[t.Scope] = append(c.byScope[t.Scope], i)
			}
			if !slices.ContainsFunc(p.tags[:j], func(o nsxclient.Tag) bool { return o.Tag == t.Tag }) {
				c.byValue[t.Tag] = append(c.byValue[t.Tag], i)
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(dp.switchPorts)) {
		// Guess: the snapshot has no switch objects, so a switch is known only by id and has no
		// tags; tag expressions on LogicalSwitch therefore match nothing.
		add(targetLogicalSwitch, candidate{id: id, name: id})
	}
	for _, id := range slices.Sorted(maps.Keys(snap.IPSets)) {
		s := snap.IPSets[id]
		add(nsxclient.TargetIPSet, candidate{id: id, name: s.DisplayName, tags: slices.Clone(s.Tags)})
	}
	for _, id := range slices.Sorted(maps.Keys(snap.Groups)) {
		g := snap.Groups[id]
		add(nsxclient.TargetNSGroup, candidate{id: id, name: g.DisplayName, tags: slices.Clone(g.Tags)})
	}
	return c
}

// selected returns the positions (in objects[kind]) of the objects e selects, ascending.
func (c *catalog) selected(e nsxclient.NSGroupExpression) (kind string, positions []int) {
	kind = exprKind(e)
	objs := c.objects[kind]
	narrowed, ok := c.narrow(e, kind)
	if !ok {
		narrowed = nil
		for i := range objs {
			if exprMatches(e, kind, &objs[i]) {
				narrowed = append(narrowed, i)
			}
		}
		return kind, narrowed
	}
	out := make([]int, 0, len(narrowed))
	for _, i := range narrowed {
		if exprMatches(e, kind, &objs[i]) {
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return kind, slices.Compact(out)
}

// narrow returns a superset of the objects e can select when an index gives one; ok is false
// when e needs a full scan.
func (c *catalog) narrow(e nsxclient.NSGroupExpression, kind string) (positions []int, ok bool) {
	switch e.ResourceType {
	case nsxclient.ExprSimple:
		if e.TargetProperty == "id" && isEqualsOp(e.Op) {
			if i, found := c.byID[kind][e.Value]; found {
				return []int{i}, true
			}
			return nil, true
		}
	case nsxclient.ExprTag:
		if kind != nsxclient.TargetLogicalPort || !isEqualsOp(e.ScopeOp) || !isEqualsOp(e.TagOp) {
			return nil, false
		}
		switch {
		case e.Scope != "" && e.Tag != "":
			return c.byTag[nsxclient.Tag{Scope: e.Scope, Tag: e.Tag}], true
		case e.Scope != "":
			return c.byScope[e.Scope], true
		case e.Tag != "":
			return c.byValue[e.Tag], true
		}
	case nsxclient.ExprComplex:
		best, found := []int(nil), false
		for _, sub := range e.Expressions {
			if p, ok := c.narrow(sub, kind); ok && (!found || len(p) < len(best)) {
				best, found = p, true
			}
		}
		return best, found
	}
	return nil, false
}

// direct evaluates a group's static members and membership criteria (ORed).
func (c *catalog) direct(g nsxclient.NSGroup, nports int) directMembers {
	d := directMembers{ports: newPortSet(nports)}
	for _, exprs := range [][]nsxclient.NSGroupExpression{g.Members, g.MembershipCriteria} {
		for _, e := range exprs {
			kind, positions := c.selected(e)
			for _, i := range positions {
				id := c.objects[kind][i].id
				switch kind {
				case nsxclient.TargetLogicalPort:
					d.ports.add(i) // port positions are port indexes
				case nsxclient.TargetIPSet:
					d.ipsets = append(d.ipsets, id)
				case targetLogicalSwitch:
					d.switches = append(d.switches, id)
				case nsxclient.TargetNSGroup:
					d.groups = append(d.groups, id)
				}
			}
		}
	}
	return d
}

// compileGroups computes every group's effective membership. Nesting is expanded by walking the
// graph of nested groups from each group; a cycle simply gives every group on it the same
// membership, as the union is taken over the set of reachable groups.
func (dp *Dataplane) compileGroups(snap *Snapshot) {
	cat := dp.newCatalog(snap)
	ids := slices.Sorted(maps.Keys(snap.Groups))
	direct := make(map[string]*directMembers, len(ids))
	for _, id := range ids {
		d := cat.direct(snap.Groups[id], len(dp.ports))
		direct[id] = &d
	}
	dp.groups = make(map[string]*groupInfo, len(ids))
	for _, id := range ids {
		g := &groupInfo{ports: newPortSet(len(dp.ports))}
		var addrs []AddrSet
		reached := map[string]bool{id: true}
		for queue := []string{id}; len(queue) > 0; queue = queue[1:] {
			d := direct[queue[0]]
			g.ports.addAll(d.ports)
			g.ipsets = append(g.ipsets, d.ipsets...)
			g.switches = append(g.switches, d.switches...)
			for _, sw := range d.switches {
				g.ports.addAll(dp.switchPorts[sw])
			}
			for _, nested := range d.groups {
				if !reached[nested] {
					reached[nested] = true
					queue = append(queue, nested)
				}
			}
		}
		slices.Sort(g.ipsets)
		g.ipsets = slices.Clip(slices.Compact(g.ipsets))
		slices.Sort(g.switches)
		g.switches = slices.Clip(slices.Compact(g.switches))
		g.ports.each(func(i int) { addrs = append(addrs, dp.ports[i].addrs) })
		for _, s := range g.ipsets {
			addrs = append(addrs, dp.ipsets[s])
		}
		g.addrs = unionAddrSets(addrs...)
		dp.groups[id] = g
	}
}

// Membership returns the effective membership of an NSGroup; ok is false for an unknown group.
func (dp *Dataplane) Membership(groupID string) (m Membership, ok bool) {
	g, ok := dp.groups[groupID]
	if !ok {
		return Membership{}, false
	}
	m = Membership{
		Ports:           dp.portIDs(g.ports),
		IPSets:          slices.Clone(g.ipsets),
		LogicalSwitches: slices.Clone(g.switches),
		IPs:             g.addrs,
	}
	return m, true
}

// EffectivePorts returns the sorted ids of the logical ports in an NSGroup (nil if unknown).
func (dp *Dataplane) EffectivePorts(groupID string) []string {
	m, _ := dp.Membership(groupID)
	return m.Ports
}

// EffectiveIPs returns the addresses of an NSGroup (empty if unknown). Use Strings for the
// effective-ip-address-members API.
func (dp *Dataplane) EffectiveIPs(groupID string) AddrSet {
	m, _ := dp.Membership(groupID)
	return m.IPs
}

// EffectivePorts compiles the snapshot and returns a group's sorted effective port ids. To ask
// about many groups, Compile once and use Dataplane.EffectivePorts.
func EffectivePorts(snap Snapshot, groupID string) []string {
	return Compile(snap).EffectivePorts(groupID)
}

// EffectiveIPs compiles the snapshot and returns a group's effective addresses.
func EffectiveIPs(snap Snapshot, groupID string) AddrSet {
	return Compile(snap).EffectiveIPs(groupID)
}

func (dp *Dataplane) portIDs(s portSet) []string {
	var ids []string
	s.each(func(i int) { ids = append(ids, dp.ports[i].id) })
	return ids
}
