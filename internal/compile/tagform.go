package compile

import (
	"slices"
	"strings"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/ncptags"
)

// term is one tag criterion: the pods of namespace ns (every namespace of the cluster when ns is
// "") whose labels satisfy every condition. It becomes an NSGroupComplexExpression
// ncp/cluster=<cluster> AND (ncp/project=<ns> | ncp/pod exists) AND one tag expression per
// condition. The ncp/pod condition keeps node ports (which carry ncp/cluster too) out.
type term struct {
	ns   string
	reqs []labelReq // sorted by key, one per key
}

// tagForm describes a pod set symbolically as a union of terms. When exact, NCP's tags select
// exactly the set (as long as the pods keep their labels); otherwise the terms select a superset,
// which is still good enough for applied_tos when the rule also restricts addresses.
type tagForm struct {
	terms []term // sorted, unique
	exact bool
	// why is the reason the form is not exact (empty when it is).
	why ir.GroupReason
}

// minReason is the smaller of two reasons, ignoring empty ones: a group needed for several
// reasons reports one of them whatever the order in which they were met.
func minReason(a, b ir.GroupReason) ir.GroupReason {
	switch {
	case a == "":
		return b
	case b == "" || a < b:
		return a
	}
	return b
}

func compareTerms(a, b term) int {
	if c := strings.Compare(a.ns, b.ns); c != 0 {
		return c
	}
	return slices.CompareFunc(a.reqs, b.reqs, compareReqs)
}

func compareReqs(a, b labelReq) int {
	if c := strings.Compare(a.key, b.key); c != 0 {
		return c
	}
	if a.exists != b.exists {
		if a.exists {
			return -1
		}
		return 1
	}
	return strings.Compare(a.value, b.value)
}

// subsumes reports whether every pod matching t also matches u (u is at least as general).
func (u term) subsumes(t term) bool {
	if u.ns != "" && u.ns != t.ns {
		return false
	}
	for _, r := range u.reqs {
		i, found := slices.BinarySearchFunc(t.reqs, r.key, func(a labelReq, k string) int { return strings.Compare(a.key, k) })
		if !found {
			return false
		}
		if !r.exists && (t.reqs[i].exists || t.reqs[i].value != r.value) {
			return false
		}
	}
	return true
}

// disjoint reports whether no pod can match both terms.
func (u term) disjoint(t term) bool {
	if u.ns != "" && t.ns != "" && u.ns != t.ns {
		return true
	}
	for _, r := range u.reqs {
		if r.exists {
			continue
		}
		i, found := slices.BinarySearchFunc(t.reqs, r.key, func(a labelReq, k string) int { return strings.Compare(a.key, k) })
		if found && !t.reqs[i].exists && t.reqs[i].value != r.value {
			return true
		}
	}
	return false
}

// normalizeTerms sorts, removes duplicates and removes terms subsumed by another term: the union
// stays the same and groups get smaller.
func normalizeTerms(terms []term) []term {
	slices.SortFunc(terms, compareTerms)
	terms = slices.CompactFunc(terms, func(a, b term) bool { return compareTerms(a, b) == 0 })
	var general []term // cluster-wide terms subsume across namespaces
	for _, t := range terms {
		if t.ns == "" {
			general = append(general, t)
		}
	}
	out := terms[:0:0]
	for i := 0; i < len(terms); {
		j := i
		for j < len(terms) && terms[j].ns == terms[i].ns {
			j++
		}
		bucket := terms[i:j]
		for k, t := range bucket {
			if subsumedBy(t, bucket, k) || (t.ns != "" && subsumedBy(t, general, -1)) {
				continue
			}
			out = append(out, t)
		}
		i = j
	}
	return out
}

// subsumedBy reports whether another term of list (not index self) subsumes t strictly, or an
// identical term sits earlier in the list.
func subsumedBy(t term, list []term, self int) bool {
	for k, u := range list {
		if k == self || !u.subsumes(t) {
			continue
		}
		if !t.subsumes(u) || k < self {
			return true
		}
	}
	return false
}

// makeTerm turns one namespace (or "" for all) and one selector conjunction into a term, dropping
// the conditions NCP tags cannot carry faithfully. why is empty when the term is exact, and
// otherwise says what was dropped.
func (c *compiler) makeTerm(ns string, cj conj, h *tagHazards) (term, ir.GroupReason) {
	t := term{ns: ns}
	var why ir.GroupReason
	if cj.relaxed {
		why = ir.ReasonNotIn
	}
	if h.overLabelled && len(cj.reqs) > 0 {
		// NCP dropped label tags of some pod here; no label condition is trustworthy, but the
		// namespace term is still a superset.
		return t, minReason(why, ir.ReasonUntrustedLabels)
	}
	maxLabels := c.limits.MaxExpressionsPerCriterion - 2
	for _, r := range cj.reqs {
		switch {
		case !c.expressible(r, h):
			why = minReason(why, ir.ReasonUntrustedLabels)
			continue
		case len(t.reqs) == maxLabels:
			why = minReason(why, ir.ReasonOverLimit)
			continue
		}
		t.reqs = append(t.reqs, r)
	}
	return t, why
}

