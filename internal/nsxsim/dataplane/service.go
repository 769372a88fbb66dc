package dataplane

import (
	"strconv"
	"strings"

	"github.com/microseg/microseg/nsxclient"
)

// IP protocol numbers of the protocols a flow can carry.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
	protoSCTP   = 132
)

// ICMP echo request, the packet a Traceflow injects for an ICMP flow.
const (
	icmpv4EchoRequest = 8
	icmpv6EchoRequest = 128
)

type serviceKind uint8

const (
	serviceNever      serviceKind = iota // unsupported or unknown: matches nothing
	serviceL4PortSet                     // L4PortSetNSService
	serviceICMP                          // ICMPTypeNSService
	serviceIPProtocol                    // IPProtocolNSService
)

// serviceMatcher is one compiled service entry of a rule.
type serviceMatcher struct {
	kind serviceKind
	// L4PortSetNSService: protocol number and port lists; a nil list means any port.
	l4Proto            int
	dstPorts, srcPorts []portRange
	// ICMPTypeNSService: family (0 = either, 4, 6); type and code, -1 when not set.
	icmpFamily         int
	icmpType, icmpCode int64
	// IPProtocolNSService.
	protocolNumber int64
}

type portRange struct{ lo, hi int }

// compileService compiles one entry of a rule's services: an inline element, or a reference to
// an NSService looked up in the snapshot. Guess: NSServiceGroup references and NSServices the
// snapshot does not carry match nothing.
func (dp *Dataplane) compileService(s nsxclient.FirewallService) serviceMatcher {
	if s.Service != nil {
		return compileServiceElement(s.Service)
	}
	if s.IsValid != nil && !*s.IsValid {
		return serviceMatcher{}
	}
	if s.TargetType == targetNSService {
		return dp.services[s.TargetID] // the zero value is serviceNever
	}
	return serviceMatcher{}
}

func compileServiceElement(el *nsxclient.NSServiceElement) serviceMatcher {
	switch el.ResourceType {
	case nsxclient.ServiceL4PortSet:
		m := serviceMatcher{kind: serviceL4PortSet}
		switch el.L4Protocol {
		case nsxclient.L4ProtocolTCP:
			m.l4Proto = protoTCP
		case nsxclient.L4ProtocolUDP:
			m.l4Proto = protoUDP
		default:
			return serviceMatcher{}
		}
		m.dstPorts = parsePortRanges(el.DestinationPorts)
		m.srcPorts = parsePortRanges(el.SourcePorts)
		return m
	case nsxclient.ServiceICMPType:
		m := serviceMatcher{kind: serviceICMP, icmpType: -1, icmpCode: -1}
		switch strings.ToUpper(el.Protocol) {
		case "ICMPV4":
			m.icmpFamily = 4
		case "ICMPV6":
			m.icmpFamily = 6
		case "":
		default:
			return serviceMatcher{}
		}
		if el.ICMPType != nil {
			m.icmpType = *el.ICMPType
		}
		if el.ICMPCode != nil {
			m.icmpCode = *el.ICMPCode
		}
		return m
	case nsxclient.ServiceIPProtocol:
		if el.ProtocolNumber == nil {
			return serviceMatcher{}
		}
		return serviceMatcher{kind: serviceIPProtocol, protocolNumber: *el.ProtocolNumber}
	}
	return serviceMatcher{}
}

// parsePortRanges parses "80" and "8000-8080" entries. An empty list gives nil (any port); a
// non-empty list whose entries are all malformed gives an empty non-nil list (no port).
func parsePortRanges(entries []string) []portRange {
	if len(entries) == 0 {
		return nil
	}
	out := make([]portRange, 0, len(entries))
	for _, e := range entries {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(e), "-")
		if !isRange {
			hi = lo
		}
		l, errL := strconv.Atoi(strings.TrimSpace(lo))
		h, errH := strconv.Atoi(strings.TrimSpace(hi))
		if errL != nil || errH != nil || l < 0 || h > 65535 || l > h {
			continue
		}
		out = append(out, portRange{l, h})
	}
	return out
}

// portsMatch reports whether port p is in the list. Guess: an unspecified port (0) is in no
// explicit list.
func portsMatch(ranges []portRange, p int) bool {
	if ranges == nil {
		return true
	}
	if p == 0 {
		return false
	}
	for _, r := range ranges {
		if r.lo <= p && p <= r.hi {
			return true
		}
	}
	return false
}

func (m *serviceMatcher) matches(f *resolvedFlow) bool {
	switch m.kind {
	case serviceL4PortSet:
		return f.proto == m.l4Proto && portsMatch(m.dstPorts, f.dstPort) && portsMatch(m.srcPorts, f.srcPort)
	case serviceICMP:
		if f.proto != protoICMP && f.proto != protoICMPv6 {
			return false
		}
		if m.icmpFamily != 0 && m.icmpFamily != f.family() {
			return false
		}
		echo := int64(icmpv4EchoRequest)
		if f.family() == 6 {
			echo = icmpv6EchoRequest
		}
		return (m.icmpType < 0 || m.icmpType == echo) && (m.icmpCode < 0 || m.icmpCode == 0)
	case serviceIPProtocol:
		return int64(f.proto) == m.protocolNumber
	}
	return false
}
