package compile

import (
	"slices"
	"strconv"

	"github.com/microseg/microseg/internal/ir"
)

// Services are sets over (protocol, destination port): TCP, UDP and SCTP ports 1..65535, plus
// "other", every other IP protocol (ICMP, ICMPv6, ESP, ...) as one atom, because policies can
// only say "all protocols" or name TCP/UDP/SCTP ports. Exact set arithmetic here is what makes the
// Pass restriction exact on services; only realization into NSX services may coarsen (SCTP).

// IP protocol numbers.
const (
	protoTCP  = 6
	protoUDP  = 17
	protoSCTP = 132
)

// portRange is an inclusive range of ports.
type portRange struct{ lo, hi int32 }

// ports is a sorted list of disjoint, non-adjacent ranges within 1..65535.
type ports []portRange

func fullPorts() ports { return ports{{1, 65535}} }

func (p ports) full() bool { return len(p) == 1 && p[0] == portRange{1, 65535} }

func (p ports) union(q ports) ports {
	all := append(slices.Clone(p), q...)
	slices.SortFunc(all, func(a, b portRange) int { return int(a.lo - b.lo) })
	var out ports
	for _, r := range all {
		if n := len(out); n > 0 && r.lo <= out[n-1].hi+1 {
			out[n-1].hi = max(out[n-1].hi, r.hi)
			continue
		}
		out = append(out, r)
	}
	return out
}

func (p ports) minus(q ports) ports {
	var out ports
	for _, r := range p {
		lo := r.lo
		for _, x := range q {
			if x.hi < lo || x.lo > r.hi {
				continue
			}
			if x.lo > lo {
				out = append(out, portRange{lo, x.lo - 1})
			}
			lo = x.hi + 1
			if lo > r.hi {
				break
			}
		}
		if lo <= r.hi {
			out = append(out, portRange{lo, r.hi})
		}
	}
	return out
}

func (p ports) intersects(q ports) bool {
	for _, a := range p {
		for _, b := range q {
			if a.lo <= b.hi && b.lo <= a.hi {
				return true
			}
		}
	}
	return false
}

// svcSet is a set of services.
type svcSet struct {
	tcp, udp, sctp ports
	other          bool
}

func anyService() svcSet {
	return svcSet{tcp: fullPorts(), udp: fullPorts(), sctp: fullPorts(), other: true}
}

// protoPorts is the set of ports lo..hi of one protocol ("TCP", "UDP" or "SCTP").
func protoPorts(proto string, lo, hi int32) svcSet {
	var s svcSet
	r := ports{{lo, hi}}
	switch proto {
	case "TCP":
		s.tcp = r
	case "UDP":
		s.udp = r
	case "SCTP":
		s.sctp = r
	}
	return s
}

func (s svcSet) empty() bool {
	return len(s.tcp) == 0 && len(s.udp) == 0 && len(s.sctp) == 0 && !s.other
}

func (s svcSet) isAny() bool {
	return s.other && s.tcp.full() && s.udp.full() && s.sctp.full()
}

func (s svcSet) union(t svcSet) svcSet {
	return svcSet{tcp: s.tcp.union(t.tcp), udp: s.udp.union(t.udp), sctp: s.sctp.union(t.sctp), other: s.other || t.other}
}

func (s svcSet) minus(t svcSet) svcSet {
	return svcSet{tcp: s.tcp.minus(t.tcp), udp: s.udp.minus(t.udp), sctp: s.sctp.minus(t.sctp), other: s.other && !t.other}
}

func (s svcSet) intersects(t svcSet) bool {
	return (s.other && t.other) || s.tcp.intersects(t.tcp) || s.udp.intersects(t.udp) || s.sctp.intersects(t.sctp)
}

// realizedServices is a service set as NSX inline services.
type realizedServices struct {
	services []ir.Service // nil: any
	// sctpWidened: a Deny/Reject on some SCTP ports became one on every SCTP port.
	sctpWidened bool
	// sctpDropped: an Allow on some SCTP ports was not realized.
	sctpDropped bool
	// none: nothing realizable is left; the rule must not be emitted.
	none bool
}

// realizeServices turns a service set into inline services. L4PortSetNSService carries only TCP
// and UDP, so SCTP is fail-closed: every SCTP port (IPProtocolNSService 132) for Deny and Reject,
// nothing for Allow. Other protocols become one IPProtocolNSService per protocol number.
func (c *compiler) realizeServices(s svcSet, action ir.Action) realizedServices {
	var r realizedServices
	if len(s.sctp) > 0 && !s.sctp.full() {
		if action == ir.ActionAllow {
			s.sctp = nil
			r.sctpDropped = true
		} else {
			s.sctp = fullPorts()
			r.sctpWidened = true
		}
	}
	if s.isAny() {
		return r
	}
	if s.empty() {
		r.none = true
		return r
	}
	r.services = append(r.services, c.l4Services("TCP", s.tcp)...)
	r.services = append(r.services, c.l4Services("UDP", s.udp)...)
	if s.sctp.full() {
		r.services = append(r.services, ir.Service{Kind: ir.ServiceIPProtocol, ProtocolNumber: protoSCTP})
	}
	if s.other {
		for n := 1; n <= 254; n++ {
			if n != protoTCP && n != protoUDP && n != protoSCTP {
				r.services = append(r.services, ir.Service{Kind: ir.ServiceIPProtocol, ProtocolNumber: n})
			}
		}
	}
	return r
}

// l4Services renders one protocol's ports as L4PortSet entries of at most MaxPortsPerEntry ports.
func (c *compiler) l4Services(proto string, p ports) []ir.Service {
	if len(p) == 0 {
		return nil
	}
	if p.full() {
		return []ir.Service{{Kind: ir.ServiceL4PortSet, L4Protocol: proto}}
	}
	var out []ir.Service
	for chunk := range slices.Chunk(p, c.limits.MaxPortsPerEntry) {
		entries := make([]string, len(chunk))
		for i, r := range chunk {
			entries[i] = strconv.Itoa(int(r.lo))
			if r.hi > r.lo {
				entries[i] += "-" + strconv.Itoa(int(r.hi))
			}
		}
		out = append(out, ir.Service{Kind: ir.ServiceL4PortSet, L4Protocol: proto, DestinationPorts: entries})
	}
	return out
}
