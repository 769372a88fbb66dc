package compile

import (
	"fmt"
	"slices"

	"github.com/microseg/microseg/internal/ir"
)

// isolation is one NetworkPolicy isolating its pods in one direction.
type isolation struct {
	obj  ir.ObjectRef
	self podSet
}

// isolationRules realizes the isolation of a namespace in one direction: every pod some policy
// selects for it drops what no allow rule of the namespace allowed. That is one DROP rule whose
// applied_to is the union of the policies' groups, not one rule per policy:
//
//   - a policy whose tag group another's covers term by term (the default-deny policy's
//     "every pod of the namespace" covers every other selector) adds nothing, and a pod set
//     realized by addresses adds nothing when the exact groups already hold its pods;
//   - pod sets tags cannot express exactly (NotIn, forged labels) go into a second rule applied
//     to their tag supersets and restricted to their pods' addresses (destinations of IN, sources
//     of OUT), as for any rule.
//
// Only past MaxRefsPerField groups is the rule split. Its origin is the first policy whose group
// it holds; Also names every other policy isolating pods there.
func (c *compiler) isolationRules(ns string, dir ir.Direction, list []isolation) []ir.Rule {
	if len(list) == 0 {
		return nil
	}
	name := "ingress"
	if dir == ir.DirectionOut {
		name = "egress"
	}
	rule := "isolate/" + name
	type realized struct {
		isolation
		applied  ir.Ref
		restrict []ir.Ref
	}
	var exact, byAddress []realized
	for _, iso := range list {
		ctx := &ruleCtx{w: &c.warnings, obj: iso.obj, rule: rule}
		applied, restrict, ok := c.selfRefs(iso.self, 0, ctx)
		switch {
		case !ok: // no pod with an address: isolates nothing
		case restrict == nil:
			exact = append(exact, realized{iso, applied, nil})
		default:
			byAddress = append(byAddress, realized{iso, applied, restrict})
		}
	}
	// A set whose terms another exact set covers adds nothing (equal sets: the first one stays).
	var keptExact []realized
	var exactPods []int32
	for i, x := range exact {
		covered := false
		for j, y := range exact {
			if i != j && formCovers(y.self.form.terms, x.self.form.terms) &&
				(j < i || !formCovers(x.self.form.terms, y.self.form.terms)) {
				covered = true
				break
			}
		}
		if !covered {
			keptExact = append(keptExact, x)
			exactPods = unionSorted(exactPods, x.self.members)
		}
	}
	var keptAddr []realized
	for _, x := range byAddress {
		if len(diffSorted(x.self.members, exactPods)) > 0 {
			keptAddr = append(keptAddr, x)
		}
	}

	var out []ir.Rule
	emit := func(kept []realized, applied, restrict []ir.Ref) {
		if len(kept) == 0 {
			return
		}
		origin := ir.Origin{Object: kept[0].obj, Rule: rule}
		for _, iso := range list {
			if iso.obj != kept[0].obj {
				origin.Also = append(origin.Also, ir.Origin{Object: iso.obj, Rule: rule})
			}
		}
		for _, ac := range chunks(applied, c.limits.MaxRefsPerField) {
			for _, rc := range chunks(restrict, c.limits.MaxRefsPerField) {
				r := ir.Rule{Action: ir.ActionDrop, Direction: dir, IPProtocol: ir.IPv4IPv6, AppliedTo: ac, Origin: origin}
				if dir == ir.DirectionIn {
					r.Destinations = rc
				} else {
					r.Sources = rc
				}
				out = append(out, r)
			}
		}
	}
	var applied []ir.Ref
	for _, x := range keptExact {
		applied = appendRef(applied, x.applied)
	}
	emit(keptExact, applied, nil)
	applied = nil
	var restrict []ir.Ref
	for _, x := range keptAddr {
		applied = appendRef(applied, x.applied)
		for _, r := range x.restrict {
			restrict = appendRef(restrict, r)
		}
	}
	emit(keptAddr, applied, restrict)
	key := c.limitKey("np-isolate/" + ns + "/" + name)
	for i := range out {
		out[i].Key = fmt.Sprintf("%s/%d", key, i)
		display := fmt.Sprintf("np %s isolate %s", ns, name)
		if len(out) > 1 {
			display += fmt.Sprintf(" (%d/%d)", i+1, len(out))
		}
		out[i].DisplayName = c.displayName(display, contentHash(out[i].Key))
	}
	return out
}

// appendRef adds a ref to a list unless it is there already.
func appendRef(list []ir.Ref, r ir.Ref) []ir.Ref {
	if slices.Contains(list, r) {
		return list
	}
	return append(list, r)
}

// formCovers reports whether every pod matching some term of small matches a term of big, by
// the terms alone (so it holds for pods that come later too).
func formCovers(big, small []term) bool {
	for _, t := range small {
		if !slices.ContainsFunc(big, func(u term) bool { return u.subsumes(t) }) {
			return false
		}
	}
	return true
}
