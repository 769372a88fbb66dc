package evaluate

import (
	"net/netip"

	"go4.org/netipx"

	"github.com/microseg/microseg/internal/ir"
)

// A rule compiled for evaluation: its references resolved once into pod sets (a port group's
// members: an address matches when the flow's pod is a member) and address sets (IPSets, literal
// prefixes, NSX groups' known members), so that evaluating a flow does no string lookups.
type crule struct {
	rule    *ir.Rule
	section *ir.Section
	v4, v6  bool // the rule's address families
	src     crefs
	dst     crefs
}

// crefs is a compiled source or destination list: empty matches any address.
type crefs struct {
	refs     []cref
	excluded bool
}

type cref struct {
	pods *podSet
	ips  *netipx.IPSet
}

func (c cref) contains(a netip.Addr, pod int) bool {
	return (c.pods != nil && pod > 0 && c.pods.has(pod-1)) || (c.ips != nil && c.ips.Contains(a))
}

func (l crefs) matches(a netip.Addr, pod int) bool {
	if len(l.refs) == 0 {
		return true
	}
	for _, r := range l.refs {
		if r.contains(a, pod) {
			return !l.excluded
		}
	}
	return l.excluded
}

func (c *crule) matches(f Flow) bool {
	if (f.Src.Is4() && !c.v4) || (!f.Src.Is4() && !c.v6) {
		return false
	}
	if len(c.rule.Services) > 0 {
		ok := false
		for _, s := range c.rule.Services {
			if serviceMatches(s, f) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return c.src.matches(f.Src, f.srcPod) && c.dst.matches(f.Dst, f.dstPod)
}

func (e *Evaluator) compileRule(s *ir.Section, r *ir.Rule) *crule {
	c := &crule{rule: r, section: s, v4: r.IPProtocol != ir.IPv6, v6: r.IPProtocol != ir.IPv4}
	c.src = crefs{refs: e.compileRefs(r.Sources), excluded: r.SourcesExcluded}
	c.dst = crefs{refs: e.compileRefs(r.Destinations), excluded: r.DestinationsExcluded}
	return c
}

func (e *Evaluator) compileRefs(refs []ir.Ref) []cref {
	out := make([]cref, 0, len(refs))
	for _, ref := range refs {
		switch {
		case ref.CIDR != "":
			var b netipx.IPSetBuilder
			if p, err := parseEntry(ref.CIDR); err == nil {
				b.AddPrefix(p)
			}
			s, _ := b.IPSet()
			out = append(out, cref{ips: s})
		case ref.NSXGroup != "":
			var b netipx.IPSetBuilder
			for _, a := range e.opts.External[ref.NSXGroup] {
				b.Add(a)
			}
			s, _ := b.IPSet()
			out = append(out, cref{ips: s})
		default:
			out = append(out, e.compileGroup(ref.Group))
		}
	}
	return out
}

// compileGroup: a group's addresses are its member ports' addresses, an IPSet's entries, and for a
// nested group its members' and its external members' addresses.
func (e *Evaluator) compileGroup(key string) cref {
	g, ok := e.groups[key]
	if !ok {
		return cref{}
	}
	if g.Kind == ir.KindIPSet {
		return cref{ips: e.ipSet(key)}
	}
	c := cref{pods: e.portMembers(key)}
	if g.Kind == ir.KindNestedGroup {
		var b netipx.IPSetBuilder
		e.nestedAddresses(g, &b, 0)
		if s, _ := b.IPSet(); len(s.Prefixes()) > 0 {
			c.ips = s
		}
	}
	return c
}

// nestedAddresses adds the IPSets and external groups a nested group holds, transitively.
func (e *Evaluator) nestedAddresses(g *ir.Group, b *netipx.IPSetBuilder, depth int) {
	if depth > 8 {
		return
	}
	for _, m := range g.Members {
		switch mg, ok := e.groups[m]; {
		case !ok:
		case mg.Kind == ir.KindIPSet:
			b.AddSet(e.ipSet(m))
		case mg.Kind == ir.KindNestedGroup:
			e.nestedAddresses(mg, b, depth+1)
		}
	}
	for _, n := range g.ExternalMembers {
		for _, a := range e.opts.External[n] {
			b.Add(a)
		}
	}
}
