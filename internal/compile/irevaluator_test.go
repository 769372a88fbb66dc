package compile

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/microseg/microseg/internal/ir"
)

// This file is an independent model of how NSX would run an IR Model: NCP-style logical ports
// with tags, group membership from those tags, first-match evaluation of the DFW at a port. It
// shares no code with the compiler.

// testFlow is the first packet of a connection.
type testFlow struct {
	src, dst netip.Addr
	proto    string // TCP, UDP, SCTP, ICMP
	port     int
}

func (f testFlow) String() string {
	return fmt.Sprintf("%s -> %s %s/%d", f.src, f.dst, f.proto, f.port)
}

// ncpPort is a logical port as NCP would create it for a pod.
type ncpPort struct {
	name string // namespace/name, for messages
	tags []ir.TagMatch
	ips  []netip.Addr
}

// ncpTags are the tags NCP puts on a pod's port: cluster, project, pod name, one per label. Like
// NCP, it copies every label, keys in NCP's own scopes included (a label ncp/project=z1 gives the
// port a second, forged project tag, which the compiler must never trust), fits 30 tags per object
// (labels past 27 are dropped, in key order here) and truncates keys past 128 characters.
func ncpTags(cluster, ns, name string, labels map[string]string) []ir.TagMatch {
	tags := []ir.TagMatch{{Scope: "ncp/cluster", Tag: cluster}, {Scope: "ncp/project", Tag: ns}, {Scope: "ncp/pod", Tag: name}}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if len(tags) == 30 {
			break
		}
		scope := k
		if len(scope) > 128 {
			scope = scope[:128]
		}
		tags = append(tags, ir.TagMatch{Scope: scope, Tag: labels[k]})
	}
	return tags
}

type irEvaluator struct {
	// foldCase makes tag matching case-insensitive, as NSX ≥ 3 documents; the 2.5 spec does not
	// say. The compiler must be exact either way.
	foldCase bool
	m        *ir.Model
	groups   map[string]*ir.Group
	ports    []ncpPort
	external map[string][]netip.Addr // NSX groups microseg does not own: display name → members
	portSets map[string]map[int]bool
	addrSets map[string]map[netip.Addr]bool
}

func newIREvaluator(m *ir.Model, ports []ncpPort, external map[string][]netip.Addr, foldCase bool) *irEvaluator {
	e := &irEvaluator{foldCase: foldCase, m: m, groups: map[string]*ir.Group{}, ports: ports, external: external,
		portSets: map[string]map[int]bool{}, addrSets: map[string]map[netip.Addr]bool{}}
	for i := range m.Groups {
		e.groups[m.Groups[i].Key] = &m.Groups[i]
	}
	return e
}

// groupPorts is a group's effective logical ports: tag criteria ORed, tags of one criterion
// ANDed (each on some tag of the port, empty tag value meaning any), nested groups' ports.
func (e *irEvaluator) groupPorts(key string) map[int]bool {
	if s, ok := e.portSets[key]; ok {
		return s
	}
	g, ok := e.groups[key]
	if !ok {
		panic("unknown group " + key)
	}
	s := map[int]bool{}
	switch g.Kind {
	case ir.KindTagGroup:
		for i, p := range e.ports {
			for _, c := range g.Criteria {
				if criterionMatches(c, p.tags, e.foldCase) {
					s[i] = true
					break
				}
			}
		}
	case ir.KindNestedGroup:
		for _, m := range g.Members {
			for i := range e.groupPorts(m) {
				s[i] = true
			}
		}
	}
	e.portSets[key] = s
	return s
}