// expressible reports whether a label condition can be an exact LogicalPort tag expression.
func (c *compiler) expressible(r labelReq, h *tagHazards) bool {
	switch {
	case len(r.key) > c.limits.MaxTagScopeLen, len(r.value) > c.limits.MaxTagValueLen:
		return false // NCP truncates such keys/values when it copies them
	case ncptags.IsReservedScope(r.key):
		// NCP's own tags carry these scopes too (ncp/project=<namespace>…), and NSX may compare
		// scopes without regard to case: such a condition would match pods without the label.
		return false
	case h.ambiguousKey(r.key):
		return false
	case !r.exists && (r.value == "" || h.ambiguousPair(r.key, r.value)):
		return false
	}
	return true
}

// formFor describes "pods of these namespaces (nil: all) matching sel" as a tag form.
func (c *compiler) formFor(namespaces []int32, sel selector) *tagForm {
	maxTerms := c.maxTerms()
	conjs, ok := sel.dnf(maxTerms)
	nsNames := []string{""}
	if namespaces != nil {
		nsNames = make([]string, len(namespaces))
		for i, ns := range namespaces {
			nsNames[i] = c.snap.nsNames[ns]
		}
	}
	if !ok || len(nsNames)*len(conjs) > maxTerms {
		return c.namespaceForm(nsNames, ir.ReasonOverLimit)
	}
	form := &tagForm{exact: true}
	for _, name := range nsNames {
		h := &c.snap.globalHazards
		if name != "" {
			h = &c.snap.nsHazards[c.snap.nsIndex[name]]
		}
		for _, cj := range conjs {
			t, why := c.makeTerm(name, cj, h)
			form.exact = form.exact && why == ""
			form.why = minReason(form.why, why)
			form.terms = append(form.terms, t)
		}
	}
	form.terms = normalizeTerms(form.terms)
	return form
}

// namespaceForm is the relaxed superset "every pod of these namespaces", inexact for why.
func (c *compiler) namespaceForm(nsNames []string, why ir.GroupReason) *tagForm {
	if len(nsNames) > c.maxTerms() {
		return &tagForm{terms: []term{{}}, why: why}
	}
	terms := make([]term, len(nsNames))
	for i, n := range nsNames {
		terms[i] = term{ns: n}
	}
	return &tagForm{terms: normalizeTerms(terms), why: why}
}

// maxTerms is how many criteria a selector may expand to: what MaxGroupNesting levels of nested
// groups of TagGroups hold, and at most MaxSelectorTerms.
func (c *compiler) maxTerms() int {
	n := c.limits.MaxCriteriaPerGroup
	for range c.settings.MaxGroupNesting {
		if n >= c.settings.MaxSelectorTerms {
			break
		}
		n *= c.limits.MaxGroupMembers
	}
	return min(n, c.settings.MaxSelectorTerms)
}

// unionForms is the form of a union of two pod sets (nil when either has no form).
func unionForms(a, b *tagForm) *tagForm {
	if a == nil || b == nil {
		return nil
	}
	terms := append(slices.Clone(a.terms), b.terms...)
	return &tagForm{terms: normalizeTerms(terms), exact: a.exact && b.exact, why: minReason(a.why, b.why)}
}

// tagDiff computes the terms of a \ b for exact forms. A term of a survives if every term of b is
// disjoint from it, disappears if some term of b subsumes it, and a cluster-wide term is split
// into per-namespace terms when b talks about particular namespaces. Anything else (a partial
// overlap of label conditions, which tags cannot express as a difference) fails.
func (c *compiler) tagDiff(a, b []term) ([]term, bool) {
	// A term of b bound to another namespace than t neither subsumes t nor meets it, so a term
	// bound to a namespace is only compared with b's cluster-wide terms and those of its own
	// namespace. Without this index a cluster-wide term expanded over every namespace costs
	// namespaces × |b| comparisons (the 10x benchmark spent 87% of its time here).
	var global []term
	byNS := map[string][]term{}
	for _, u := range b {
		if u.ns == "" {
			global = append(global, u)
		} else {
			byNS[u.ns] = append(byNS[u.ns], u)
		}
	}
	var out []term
	var visit func(t term) bool
	visit = func(t term) bool {
		disjoint := true
		expand := false
		candidates := b
		if t.ns != "" {
			candidates = slices.Concat(global, byNS[t.ns])
		}
		for _, u := range candidates {
			if u.subsumes(t) {
				return true
			}
			if !u.disjoint(t) {
				disjoint = false
				if t.ns == "" && u.ns != "" {
					expand = true
				}
			}
		}
		if disjoint {
			out = append(out, t)
			return true
		}
		if !expand || len(c.snap.nsNames) > c.maxTerms() {
			return false
		}
		for _, name := range c.snap.nsNames {
			if !visit(term{ns: name, reqs: t.reqs}) {
				return false
			}
		}
		return true
	}
	for _, t := range a {
		if !visit(t) {
			return nil, false
		}
	}
	if len(out) > c.maxTerms() {
		return nil, false
	}
	return normalizeTerms(out), true
}
