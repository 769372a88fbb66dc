package compile

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// selector is a normalised metav1.LabelSelector: matchLabels become In requirements, every
// requirement's values are sorted and unique, and requirements are sorted, so that equal
// selectors have equal canonical strings.
type selector struct {
	reqs []requirement
}

type requirement struct {
	key    string
	op     metav1.LabelSelectorOperator
	values []string
}

// parseSelector normalises a label selector. A nil selector is "match everything" here; callers
// decide what a nil selector means in their context.
func parseSelector(ls *metav1.LabelSelector) (selector, error) {
	var s selector
	if ls == nil {
		return s, nil
	}
	for k, v := range ls.MatchLabels {
		s.reqs = append(s.reqs, requirement{key: k, op: metav1.LabelSelectorOpIn, values: []string{v}})
	}
	for _, e := range ls.MatchExpressions {
		r := requirement{key: e.Key, op: e.Operator}
		switch e.Operator {
		case metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn:
			if len(e.Values) == 0 {
				return s, fmt.Errorf("selector requirement %q %s needs values", e.Key, e.Operator)
			}
			r.values = slices.Clone(e.Values)
			slices.Sort(r.values)
			r.values = slices.Compact(r.values)
		case metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist:
			if len(e.Values) != 0 {
				return s, fmt.Errorf("selector requirement %q %s takes no values", e.Key, e.Operator)
			}
		default:
			return s, fmt.Errorf("selector requirement %q has unknown operator %q", e.Key, e.Operator)
		}
		if e.Key == "" {
			return s, fmt.Errorf("selector requirement with an empty key")
		}
		s.reqs = append(s.reqs, r)
	}
	slices.SortFunc(s.reqs, func(a, b requirement) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		if c := strings.Compare(string(a.op), string(b.op)); c != 0 {
			return c
		}
		return slices.Compare(a.values, b.values)
	})
	s.reqs = slices.CompactFunc(s.reqs, func(a, b requirement) bool {
		return a.key == b.key && a.op == b.op && slices.Equal(a.values, b.values)
	})
	return s, nil
}

// empty reports whether the selector matches every object.
func (s selector) empty() bool { return len(s.reqs) == 0 }

// matches applies label selector semantics: NotIn and DoesNotExist match objects lacking the key.
func (s selector) matches(labels map[string]string) bool {
	for _, r := range s.reqs {
		v, has := labels[r.key]
		switch r.op {
		case metav1.LabelSelectorOpIn:
			if !has || !slices.Contains(r.values, v) {
				return false
			}
		case metav1.LabelSelectorOpNotIn:
			if has && slices.Contains(r.values, v) {
				return false
			}
		case metav1.LabelSelectorOpExists:
			if !has {
				return false
			}
		case metav1.LabelSelectorOpDoesNotExist:
			if has {
				return false
			}
		}
	}
	return true
}

// canonical is a string that is equal for equal selectors.
func (s selector) canonical() string {
	var b strings.Builder
	for _, r := range s.reqs {
		fmt.Fprintf(&b, "%q %s %q;", r.key, r.op, r.values)
	}
	return b.String()
}

// labelReq is one condition of a tag term: label key equals value, or (exists) key is present.
type labelReq struct {
	key    string
	value  string
	exists bool
}

// conj is one conjunction of a selector's disjunctive normal form. relaxed means the conjunction
// is only a superset of what the selector asks for (a NotIn or DoesNotExist was dropped, or an
// In alternative with the empty value became Exists).
type conj struct {
	reqs    []labelReq // sorted by key, one per key
	relaxed bool
}

// dnf expands the selector into a disjunction of conjunctions of tag-expressible conditions:
// In with n values gives n alternatives, Exists is kept, NotIn and DoesNotExist (which tags
// cannot express) are dropped and mark every conjunction relaxed. Contradictory conjunctions
// (app=a and app=b) disappear. ok is false when the expansion would exceed max conjunctions.
func (s selector) dnf(max int) (out []conj, ok bool) {
	out = []conj{{}}
	for _, r := range s.reqs {
		switch r.op {
		case metav1.LabelSelectorOpNotIn, metav1.LabelSelectorOpDoesNotExist:
			for i := range out {
				out[i].relaxed = true
			}
		case metav1.LabelSelectorOpExists:
			for i := range out {
				out[i] = out[i].and(labelReq{key: r.key, exists: true})
			}
		case metav1.LabelSelectorOpIn:
			if len(out)*len(r.values) > max {
				return nil, false
			}
			var next []conj
			for _, c := range out {
				for _, v := range r.values {
					req := labelReq{key: r.key, value: v}
					relaxed := c.relaxed
					if v == "" {
						// A tag expression with an empty tag means "any value": the best tags
						// can do for key="" is Exists.
						req = labelReq{key: r.key, exists: true}
						relaxed = true
					}
					if n, ok := c.andChecked(req); ok {
						n.relaxed = n.relaxed || relaxed
						next = append(next, n)
					}
				}
			}
			out = next
		}
	}
	return out, true
}

// and adds a condition that cannot contradict (Exists).
func (c conj) and(r labelReq) conj {
	n, _ := c.andChecked(r)
	return n
}

// andChecked adds a condition; ok is false when the conjunction becomes unsatisfiable.
func (c conj) andChecked(r labelReq) (conj, bool) {
	reqs := slices.Clone(c.reqs)
	i, found := slices.BinarySearchFunc(reqs, r.key, func(a labelReq, k string) int { return strings.Compare(a.key, k) })
	if !found {
		reqs = slices.Insert(reqs, i, r)
		return conj{reqs: reqs, relaxed: c.relaxed}, true
	}
	have := reqs[i]
	switch {
	case r.exists:
		// have is at least as strict.
	case have.exists:
		reqs[i] = r
	case have.value != r.value:
		return conj{}, false
	}
	return conj{reqs: reqs, relaxed: c.relaxed}, true
}