func criterionMatches(c ir.Criterion, tags []ir.TagMatch, foldCase bool) bool {
	eq := func(a, b string) bool { return a == b }
	if foldCase {
		eq = strings.EqualFold
	}
	for _, want := range c.Tags {
		found := false
		for _, t := range tags {
			if eq(t.Scope, want.Scope) && (want.Tag == "" || eq(t.Tag, want.Tag)) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// groupAddrs is a group's effective addresses: its ports' addresses, its IPSet entries, its
// nested groups' and NSX groups' addresses.
func (e *irEvaluator) groupAddrs(key string) map[netip.Addr]bool {
	if s, ok := e.addrSets[key]; ok {
		return s
	}
	g := e.groups[key]
	s := map[netip.Addr]bool{}
	for i := range e.groupPorts(key) {
		for _, a := range e.ports[i].ips {
			s[a] = true
		}
	}
	switch g.Kind {
	case ir.KindIPSet:
		// Materialise only what the test can ask about: addresses of ports and NSX groups are
		// checked with entryContains in refMatches; here keep the entries for lookup.
	case ir.KindNestedGroup:
		for _, m := range g.Members {
			for a := range e.groupAddrs(m) {
				s[a] = true
			}
		}
		for _, n := range g.ExternalMembers {
			for _, a := range e.external[n] {
				s[a] = true
			}
		}
	}
	e.addrSets[key] = s
	return s
}

// refContains reports whether an address is in a source/destination ref.
func (e *irEvaluator) refContains(r ir.Ref, a netip.Addr) bool {
	switch {
	case r.CIDR != "":
		return entryContains(r.CIDR, a)
	case r.NSXGroup != "":
		for _, x := range e.external[r.NSXGroup] {
			if x == a {
				return true
			}
		}
		return false
	}
	return e.groupContains(r.Group, a)
}

func (e *irEvaluator) groupContains(key string, a netip.Addr) bool {
	g := e.groups[key]
	if g.Kind == ir.KindIPSet {
		for _, entry := range g.IPs {
			if entryContains(entry, a) {
				return true
			}
		}
		return false
	}
	if g.Kind == ir.KindNestedGroup {
		for _, m := range g.Members {
			if e.groupContains(m, a) {
				return true
			}
		}
	}
	return e.groupAddrs(key)[a]
}

// entryContains parses "a", "a/n" or "a-b" independently of the compiler.
func entryContains(entry string, a netip.Addr) bool {
	if lo, hi, ok := strings.Cut(entry, "-"); ok {
		l, h := netip.MustParseAddr(lo), netip.MustParseAddr(hi)
		return l.Is4() == a.Is4() && l.Compare(a) <= 0 && a.Compare(h) <= 0
	}
	if strings.Contains(entry, "/") {
		return netip.MustParsePrefix(entry).Contains(a)
	}
	return netip.MustParseAddr(entry) == a
}

func (e *irEvaluator) listMatches(refs []ir.Ref, excluded bool, a netip.Addr) bool {
	if len(refs) == 0 {
		return true
	}
	in := false
	for _, r := range refs {
		if e.refContains(r, a) {
			in = true
			break
		}
	}
	return in != excluded
}

func serviceMatches(s ir.Service, f testFlow) bool {
	switch s.Kind {
	case ir.ServiceL4PortSet:
		if s.L4Protocol != f.proto {
			return false
		}
		if len(s.DestinationPorts) == 0 {
			return true
		}
		for _, entry := range s.DestinationPorts {
			lo, hi, isRange := strings.Cut(entry, "-")
			if !isRange {
				hi = lo
			}
			l, _ := strconv.Atoi(lo)
			h, _ := strconv.Atoi(hi)
			if l <= f.port && f.port <= h {
				return true
			}
		}
		return false
	case ir.ServiceIPProtocol:
		return s.ProtocolNumber == protocolNumber(f)
	}
	return false
}

func protocolNumber(f testFlow) int {
	switch f.proto {
	case "TCP":
		return 6
	case "UDP":
		return 17
	case "SCTP":
		return 132
	case "ICMP":
		if f.src.Is4() {
			return 1
		}
		return 58
	}
	return -1
}

// verdict evaluates the DFW at one port for one direction: sections and rules top-down, first
// match wins; nothing matched is the default section's allow.
func (e *irEvaluator) verdict(port int, dir ir.Direction, f testFlow) (ir.Action, string) {
	for _, s := range e.m.Sections {
		for _, r := range s.Rules {
			if r.Direction != dir {
				continue
			}
			if (r.IPProtocol == ir.IPv4 && !f.src.Is4()) || (r.IPProtocol == ir.IPv6 && f.src.Is4()) {
				continue
			}
			applied := false
			for _, ref := range r.AppliedTo {
				if e.groupPorts(ref.Group)[port] {
					applied = true
				}
			}
			if !applied || !e.listMatches(r.Sources, r.SourcesExcluded, f.src) ||
				!e.listMatches(r.Destinations, r.DestinationsExcluded, f.dst) {
				continue
			}
			if len(r.Services) > 0 {
				ok := false
				for _, svc := range r.Services {
					if serviceMatches(svc, f) {
						ok = true
						break
					}
				}
				if !ok {
					continue
				}
			}
			return r.Action, r.Key
		}
	}
	return ir.ActionAllow, "default"
}
