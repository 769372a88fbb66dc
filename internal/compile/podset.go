package compile

import (
	"slices"

	"github.com/microseg/microseg/internal/ir"
)

// podSet is a set of pods of the snapshot: the concrete members (authoritative for this
// snapshot) plus, when known, a tag form describing them (exactly or as a superset).
type podSet struct {
	members []int32 // sorted, unique
	form    *tagForm
	// why says why a set without a form has none (a named-port split of addresses).
	why ir.GroupReason
}

// reason is why the set is not exact (empty when it is).
func (p podSet) reason() ir.GroupReason {
	switch {
	case p.exact():
		return ""
	case p.form != nil && p.form.why != "":
		return p.form.why
	case p.why != "":
		return p.why
	}
	return ir.ReasonOverLimit
}

// exact reports whether the tag form selects exactly the members.
func (p podSet) exact() bool { return p.form != nil && p.form.exact }

// nothing reports whether the set is empty and will stay empty while no pod changes: no members,
// and no exact tag form that could pick up new pods before the next compile.
func (p podSet) nothing() bool {
	return len(p.members) == 0 && (!p.exact() || len(p.form.terms) == 0)
}

// superset returns the form as a (possibly relaxed) superset, or nil; why is the reason the
// subset it bounds is not exact, unless the form already had one.
func (p podSet) superset(why ir.GroupReason) *tagForm {
	if p.form == nil {
		return nil
	}
	if p.form.why != "" {
		why = p.form.why
	}
	return &tagForm{terms: p.form.terms, why: why}
}

// samePods reports whether two pod sets are the same set with the same description.
func samePods(a, b podSet) bool {
	if !slices.Equal(a.members, b.members) {
		return false
	}
	if (a.form == nil) != (b.form == nil) {
		return false
	}
	if a.form == nil {
		return true
	}
	return a.form.exact == b.form.exact && slices.EqualFunc(a.form.terms, b.form.terms, func(x, y term) bool { return compareTerms(x, y) == 0 })
}

// unionPods is a ∪ b. A set with neither members nor form is the empty set and leaves the other
// side (and its form) as it is.
func unionPods(a, b podSet) podSet {
	switch {
	case len(a.members) == 0 && a.form == nil:
		return b
	case len(b.members) == 0 && b.form == nil:
		return a
	}
	return podSet{members: unionSorted(a.members, b.members), form: unionForms(a.form, b.form), why: minReason(a.why, b.why)}
}

// diffPods is a \ b, keeping a tag description when tags can express the difference.
func (c *compiler) diffPods(a, b podSet) podSet {
	m := diffSorted(a.members, b.members)
	if len(m) == len(a.members) {
		return a
	}
	if a.exact() && b.exact() {
		if terms, ok := c.tagDiff(a.form.terms, b.form.terms); ok {
			return podSet{members: m, form: &tagForm{terms: terms, exact: true}}
		}
	}
	return podSet{members: m, form: a.superset(ir.ReasonPass), why: ir.ReasonPass}
}

// subsetPods is the subset of a with the given members (a named-port split, say): it keeps a's
// form when nothing was removed and a's form as a superset otherwise.
func subsetPods(a podSet, members []int32) podSet {
	if len(members) == len(a.members) {
		return a
	}
	return podSet{members: members, form: a.superset(ir.ReasonNamedPort), why: ir.ReasonNamedPort}
}

func unionSorted(a, b []int32) []int32 {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	out := make([]int32, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			out = append(out, a[i])
			i++
		case a[i] > b[j]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

func diffSorted(a, b []int32) []int32 {
	if len(a) == 0 || len(b) == 0 {
		return a
	}
	out := make([]int32, 0, len(a))
	j := 0
	for _, x := range a {
		for j < len(b) && b[j] < x {
			j++
		}
		if j < len(b) && b[j] == x {
			continue
		}
		out = append(out, x)
	}
	return out
}

func intersectsSorted(a, b []int32) bool {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			return true
		}
	}
	return false
}
