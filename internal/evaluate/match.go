package evaluate

import (
	"net/netip"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/ncptags"
)

// rulesOf lists the rules of one direction whose applied_to holds the pod's port, in section
// order (cached per pod).
func (e *Evaluator) rulesOf(pod int, dir ir.Direction) []ruleAt {
	d := 0
	if dir == ir.DirectionOut {
		d = 1
	}
	if list, ok := e.rulesAt[d][pod]; ok {
		return list
	}
	list := []ruleAt{}
	for si := range e.model.Sections {
		for ri := range e.model.Sections[si].Rules {
			r := &e.model.Sections[si].Rules[ri]
			if r.Direction != dir {
				continue
			}
			for _, ref := range r.AppliedTo {
				if ref.Group != "" && e.portMembers(ref.Group)[pod] {
					list = append(list, ruleAt{si, ri})
					break
				}
			}
		}
	}
	e.rulesAt[d][pod] = list
	return list
}

// matches reports whether a rule (applied to the side's port) matches the flow.
func (e *Evaluator) matches(r *ir.Rule, f Flow) bool {
	if (r.IPProtocol == ir.IPv4 && !f.Src.Is4()) || (r.IPProtocol == ir.IPv6 && f.Src.Is4()) {
		return false
	}
	if !e.listMatches(r.Sources, r.SourcesExcluded, f.Src) || !e.listMatches(r.Destinations, r.DestinationsExcluded, f.Dst) {
		return false
	}
	if len(r.Services) == 0 {
		return true
	}
	for _, s := range r.Services {
		if serviceMatches(s, f) {
			return true
		}
	}
	return false
}

// listMatches: an empty list is any address; Excluded negates a non-empty one.
func (e *Evaluator) listMatches(refs []ir.Ref, excluded bool, a netip.Addr) bool {
	if len(refs) == 0 {
		return true
	}
	for _, ref := range refs {
		if e.refContains(ref, a) {
			return !excluded
		}
	}
	return excluded
}

func (e *Evaluator) refContains(ref ir.Ref, a netip.Addr) bool {
	switch {
	case ref.CIDR != "":
		p, err := parseEntry(ref.CIDR)
		return err == nil && p.Contains(a)
	case ref.NSXGroup != "":
		for _, x := range e.opts.External[ref.NSXGroup] {
			if x == a {
				return true
			}
		}
		return false
	}
	return e.groupContains(ref.Group, a, 0)
}

// groupContains: a group's addresses are its member ports' addresses, an IPSet's entries, and
// for a nested group its members' and its external members' addresses.
func (e *Evaluator) groupContains(key string, a netip.Addr, depth int) bool {
	g, ok := e.groups[key]
	if !ok || depth > 8 {
		return false
	}
	switch g.Kind {
	case ir.KindIPSet:
		for _, p := range e.ipSet(key) {
			if p.Contains(a) {
				return true
			}
		}
		return false
	case ir.KindNestedGroup:
		for _, m := range g.Members {
			if e.groupContains(m, a, depth+1) {
				return true
			}
		}
		for _, n := range g.ExternalMembers {
			for _, x := range e.opts.External[n] {
				if x == a {
					return true
				}
			}
		}
		return false
	}
	pod, isPod := e.byAddr[a]
	return isPod && e.portMembers(key)[pod]
}

// portMembers are the pods whose port a group takes for a member: a TagGroup's criteria (ORed;
// the tags of one criterion ANDed), a NestedGroup's member groups. Only pods of the namespace a
// criterion names (ncp/project) are tried against it.
func (e *Evaluator) portMembers(key string) []bool {
	if m, ok := e.members[key]; ok {
		return m
	}
	out := make([]bool, len(e.pods))
	e.members[key] = out // a cycle (never compiled) ends here
	g, ok := e.groups[key]
	if !ok {
		return out
	}
	switch g.Kind {
	case ir.KindTagGroup:
		for _, c := range g.Criteria {
			want := make([]ncptags.Tag, len(c.Tags))
			candidates := []int(nil)
			all := true
			for i, t := range c.Tags {
				want[i] = ncptags.Tag{Scope: t.Scope, Tag: t.Tag}
				if t.Scope == ncptags.ScopeProject && t.Tag != "" {
					candidates, all = e.byNS[strings.ToLower(t.Tag)], false
				}
			}
			check := func(i int) {
				if !out[i] && ncptags.Satisfies(e.tags[i], want) {
					out[i] = true
				}
			}
			if all {
				for i := range e.pods {
					check(i)
				}
			}
			for _, i := range candidates {
				check(i)
			}
		}
	case ir.KindNestedGroup:
		for _, m := range g.Members {
			for i, in := range e.portMembers(m) {
				out[i] = out[i] || in
			}
		}
	}
	return out
}

// ipSet parses an IPSet's entries ("a", "a/n", "a-b") into prefixes, once.
func (e *Evaluator) ipSet(key string) []netip.Prefix {
	if p, ok := e.addrs[key]; ok {
		return p
	}
	var out []netip.Prefix
	for _, entry := range e.groups[key].IPs {
		if lo, hi, isRange := strings.Cut(entry, "-"); isRange {
			out = append(out, rangePrefixes(lo, hi)...)
			continue
		}
		if p, err := parseEntry(entry); err == nil {
			out = append(out, p)
		}
	}
	e.addrs[key] = out
	return out
}

// parseEntry reads an address or a prefix.
func parseEntry(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// rangePrefixes covers the range lo-hi with prefixes.
func rangePrefixes(lo, hi string) []netip.Prefix {
	a, err1 := netip.ParseAddr(lo)
	b, err2 := netip.ParseAddr(hi)
	if err1 != nil || err2 != nil {
		return nil
	}
	return netipx.IPRangeFrom(a, b).Prefixes()
}

// serviceMatches: an L4 port set matches its protocol on its destination ports (every port when
// it lists none); an IP protocol service matches every packet of that protocol.
func serviceMatches(s ir.Service, f Flow) bool {
	switch s.Kind {
	case ir.ServiceL4PortSet:
		if s.L4Protocol != f.Protocol {
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
			l, err1 := strconv.Atoi(lo)
			h, err2 := strconv.Atoi(hi)
			if err1 == nil && err2 == nil && l <= f.Port && f.Port <= h {
				return true
			}
		}
		return false
	case ir.ServiceIPProtocol:
		return s.ProtocolNumber == protocolNumber(f.Protocol)
	}
	return false
}

func protocolNumber(p string) int {
	switch p {
	case "TCP":
		return 6
	case "UDP":
		return 17
	case "SCTP":
		return 132
	}
	return -1
}
