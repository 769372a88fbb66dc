package dataplane

import "github.com/microseg/microseg/nsxclient"

// addrMatcher is a rule's compiled sources or destinations.
type addrMatcher struct {
	any    bool // the list was empty
	negate bool // sources_excluded / destinations_excluded
	set    AddrSet
}

// matches takes the address as a key (see addrKey) and its family, computed once per trace.
func (m *addrMatcher) matches(k u128, is4 bool) bool {
	if m.any {
		return true
	}
	spans := m.set.v6
	if is4 {
		spans = m.set.v4
	}
	return containsKey(spans, k) != m.negate
}

// compileAddrMatcher unions the addresses of every reference. Guess: the excluded flag negates
// a non-empty list only; "any" stays "any".
func (dp *Dataplane) compileAddrMatcher(refs []nsxclient.ResourceReference, excluded bool) addrMatcher {
	if len(refs) == 0 {
		return addrMatcher{any: true}
	}
	sets := make([]AddrSet, 0, len(refs))
	for _, ref := range refs {
		sets = append(sets, dp.refAddrs(ref))
	}
	return addrMatcher{negate: excluded, set: unionAddrSets(sets...)}
}

// refAddrs returns the addresses a source or destination reference stands for. Invalid
// references, references to missing objects and unsupported types (MACSet, ...) stand for no
// address, so they never match.
func (dp *Dataplane) refAddrs(ref nsxclient.ResourceReference) AddrSet {
	if !refValid(ref) {
		return AddrSet{}
	}
	switch ref.TargetType {
	case nsxclient.TargetNSGroup:
		if g, ok := dp.groups[ref.TargetID]; ok {
			return g.addrs
		}
	case nsxclient.TargetIPSet:
		return dp.ipsets[ref.TargetID]
	case nsxclient.TargetLogicalPort:
		if i, ok := dp.portIndex[ref.TargetID]; ok {
			return dp.ports[i].addrs
		}
	case targetLogicalSwitch:
		var sets []AddrSet
		dp.switchPorts[ref.TargetID].each(func(i int) { sets = append(sets, dp.ports[i].addrs) })
		return unionAddrSets(sets...)
	case nsxclient.TargetIPv4Address, nsxclient.TargetIPv6Address:
		r, ok := parseAddrEntry(ref.TargetID)
		if ok && r.from.Is4() == (ref.TargetType == nsxclient.TargetIPv4Address) {
			return newAddrSet([]addrRange{r})
		}
	}
	return AddrSet{}
}

// compileAppliedTo returns the ports an applied_tos list covers, or nil when the list is empty
// (no restriction). NSGroups contribute their effective ports (IPSet members have none, which is
// NSX's "an NSGroup with IPSets is ignored in applied-to"); LogicalRouter and invalid references
// contribute nothing.
func (dp *Dataplane) compileAppliedTo(refs []nsxclient.ResourceReference) portSet {
	if len(refs) == 0 {
		return nil
	}
	s := newPortSet(len(dp.ports))
	for _, ref := range refs {
		if !refValid(ref) {
			continue
		}
		switch ref.TargetType {
		case nsxclient.TargetNSGroup:
			if g, ok := dp.groups[ref.TargetID]; ok {
				s.addAll(g.ports)
			}
		case nsxclient.TargetLogicalPort:
			if i, ok := dp.portIndex[ref.TargetID]; ok {
				s.add(i)
			}
		case targetLogicalSwitch:
			s.addAll(dp.switchPorts[ref.TargetID])
		}
	}
	return s
}

// refValid is false once NSX has flagged the reference as dangling (is_valid=false).
func refValid(ref nsxclient.ResourceReference) bool { return ref.IsValid == nil || *ref.IsValid }
