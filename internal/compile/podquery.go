package compile

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// namespaceMatch is the result of a namespace selector: every namespace (all), or a list.
type namespaceMatch struct {
	all   bool
	names []int32 // ascending; meaningful when !all
}

// matchNamespaces resolves a namespace selector against the snapshot's namespace labels. An
// empty selector is "every namespace" structurally, which lets the tag form use a cluster-wide
// criterion instead of listing namespaces.
func (c *compiler) matchNamespaces(ls *metav1.LabelSelector) (namespaceMatch, error) {
	sel, err := parseSelector(ls)
	if err != nil {
		return namespaceMatch{}, err
	}
	if sel.empty() {
		return namespaceMatch{all: true}, nil
	}
	key := sel.canonical()
	if m, ok := c.nsCache[key]; ok {
		return m, nil
	}
	m := namespaceMatch{names: []int32{}}
	for i, labels := range c.snap.nsLabels {
		if sel.matches(labels) {
			m.names = append(m.names, int32(i))
		}
	}
	c.nsCache[key] = m
	return m, nil
}

// ownNamespace is the match of one namespace by name.
func (c *compiler) ownNamespace(name string) namespaceMatch {
	if i, ok := c.snap.nsIndex[name]; ok {
		return namespaceMatch{names: []int32{i}}
	}
	return namespaceMatch{names: []int32{}}
}

// selectPods is "pods of these namespaces matching the pod selector" with its tag form. Results
// are cached: many policies share selectors.
func (c *compiler) selectPods(ns namespaceMatch, ls *metav1.LabelSelector) (podSet, error) {
	sel, err := parseSelector(ls)
	if err != nil {
		return podSet{}, err
	}
	key := queryKey(ns, sel)
	if p, ok := c.podCache[key]; ok {
		return p, nil
	}
	var nsList []int32
	if !ns.all {
		nsList = ns.names
	}
	var members []int32
	for _, i := range c.snap.podsOf(nsList) {
		if sel.matches(c.snap.pods[i].labels) {
			members = append(members, i)
		}
	}
	p := podSet{members: members, form: c.formFor(nsList, sel)}
	c.podCache[key] = p
	return p, nil
}

func queryKey(ns namespaceMatch, sel selector) string {
	var b strings.Builder
	if ns.all {
		b.WriteString("*")
	} else {
		for _, i := range ns.names {
			fmt.Fprintf(&b, "%d,", i)
		}
	}
	b.WriteString("|")
	b.WriteString(sel.canonical())
	return b.String()
}
