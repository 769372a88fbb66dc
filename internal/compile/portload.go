package compile

import (
	"slices"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/ncptags"
)

// portLoad counts the rules applied to each pod's logical port (NSX bounds the rules per vNIC)
// and returns the busiest. A rule applies to a port when one of its applied_to groups holds it:
// tag groups by their criteria on the pod's namespace and labels (and, for pods with forged
// identity labels, on every tag their port may carry), nested groups through their members.
func (c *compiler) portLoad(sections []ir.Section) *ir.PortLoad {
	load := make([]int32, len(c.snap.pods))
	members := map[string][]int32{}
	c.forEachRuleLoad(sections, members, func(p int32) { load[p]++ })
	return c.busiest(load)
}

// forEachRuleLoad calls add once per rule and pod its applied_to holds.
func (c *compiler) forEachRuleLoad(sections []ir.Section, members map[string][]int32, add func(p int32)) {
	var union []int32
	for i := range sections {
		for j := range sections[i].Rules {
			r := &sections[i].Rules[j]
			if len(r.AppliedTo) == 1 {
				for _, p := range c.appliedPods(r.AppliedTo[0].Group, members) {
					add(p)
				}
				continue
			}
			union = union[:0]
			for _, ref := range r.AppliedTo {
				union = unionSorted(union, c.appliedPods(ref.Group, members))
			}
			for _, p := range union {
				add(p)
			}
		}
	}
}

// busiest is the port with the most rules.
func (c *compiler) busiest(load []int32) *ir.PortLoad {
	out := &ir.PortLoad{}
	for p, n := range load { // pods are in (namespace, name) order: the first busiest wins
		if int(n) > out.Rules {
			out.Rules, out.Pod = int(n), c.podName(int32(p))
		}
	}
	return out
}

// appliedPods returns the pods a group of an applied_to holds, sorted (cached by key).
func (c *compiler) appliedPods(key string, cache map[string][]int32) []int32 {
	if pods, ok := cache[key]; ok {
		return pods
	}
	var pods []int32
	g := c.groups.byKey[key]
	switch g.Kind {
	case ir.KindTagGroup:
		for _, crit := range g.Criteria {
			pods = unionSorted(pods, c.criterionPods(crit))
		}
	case ir.KindNestedGroup:
		for _, m := range g.Members {
			pods = unionSorted(pods, c.appliedPods(m, cache))
		}
	}
	cache[key] = pods
	return pods
}

// criterionPods returns the pods whose port matches one criterion.
func (c *compiler) criterionPods(crit ir.Criterion) []int32 {
	candidates := c.snap.allPods
	for _, t := range crit.Tags {
		if t.Scope == ncptags.ScopeProject {
			ns, ok := c.snap.nsIndex[t.Tag]
			if !ok {
				candidates = nil
			} else {
				candidates = c.snap.podsByNS[ns]
			}
		}
	}
	var out []int32
	for _, i := range candidates {
		if c.podMatches(i, crit) {
			out = append(out, i)
		}
	}
	// Pods with forged identity tags may match a criterion of another namespace.
	for _, i := range c.snap.forgers {
		if _, in := slices.BinarySearch(out, i); !in && ncptags.Satisfies(c.snap.pods[i].portTags, c.criterionTags(crit)) {
			out = unionSorted(out, []int32{i})
		}
	}
	return out
}

// podMatches evaluates a criterion on a pod's own identity and labels.
func (c *compiler) podMatches(i int32, crit ir.Criterion) bool {
	p := &c.snap.pods[i]
	for _, t := range crit.Tags {
		switch t.Scope {
		case ncptags.ScopeCluster:
			if t.Tag != c.clusterID {
				return false
			}
		case ncptags.ScopeProject:
			if c.snap.nsNames[p.ns] != t.Tag {
				return false
			}
		case ncptags.ScopePod:
			if t.Tag != "" && t.Tag != p.name {
				return false
			}
		default:
			v, ok := p.labels[t.Scope]
			if !ok || (t.Tag != "" && v != t.Tag) {
				return false
			}
		}
	}
	return true
}

func (c *compiler) criterionTags(crit ir.Criterion) []ncptags.Tag {
	out := make([]ncptags.Tag, len(crit.Tags))
	for i, t := range crit.Tags {
		out[i] = ncptags.Tag{Scope: t.Scope, Tag: t.Tag}
	}
	return out
}
