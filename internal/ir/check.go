package ir

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// Check validates m against the NSX limits l and the IR's own invariants: keys unique, every
// reference resolvable, applied_tos only on port groups, IPSets homogeneous, lists within limits.
// It returns every problem found (nil when m is valid). The compiler's output always passes Check;
// apply may call it as a last guard before talking to NSX.
func Check(m *Model, l Limits) []error {
	l = l.WithDefaults()
	c := checker{m: m, l: l, groups: map[string]*Group{}, used: map[string]bool{}}
	c.checkGroups()
	c.checkSections()
	c.checkReachable()
	return c.errs
}

type checker struct {
	m      *Model
	l      Limits
	groups map[string]*Group
	used   map[string]bool
	errs   []error
}

func (c *checker) errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf(format, args...))
}

func (c *checker) checkName(what, name string) {
	if len(name) == 0 || len(name) > c.l.MaxDisplayNameLen {
		c.errorf("%s: display name has %d characters (1..%d)", what, len(name), c.l.MaxDisplayNameLen)
	}
}

func (c *checker) checkGroups() {
	if !sort.SliceIsSorted(c.m.Groups, func(i, j int) bool { return c.m.Groups[i].Key < c.m.Groups[j].Key }) {
		c.errorf("groups are not sorted by key")
	}
	for i := range c.m.Groups {
		g := &c.m.Groups[i]
		if _, dup := c.groups[g.Key]; dup {
			c.errorf("group %s: duplicate key", g.Key)
		}
		c.groups[g.Key] = g
	}
	for i := range c.m.Groups {
		g := &c.m.Groups[i]
		c.checkName("group "+g.Key, g.DisplayName)
		if g.Hash == "" || g.Key == "" || len(g.Key) > c.l.MaxTagValueLen {
			c.errorf("group %q: missing hash or key too long", g.Key)
		}
		switch g.Kind {
		case KindTagGroup:
			c.checkTagGroup(g)
		case KindIPSet:
			c.checkIPSet(g)
		case KindNestedGroup:
			n := len(g.Members) + len(g.ExternalMembers)
			if n == 0 || n > c.l.MaxGroupMembers {
				c.errorf("group %s: %d static members (1..%d)", g.Key, n, c.l.MaxGroupMembers)
			}
			for _, k := range g.Members {
				if _, ok := c.groups[k]; !ok {
					c.errorf("group %s: member %s does not exist", g.Key, k)
				}
			}
		default:
			c.errorf("group %s: unknown kind %q", g.Key, g.Kind)
		}
	}
	for k := range c.groups {
		if c.cyclic(k, map[string]bool{}) {
			c.errorf("group %s: nested membership cycle", k)
		}
	}
}

func (c *checker) checkTagGroup(g *Group) {
	if len(g.Criteria) == 0 || len(g.Criteria) > c.l.MaxCriteriaPerGroup {
		c.errorf("group %s: %d criteria (1..%d)", g.Key, len(g.Criteria), c.l.MaxCriteriaPerGroup)
	}
	for _, cr := range g.Criteria {
		if len(cr.Tags) == 0 || len(cr.Tags) > c.l.MaxExpressionsPerCriterion {
			c.errorf("group %s: criterion with %d tag expressions (1..%d)", g.Key, len(cr.Tags), c.l.MaxExpressionsPerCriterion)
		}
		for _, t := range cr.Tags {
			if t.Scope == "" || len(t.Scope) > c.l.MaxTagScopeLen || len(t.Tag) > c.l.MaxTagValueLen {
				c.errorf("group %s: tag %q=%q outside scope/tag limits", g.Key, t.Scope, t.Tag)
			}
		}
	}
}

func (c *checker) checkIPSet(g *Group) {
	if len(g.IPs) == 0 || len(g.IPs) > c.l.MaxIPSetEntries {
		c.errorf("group %s: %d IPSet entries (1..%d)", g.Key, len(g.IPs), c.l.MaxIPSetEntries)
	}
	for _, e := range g.IPs {
		fam, ok := entryFamily(e)
		if !ok {
			c.errorf("group %s: malformed IPSet entry %q", g.Key, e)
		} else if fam != g.Family {
			c.errorf("group %s: entry %q is not %s", g.Key, e, g.Family)
		}
	}
}

