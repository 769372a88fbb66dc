package compile

import (
	"fmt"
	"slices"

	"github.com/microseg/microseg/internal/ir"
)

// ruleSpec is what every DFW rule realizing one source rule shares.
type ruleSpec struct {
	key     string // "<object key>/<ingress|egress>/<rule>"; rules get "/<n>" appended
	display string
	action  ir.Action
	dir     ir.Direction
	logged  bool
	origin  ir.Origin
}

// selfRefs realizes the pods a rule is enforced on. An exact tag form that no forged tag can fool
// (forgery.go) is the applied_to group and nothing else is needed. Otherwise applied_to is a tag
// superset (the form's terms, or the members' namespaces: applied_tos cannot hold IPSets) and the
// exact set becomes an address restriction: destinations of an IN rule (the flow's destination is
// the pod itself) or sources of an OUT rule. ok is false when the set can match no flow (no
// member has an address).
func (c *compiler) selfRefs(s podSet, fam int, ctx *ruleCtx) (applied ir.Ref, restrict []ir.Ref, ok bool) {
	trusted, why := c.trustedTags(s, roleSubjects, ctx)
	if trusted {
		return c.tagGroupRef(s.form.terms, ""), nil, true
	}
	addrs := addrSetOf(c.snap.ipsOf(s.members))
	if fam != 0 {
		addrs = familyAddrs(addrs, fam)
	}
	if addrs == nil {
		return ir.Ref{}, nil, false
	}
	super := s.superset(why)
	if super == nil || len(super.terms) == 0 {
		super = c.namespaceForm(c.namespacesOf(s.members), why)
	}
	return c.tagGroupRef(super.terms, why), c.ipSetRefs(addrs, why), true
}

func (c *compiler) namespacesOf(members []int32) []string {
	var out []string
	for _, i := range members {
		name := c.snap.nsNames[c.snap.pods[i].ns]
		if len(out) == 0 || out[len(out)-1] != name {
			out = append(out, name)
		}
	}
	return out
}

// peerRefs realizes the listed parts of a peer set: an exact pod set that no forged tag can fool
// as its tag group (shared, and new pods need no NSX write), other pod sets as IPSets of their
// addresses, address sets as literal refs (or IPSets when there are many), NSX groups by name.
func (c *compiler) peerRefs(p peerSet, fam int, ctx *ruleCtx) []ir.Ref {
	var refs []ir.Ref
	trusted, why := c.trustedTags(p.pods, rolePeers, ctx)
	switch {
	case trusted:
		refs = append(refs, c.tagGroupRef(p.pods.form.terms, ""))
	case len(p.pods.members) > 0:
		addrs := addrSetOf(c.snap.ipsOf(p.pods.members))
		if fam != 0 {
			addrs = familyAddrs(addrs, fam)
		}
		refs = append(refs, c.ipSetRefs(addrs, why)...)
	}
	ips := p.ips
	if fam != 0 {
		ips = familyAddrs(ips, fam)
	}
	if lits := prefixStrings(ips); len(lits) <= c.settings.MaxLiteralAddresses {
		for _, l := range lits {
			refs = append(refs, ir.Ref{CIDR: l})
		}
	} else {
		refs = append(refs, c.ipSetRefs(ips, ir.ReasonOverLimit)...)
	}
	for _, n := range p.external {
		refs = append(refs, ir.Ref{NSXGroup: n})
	}
	return refs
}

