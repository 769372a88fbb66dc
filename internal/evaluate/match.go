package evaluate

import (
	"net/netip"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/ncptags"
)

// podSet is a set of pods by index: a list to iterate and a bitmap to test.
type podSet struct {
	list []int32
	bits []uint64
}

func newPodSet(n int) *podSet { return &podSet{bits: make([]uint64, (n+63)/64)} }

func (s *podSet) add(i int) {
	if !s.has(i) {
		s.bits[i/64] |= 1 << (i % 64)
		s.list = append(s.list, int32(i))
	}
}

func (s *podSet) has(i int) bool { return s.bits[i/64]&(1<<(i%64)) != 0 }

// rulesOf lists the rules of one direction whose applied_to holds the pod's port, in evaluation
// order. The first call compiles every rule and inverts its applied_to into per-pod lists, once.
func (e *Evaluator) rulesOf(pod int, dir ir.Direction) []ruleAt {
	d := 0
	if dir == ir.DirectionOut {
		d = 1
	}
	if e.rulesAt[d] == nil {
		*e.rulesAt = [2][][]ruleAt{make([][]ruleAt, len(e.pods)), make([][]ruleAt, len(e.pods))}
		seen := make([]int, len(e.pods)) // the last rule (plus one) each pod got, against duplicates
		n := 0
		for si := range e.model.Sections {
			for ri := range e.model.Sections[si].Rules {
				n++
				r := &e.model.Sections[si].Rules[ri]
				rd := 0
				if r.Direction == ir.DirectionOut {
					rd = 1
				}
				c := e.compileRule(&e.model.Sections[si], r)
				for _, ref := range r.AppliedTo {
					if ref.Group == "" {
						continue
					}
					for _, p := range e.portMembers(ref.Group).list {
						if seen[p] != n {
							seen[p] = n
							e.rulesAt[rd][p] = append(e.rulesAt[rd][p], c)
						}
					}
				}
			}
		}
	}
	return e.rulesAt[d][pod]
}

// portMembers are the pods whose port a group takes for a member: a TagGroup's criteria (ORed;
// the tags of one criterion ANDed), a NestedGroup's member groups. Only pods of the namespace a
// criterion names (ncp/project) are tried against it.
func (e *Evaluator) portMembers(key string) *podSet {
	if m, ok := e.members[key]; ok {
		return m
	}
	out := newPodSet(len(e.pods))
	e.members[key] = out // a cycle (never compiled) ends here
	g, ok := e.groups[key]
	if !ok {
		return out
	}
	switch g.Kind {
	case ir.KindTagGroup:
		for _, c := range g.Criteria {
			want := make([]ncptags.Tag, len(c.Tags))
			var candidates []int
			all := true
			for i, t := range c.Tags {
				want[i] = ncptags.Tag{Scope: t.Scope, Tag: t.Tag}
				if t.Scope == ncptags.ScopeProject && t.Tag != "" {
					candidates, all = e.byNS[strings.ToLower(t.Tag)], false
				}
			}
			if all {
				for i := range e.pods {
					if ncptags.Satisfies(e.tags[i], want) {
						out.add(i)
					}
				}
			}
			for _, i := range candidates {
				if ncptags.Satisfies(e.tags[i], want) {
					out.add(i)
				}
			}
		}
	case ir.KindNestedGroup:
		for _, m := range g.Members {
			for _, i := range e.portMembers(m).list {
				out.add(int(i))
			}
		}
	}
	return out
}

// ipSet builds an IPSet's addresses ("a", "a/n", "a-b" entries) once.
func (e *Evaluator) ipSet(key string) *netipx.IPSet {
	if s, ok := e.ipsets[key]; ok {
		return s
	}
	var b netipx.IPSetBuilder
	for _, entry := range e.groups[key].IPs {
		if lo, hi, isRange := strings.Cut(entry, "-"); isRange {
			a, err1 := netip.ParseAddr(lo)
			z, err2 := netip.ParseAddr(hi)
			if err1 == nil && err2 == nil {
				b.AddRange(netipx.IPRangeFrom(a, z))
			}
			continue
		}
		if p, err := parseEntry(entry); err == nil {
			b.AddPrefix(p)
		}
	}
	s, _ := b.IPSet()
	e.ipsets[key] = s
	return s
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