// entryFamily parses an IPSet entry: an address, a prefix, or an "a-b" range.
func entryFamily(e string) (Family, bool) {
	fam := func(a netip.Addr) Family {
		if a.Is4() {
			return FamilyIPv4
		}
		return FamilyIPv6
	}
	if lo, hi, ok := strings.Cut(e, "-"); ok {
		a, err1 := netip.ParseAddr(lo)
		b, err2 := netip.ParseAddr(hi)
		if err1 != nil || err2 != nil || a.Is4() != b.Is4() || b.Less(a) {
			return "", false
		}
		return fam(a), true
	}
	if p, err := netip.ParsePrefix(e); err == nil {
		return fam(p.Addr()), p == p.Masked()
	}
	a, err := netip.ParseAddr(e)
	return fam(a), err == nil
}

// cyclic reports whether a nested group reaches itself.
func (c *checker) cyclic(key string, path map[string]bool) bool {
	if path[key] {
		return true
	}
	g, ok := c.groups[key]
	if !ok {
		return false
	}
	path[key] = true
	defer delete(path, key)
	for _, m := range g.Members {
		if c.cyclic(m, path) {
			return true
		}
	}
	return false
}

// portGroup reports whether a group contains only logical ports (usable in applied_tos).
func (c *checker) portGroup(key string) bool {
	g, ok := c.groups[key]
	if !ok {
		return false
	}
	switch g.Kind {
	case KindTagGroup:
		return true
	case KindNestedGroup:
		if len(g.ExternalMembers) > 0 {
			return false
		}
		for _, m := range g.Members {
			if !c.portGroup(m) {
				return false
			}
		}
		return true
	}
	return false
}

func (c *checker) checkSections() {
	sectionKeys := map[string]bool{}
	ruleKeys := map[string]bool{}
	for i := range c.m.Sections {
		s := &c.m.Sections[i]
		if sectionKeys[s.Key] || s.Key == "" || len(s.Key) > c.l.MaxTagValueLen {
			c.errorf("section %q: duplicate, empty or too long key", s.Key)
		}
		sectionKeys[s.Key] = true
		c.checkName("section "+s.Key, s.DisplayName)
		if len(s.Rules) > c.l.MaxRulesPerSection {
			c.errorf("section %s: %d rules (max %d)", s.Key, len(s.Rules), c.l.MaxRulesPerSection)
		}
		if s.Hash == "" {
			c.errorf("section %s: no hash", s.Key)
		}
		for j := range s.Rules {
			r := &s.Rules[j]
			if ruleKeys[r.Key] || r.Key == "" {
				c.errorf("rule %q: duplicate or empty key", r.Key)
			}
			ruleKeys[r.Key] = true
			c.checkRule(r)
		}
	}
}

func (c *checker) checkRule(r *Rule) {
	what := "rule " + r.Key
	c.checkName(what, r.DisplayName)
	if r.Hash == "" {
		c.errorf("%s: no hash", what)
	}
	switch r.Action {
	case ActionAllow, ActionDrop, ActionReject:
	default:
		c.errorf("%s: action %q", what, r.Action)
	}
	if r.Direction != DirectionIn && r.Direction != DirectionOut {
		c.errorf("%s: direction %q", what, r.Direction)
	}
	if r.IPProtocol != IPv4 && r.IPProtocol != IPv6 && r.IPProtocol != IPv4IPv6 {
		c.errorf("%s: ip protocol %q", what, r.IPProtocol)
	}
	if len(r.AppliedTo) == 0 {
		c.errorf("%s: empty applied_tos", what)
	}
	for _, ref := range r.AppliedTo {
		if ref.Group == "" || !c.portGroup(ref.Group) {
			c.errorf("%s: applied_to %+v is not a group of logical ports", what, ref)
		}
		c.use(ref)
	}
	c.checkRefs(what+" applied_tos", r.AppliedTo, false)
	c.checkRefs(what+" sources", r.Sources, r.SourcesExcluded)
	c.checkRefs(what+" destinations", r.Destinations, r.DestinationsExcluded)
	if len(r.Services) > c.l.MaxServicesPerRule {
		c.errorf("%s: %d services (max %d)", what, len(r.Services), c.l.MaxServicesPerRule)
	}
	for _, s := range r.Services {
		c.checkService(what, s)
	}
}