// emit realizes the products of one source rule as DFW rules, splitting where NSX limits require:
// more than MaxRefsPerField addresses or peers, more than MaxServicesPerRule services. Splitting a
// positive list is a union of rules with the same action, so it is exact; a negated list is never
// split but collapsed into one nested group.
func (c *compiler) emit(spec ruleSpec, products []product, ctx *ruleCtx) []ir.Rule {
	var rules []ir.Rule
	for _, p := range products {
		applied, restrict, ok := c.selfRefs(p.self, p.fam, ctx)
		if !ok {
			continue
		}
		peer := c.peerRefs(p.peer, p.fam, ctx)
		if !p.peer.negated && len(peer) == 0 {
			continue // a positive peer with no address matches nothing
		}
		excluded := p.peer.negated && len(peer) > 0
		if excluded && len(peer) > c.limits.MaxRefsPerField {
			peer = []ir.Ref{c.collapseRefs(peer)}
		}
		svc := c.realizeServices(p.svc, spec.action)
		c.noteSCTP(svc, p.svc, spec.action, ctx)
		if svc.none {
			continue
		}
		proto := ir.IPv4IPv6
		switch p.fam {
		case 4:
			proto = ir.IPv4
		case 6:
			proto = ir.IPv6
		}
		peerChunks := [][]ir.Ref{peer}
		if !excluded {
			peerChunks = chunks(peer, c.limits.MaxRefsPerField)
		}
		for _, rc := range chunks(restrict, c.limits.MaxRefsPerField) {
			for _, pc := range peerChunks {
				if !excluded && !familiesMeet(p.fam, refsFamily(c, rc), refsFamily(c, pc)) {
					continue // one side IPv4-only, the other IPv6-only: matches nothing
				}
				for _, sc := range chunks(svc.services, c.limits.MaxServicesPerRule) {
					r := ir.Rule{Action: spec.action, Direction: spec.dir, IPProtocol: proto,
						AppliedTo: []ir.Ref{applied}, Services: sc, Logged: spec.logged, Origin: spec.origin}
					if spec.dir == ir.DirectionIn {
						r.Sources, r.SourcesExcluded, r.Destinations = pc, excluded, rc
					} else {
						r.Destinations, r.DestinationsExcluded, r.Sources = pc, excluded, rc
					}
					rules = append(rules, r)
				}
			}
		}
	}
	for i := range rules {
		rules[i].Key = spec.key + fmt.Sprintf("/%d", i)
		name := spec.display
		if len(rules) > 1 {
			name += fmt.Sprintf(" (%d/%d)", i+1, len(rules))
		}
		rules[i].DisplayName = c.displayName(name, contentHash(rules[i].Key))
	}
	return rules
}

// chunks splits a list into pieces of at most n; an empty list is one empty piece.
func chunks[T any](list []T, n int) [][]T {
	if len(list) == 0 {
		return [][]T{nil}
	}
	return slices.Collect(slices.Chunk(list, n))
}

// refsFamily is the set of address families a positive ref list can match: bit 4 and/or bit 6
// (an empty list matches both).
func refsFamily(c *compiler, refs []ir.Ref) int {
	if len(refs) == 0 {
		return 4 | 6
	}
	fam := 0
	for _, r := range refs {
		switch {
		case r.CIDR != "":
			if p, err := parseCIDROrAddr(r.CIDR); err == nil && p.Addr().Is4() {
				fam |= 4
			} else {
				fam |= 6
			}
		case r.Group != "" && c.groups.byKey[r.Group].Kind == ir.KindIPSet:
			if c.groups.byKey[r.Group].Family == ir.FamilyIPv4 {
				fam |= 4
			} else {
				fam |= 6
			}
		default:
			fam |= 4 | 6
		}
	}
	return fam
}

// familiesMeet reports whether a flow of family fam (0: either) can match both ref lists.
func familiesMeet(fam, a, b int) bool {
	want := 4 | 6
	if fam != 0 {
		want = fam
	}
	return want&a&b != 0
}

// noteSCTP warns when SCTP ports could not be expressed exactly.
func (c *compiler) noteSCTP(r realizedServices, s svcSet, action ir.Action, ctx *ruleCtx) {
	switch {
	case r.sctpDropped:
		ctx.warn(ir.WarnSCTPPorts, fmt.Sprintf("SCTP ports %s cannot be expressed in an NSX L4 port set; "+
			"the Allow is not realized for SCTP (fail-closed: those SCTP flows are left to later rules)", describePorts(s.sctp)))
	case r.sctpWidened:
		ctx.warn(ir.WarnSCTPPorts, fmt.Sprintf("SCTP ports %s cannot be expressed in an NSX L4 port set; "+
			"the %s applies to every SCTP port (IP protocol 132) instead (fail-closed)", describePorts(s.sctp), action))
	}
}

func describePorts(p ports) string {
	out := ""
	for i, r := range p {
		if i > 0 {
			out += ","
		}
		out += fmt.Sprint(r.lo)
		if r.hi > r.lo {
			out += fmt.Sprintf("-%d", r.hi)
		}
	}
	return out
}
