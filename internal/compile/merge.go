package compile

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/microseg/microseg/internal/ir"
)

// Merging allow rules. A DFW rule matches a product: applied_to × sources × destinations ×
// services (within one direction and IP protocol). Two products that agree in all but one of
// those fields are, together, one product whose remaining field is the union of theirs — exact
// when that field is a plain list (not an excluded one; an empty list is "any" and absorbs the
// other). The allow rules of one namespace come before its isolation and their order among
// themselves does not matter (they all allow), so any two of them may merge, however far apart.
// Merging stops where a field would pass its NSX limit.

// mergeField is one field a merge may union.
type mergeField int

const (
	mergeAppliedTo mergeField = iota
	mergeSources
	mergeDestinations
	mergeServices
)

// mergeAllows merges the namespace's allow rules until no two can merge; a merged rule keeps the
// key, name and place of the first one and lists the other origins in Origin.Also.
func (c *compiler) mergeAllows(rules []ir.Rule) []ir.Rule {
	if len(rules) < 2 {
		return rules
	}
	for changed := true; changed; {
		changed = false
		parts := make([]ruleParts, len(rules))
		for i := range rules {
			parts[i] = partsOf(&rules[i])
		}
		for f := mergeAppliedTo; f <= mergeServices; f++ {
			var merged bool
			if rules, parts, merged = c.mergeOn(rules, parts, f); merged {
				changed = true
			}
		}
	}
	return rules
}

// ruleParts are a rule's fields as comparable strings: the rest (action, direction, protocol,
// flags), then one per field a merge may union. The signature of a merge on field f is the
// parts with f blanked.
type ruleParts [5]string

func partsOf(r *ir.Rule) ruleParts {
	var p ruleParts
	if r.Action != ir.ActionAllow || r.Disabled {
		return p // never merges: the empty rest marks it
	}
	p[0] = string(r.Direction) + "|" + string(r.IPProtocol) + "|" + strconv.FormatBool(r.Logged) + "|" +
		strconv.FormatBool(r.SourcesExcluded) + strconv.FormatBool(r.DestinationsExcluded)
	p[1+mergeAppliedTo] = refSetKey(r.AppliedTo)
	p[1+mergeSources] = refSetKey(r.Sources)
	p[1+mergeDestinations] = refSetKey(r.Destinations)
	var b strings.Builder
	for _, s := range sortedServices(r.Services) {
		b.WriteString(serviceKey(s))
		b.WriteByte(';')
	}
	p[1+mergeServices] = b.String()
	return p
}

// mergeOn merges rules that agree on everything but field f.
func (c *compiler) mergeOn(rules []ir.Rule, parts []ruleParts, f mergeField) ([]ir.Rule, []ruleParts, bool) {
	into := map[ruleParts]int{} // signature → index of the rule still taking merges
	gone := make([]bool, len(rules))
	merged := false
	for i := range rules {
		r := &rules[i]
		if parts[i][0] == "" || (f == mergeSources && r.SourcesExcluded) || (f == mergeDestinations && r.DestinationsExcluded) {
			continue
		}
		sig := parts[i]
		sig[1+f] = ""
		if j, found := into[sig]; found {
			if u, fits := c.union(&rules[j], &rules[i], f); fits {
				rules[j] = u
				parts[j] = partsOf(&u)
				gone[i], merged = true, true
				continue
			}
		}
		into[sig] = i
	}
	if !merged {
		return rules, parts, false
	}
	out, outParts := rules[:0], parts[:0]
	for i := range rules {
		if !gone[i] {
			out, outParts = append(out, rules[i]), append(outParts, parts[i])
		}
	}
	return out, outParts, true
}

// serviceKey is a service as a string, equal for equal services.
func serviceKey(s ir.Service) string {
	return string(s.Kind) + " " + s.L4Protocol + " " + strings.Join(s.DestinationPorts, ",") + " " + strconv.Itoa(s.ProtocolNumber)
}

func refKey(r ir.Ref) string {
	switch {
	case r.Group != "":
		return "g:" + r.Group
	case r.CIDR != "":
		return "c:" + r.CIDR
	}
	return "n:" + r.NSXGroup
}

// refSetKey is a list's entries as a set.
func refSetKey(list []ir.Ref) string {
	if len(list) == 1 {
		return refKey(list[0])
	}
	keys := make([]string, len(list))
	for i, r := range list {
		keys[i] = refKey(r)
	}
	slices.Sort(keys)
	return strings.Join(slices.Compact(keys), ",")
}

// sortedServices is the list in a canonical order, without duplicates.
func sortedServices(list []ir.Service) []ir.Service {
	if len(list) < 2 {
		return list
	}
	type keyed struct {
		key string
		s   ir.Service
	}
	ks := make([]keyed, len(list))
	for i, s := range list {
		ks[i] = keyed{serviceKey(s), s}
	}
	slices.SortFunc(ks, func(a, b keyed) int { return strings.Compare(a.key, b.key) })
	ks = slices.CompactFunc(ks, func(a, b keyed) bool { return a.key == b.key })
	out := make([]ir.Service, len(ks))
	for i, k := range ks {
		out[i] = k.s
	}
	return out
}

// union merges r into q on field f; fits is false when the union passes a limit.
func (c *compiler) union(q, r *ir.Rule, f mergeField) (ir.Rule, bool) {
	u := *q
	switch f {
	case mergeServices:
		if len(q.Services) == 0 || len(r.Services) == 0 {
			u.Services = nil
		} else if u.Services = sortedServices(slices.Concat(q.Services, r.Services)); len(u.Services) > c.limits.MaxServicesPerRule {
			return u, false
		}
	default:
		lists := map[mergeField]*[]ir.Ref{mergeAppliedTo: &u.AppliedTo, mergeSources: &u.Sources, mergeDestinations: &u.Destinations}
		theirs := map[mergeField][]ir.Ref{mergeAppliedTo: r.AppliedTo, mergeSources: r.Sources, mergeDestinations: r.Destinations}[f]
		mine := lists[f]
		if len(*mine) == 0 || len(theirs) == 0 {
			*mine = nil // "any" absorbs the other (never for applied_to, which is never empty)
		} else {
			merged := slices.Clone(*mine)
			for _, ref := range theirs {
				merged = appendRef(merged, ref)
			}
			if len(merged) > c.limits.MaxRefsPerField {
				return u, false
			}
			*mine = merged
		}
	}
	u.Origin = mergeOrigins(q.Origin, r.Origin)
	return u, true
}

// mergeOrigins is q's origin with every origin of r added to Also (sorted, without duplicates).
func mergeOrigins(q, r ir.Origin) ir.Origin {
	first := ir.Origin{Object: q.Object, Rule: q.Rule}
	also := append(slices.Clone(q.Also), r.All()...)
	slices.SortFunc(also, compareOrigins)
	also = slices.CompactFunc(also, func(a, b ir.Origin) bool { return compareOrigins(a, b) == 0 })
	first.Also = slices.DeleteFunc(also, func(o ir.Origin) bool { return compareOrigins(o, first) == 0 })
	return first
}

func compareOrigins(a, b ir.Origin) int {
	switch {
	case a.Object.Less(b.Object):
		return -1
	case b.Object.Less(a.Object):
		return 1
	}
	return cmp.Compare(a.Rule, b.Rule)
}