func (c *checker) checkRefs(what string, refs []Ref, excluded bool) {
	if len(refs) > c.l.MaxRefsPerField {
		c.errorf("%s: %d refs (max %d)", what, len(refs), c.l.MaxRefsPerField)
	}
	if excluded && len(refs) == 0 {
		c.errorf("%s: excluded flag on an empty list", what)
	}
	for _, ref := range refs {
		n := 0
		for _, s := range []string{ref.Group, ref.CIDR, ref.NSXGroup} {
			if s != "" {
				n++
			}
		}
		if n != 1 {
			c.errorf("%s: ref %+v must set exactly one field", what, ref)
			continue
		}
		switch {
		case ref.Group != "":
			if _, ok := c.groups[ref.Group]; !ok {
				c.errorf("%s: group %s does not exist", what, ref.Group)
			}
		case ref.CIDR != "":
			if _, ok := entryFamily(ref.CIDR); !ok || strings.Contains(ref.CIDR, "-") {
				c.errorf("%s: malformed address %q", what, ref.CIDR)
			}
		case len(ref.NSXGroup) > c.l.MaxDisplayNameLen:
			c.errorf("%s: NSX group name too long", what)
		}
		c.use(ref)
	}
}

func (c *checker) checkService(what string, s Service) {
	switch s.Kind {
	case ServiceL4PortSet:
		if s.L4Protocol != "TCP" && s.L4Protocol != "UDP" {
			c.errorf("%s: L4 protocol %q", what, s.L4Protocol)
		}
		if len(s.DestinationPorts) > c.l.MaxPortsPerEntry {
			c.errorf("%s: %d ports in one entry (max %d)", what, len(s.DestinationPorts), c.l.MaxPortsPerEntry)
		}
		for _, p := range s.DestinationPorts {
			if !validPortEntry(p) {
				c.errorf("%s: port entry %q", what, p)
			}
		}
	case ServiceIPProtocol:
		if s.ProtocolNumber < 1 || s.ProtocolNumber > 254 {
			c.errorf("%s: protocol number %d", what, s.ProtocolNumber)
		}
	default:
		c.errorf("%s: service kind %q", what, s.Kind)
	}
}

// validPortEntry accepts "80" and "8000-8080" (lo < hi: NSX wants a single port for lo == hi).
func validPortEntry(e string) bool {
	lo, hi, isRange := strings.Cut(e, "-")
	a, err := strconv.Atoi(lo)
	if err != nil || a < 1 || a > 65535 || strconv.Itoa(a) != lo {
		return false
	}
	if !isRange {
		return true
	}
	b, err := strconv.Atoi(hi)
	return err == nil && b > a && b <= 65535 && strconv.Itoa(b) == hi
}

func (c *checker) use(ref Ref) {
	if ref.Group != "" {
		c.markUsed(ref.Group)
	}
}

func (c *checker) markUsed(key string) {
	if c.used[key] {
		return
	}
	c.used[key] = true
	if g, ok := c.groups[key]; ok {
		for _, m := range g.Members {
			c.markUsed(m)
		}
	}
}

// checkReachable reports groups that no rule needs: the apply step would create garbage.
func (c *checker) checkReachable() {
	for i := range c.m.Groups {
		if !c.used[c.m.Groups[i].Key] {
			c.errorf("group %s is referenced by no rule", c.m.Groups[i].Key)
		}
	}
}
