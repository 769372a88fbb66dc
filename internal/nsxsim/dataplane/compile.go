package dataplane

import (
	"cmp"
	"maps"
	"net/netip"
	"slices"

	"github.com/microseg/microseg/nsxclient"
)

// Dataplane is a compiled snapshot, ready to trace flows. It is immutable and safe for
// concurrent use.
type Dataplane struct {
	ports       []portInfo            // sorted by id; a port's position is its index everywhere
	portIndex   map[string]int        // port id → index
	addrOwner   map[netip.Addr]int    // bound address → index of the lowest port id binding it
	switchPorts map[string]portSet    // logical switch id → its ports
	ipsets      map[string]AddrSet    // IPSet id → addresses
	groups      map[string]*groupInfo // NSGroup id → effective membership
	services    map[string]serviceMatcher
	sections    []compiledSection
	// policy is the Policy API's DFW, evaluated before sections; nil without one.
	policy *policyPlane
	// defaultAction decides a side when no rule matched.
	defaultAction string
}

// portInfo is what the dataplane needs of a logical port.
type portInfo struct {
	id, name string
	tags     []nsxclient.Tag
	addrs    AddrSet
	// bound are the port's single-address bindings in binding order: the candidates for the
	// flow address when a flow names the port but no IP.
	bound []netip.Addr
	// policyPath and segment are set when the port is a Policy segment port.
	policyPath, segment string
}

// Compile precomputes everything Trace needs from a snapshot: port addresses, IPSets, every
// group's effective membership, and each rule's applied-to port set, address sets and services.
func Compile(snap Snapshot) *Dataplane {
	dp := &Dataplane{
		portIndex:     make(map[string]int, len(snap.Ports)),
		addrOwner:     make(map[netip.Addr]int, len(snap.Ports)),
		switchPorts:   map[string]portSet{},
		ipsets:        make(map[string]AddrSet, len(snap.IPSets)),
		services:      make(map[string]serviceMatcher, len(snap.NSServices)),
		defaultAction: cmp.Or(snap.DefaultAction, actionAllow),
	}
	dp.compilePorts(&snap)
	for id, s := range snap.IPSets {
		dp.ipsets[id] = parseAddrEntries(s.IPAddresses)
	}
	for id, el := range snap.NSServices {
		dp.services[id] = compileServiceElement(&el)
	}
	dp.compileGroups(&snap)
	dp.compileSections(&snap)
	if snap.Policy != nil {
		dp.compilePolicy(snap.Policy)
	}
	return dp
}

func (dp *Dataplane) compilePorts(snap *Snapshot) {
	ids := slices.Sorted(maps.Keys(snap.Ports))
	dp.ports = make([]portInfo, len(ids))
	for i, id := range ids {
		dp.portIndex[id] = i
	}
	for i, id := range ids {
		p := snap.Ports[id]
		info := portInfo{id: id, name: p.DisplayName, tags: slices.Clone(p.Tags)}
		var ranges []addrRange
		for _, b := range p.AddressBindings {
			r, ok := parseAddrEntry(b.IPAddress)
			if !ok {
				continue
			}
			ranges = append(ranges, r)
			if r.from == r.to {
				info.bound = append(info.bound, r.from)
				if _, taken := dp.addrOwner[r.from]; !taken {
					dp.addrOwner[r.from] = i // ids are ascending: the lowest id wins
				}
			}
		}
		info.addrs = newAddrSet(ranges)
		dp.ports[i] = info
		if p.LogicalSwitchID == "" {
			continue
		}
		sw := dp.switchPorts[p.LogicalSwitchID]
		if sw == nil {
			sw = newPortSet(len(ids))
			dp.switchPorts[p.LogicalSwitchID] = sw
		}
		sw.add(i)
	}
}
