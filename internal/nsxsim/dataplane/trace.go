package dataplane

import (
	"fmt"
	"net/netip"
	"strings"
)

// resolvedFlow is a Flow with its endpoints resolved to ports (index, or -1 for an outside
// endpoint) and addresses, and its protocol to an IP protocol number.
type resolvedFlow struct {
	srcPort, dstPort int // L4 ports
	src, dst         netip.Addr
	srcIdx, dstIdx   int
	proto            int
	// The addresses as lookup keys, and their family: computed once, used by every rule.
	srcKey, dstKey u128
	is4            bool
}

func (f *resolvedFlow) family() int {
	if f.is4 {
		return 4
	}
	return 6
}

// Trace compiles the snapshot and traces one flow. To trace many flows over one snapshot,
// Compile once and call Dataplane.Trace.
func Trace(snap Snapshot, f Flow) (Result, error) { return Compile(snap).Trace(f) }

// Trace evaluates a flow at its source port (rules with direction OUT or IN_OUT) and at its
// destination port (IN or IN_OUT), each first-match over sections then rules. The error reports
// a flow that cannot be traced: an unknown port, a malformed or missing address, mixed address
// families, an unknown protocol or an out-of-range L4 port.
func (dp *Dataplane) Trace(f Flow) (Result, error) {
	rf, err := dp.resolve(f)
	if err != nil {
		return Result{}, err
	}
	res := Result{
		Source:      dp.evaluate(&rf, rf.srcIdx, rf.src, true),
		Destination: dp.evaluate(&rf, rf.dstIdx, rf.dst, false),
	}
	switch {
	case !res.Source.Allows():
		res.Action = res.Source.Action
	case !res.Destination.Allows():
		res.Action = res.Destination.Action
	default:
		res.Allowed, res.Action = true, actionAllow
	}
	return res, nil
}

// evaluate runs first-match at one port; idx -1 is an outside endpoint, which the DFW does not
// see.
func (dp *Dataplane) evaluate(f *resolvedFlow, idx int, addr netip.Addr, outbound bool) SideVerdict {
	if idx < 0 {
		return SideVerdict{IP: addr.String()}
	}
	v := SideVerdict{Evaluated: true, PortID: dp.ports[idx].id, IP: addr.String()}
	if dp.policy != nil && dp.policy.evaluate(f, idx, outbound, &v) {
		return v
	}
	for si := range dp.sections {
		s := &dp.sections[si]
		if s.appliesTo != nil && !s.appliesTo.has(idx) {
			continue
		}
		for ri := range s.rules {
			r := &s.rules[ri]
			if !r.matches(f, idx, outbound) {
				continue
			}
			v.Action = r.action
			v.SectionID, v.SectionName = s.id, s.name
			v.RuleID, v.RuleName = r.id, r.name
			v.Default = s.isDefault || r.isDefault
			return v
		}
	}
	v.Action, v.Default = dp.defaultAction, true
	return v
}

// resolve turns a Flow into ports, addresses and a protocol number.
func (dp *Dataplane) resolve(f Flow) (resolvedFlow, error) {
	rf := resolvedFlow{srcPort: f.SrcPort, dstPort: f.DstPort}
	var err error
	if rf.srcIdx, rf.src, err = dp.endpoint("source", f.SrcPortID, f.SrcIP); err != nil {
		return rf, err
	}
	if rf.dstIdx, rf.dst, err = dp.endpoint("destination", f.DstPortID, f.DstIP); err != nil {
		return rf, err
	}
	// Pick the addresses of port-only endpoints: the other side's family if it is fixed,
	// otherwise IPv4 when both ports have one, otherwise IPv6.
	for _, fam := range dp.familyPreference(rf.src, rf.dst) {
		src, okS := dp.portAddr(rf.srcIdx, rf.src, fam)
		dst, okD := dp.portAddr(rf.dstIdx, rf.dst, fam)
		if okS && okD {
			rf.src, rf.dst = src, dst
			break
		}
	}
	switch {
	case !rf.src.IsValid():
		return rf, fmt.Errorf("source %q has no IP address of the flow's family", f.SrcPortID)
	case !rf.dst.IsValid():
		return rf, fmt.Errorf("destination %q has no IP address of the flow's family", f.DstPortID)
	case rf.src.Is4() != rf.dst.Is4():
		return rf, fmt.Errorf("source %s and destination %s are of different address families", rf.src, rf.dst)
	}
	rf.is4, rf.srcKey, rf.dstKey = rf.src.Is4(), addrKey(rf.src), addrKey(rf.dst)
	switch strings.ToUpper(f.Protocol) {
	case "TCP":
		rf.proto = protoTCP
	case "UDP":
		rf.proto = protoUDP
	case "SCTP":
		rf.proto = protoSCTP
	case "ICMP", "ICMPV4", "ICMPV6":
		rf.proto = protoICMP
		if rf.family() == 6 {
			rf.proto = protoICMPv6
		}
		rf.srcPort, rf.dstPort = 0, 0
	default:
		return rf, fmt.Errorf("unknown protocol %q (want TCP, UDP, SCTP or ICMP)", f.Protocol)
	}
	if rf.srcPort < 0 || rf.srcPort > 65535 || rf.dstPort < 0 || rf.dstPort > 65535 {
		return rf, fmt.Errorf("L4 ports must be in 0-65535 (got source %d, destination %d)", f.SrcPort, f.DstPort)
	}
	return rf, nil
}

// endpoint resolves one side: its port index (-1 outside the DFW) and its address if given.
func (dp *Dataplane) endpoint(side, portID, ip string) (int, netip.Addr, error) {
	var addr netip.Addr
	if ip != "" {
		a, err := netip.ParseAddr(strings.TrimSpace(ip))
		if err != nil || a.Zone() != "" {
			return -1, addr, fmt.Errorf("%s IP %q is not an IP address", side, ip)
		}
		addr = a
	}
	if portID != "" {
		idx, ok := dp.portIndex[portID]
		if !ok {
			return -1, addr, fmt.Errorf("%s logical port %q does not exist", side, portID)
		}
		return idx, addr, nil
	}
	if !addr.IsValid() {
		return -1, addr, fmt.Errorf("%s needs a logical port id or an IP address", side)
	}
	if idx, ok := dp.addrOwner[addr]; ok {
		return idx, addr, nil
	}
	return -1, addr, nil
}

// familyPreference lists the address families (4 or 6) to try for port-only endpoints.
func (dp *Dataplane) familyPreference(src, dst netip.Addr) []int {
	switch {
	case src.IsValid():
		return []int{familyOf(src)}
	case dst.IsValid():
		return []int{familyOf(dst)}
	}
	return []int{4, 6}
}

// portAddr returns the address a side uses: the given one, or the port's first bound address of
// family fam.
func (dp *Dataplane) portAddr(idx int, given netip.Addr, fam int) (netip.Addr, bool) {
	if given.IsValid() {
		return given, true
	}
	if idx < 0 {
		return netip.Addr{}, false
	}
	for _, a := range dp.ports[idx].bound {
		if familyOf(a) == fam {
			return a, true
		}
	}
	return netip.Addr{}, false
}

func familyOf(a netip.Addr) int {
	if a.Is4() {
		return 4
	}
	return 6
}
