package ir

import (
	"cmp"
	"slices"
)

// PortLoad is the busiest logical port of a model: the most rules applied to one pod's port, and
// that pod. NSX bounds the rules per vNIC; only the compiler, which knows the pods, can count
// them, so it records them in the model.
type PortLoad struct {
	Rules int `json:"rules"`
	// Pod is "namespace/name" of one pod with that many rules (the first by name).
	Pod string `json:"pod,omitempty"`
}

// Usage is what a model takes of an NSX Manager: the objects it creates, the busiest port, and
// who contributes most.
type Usage struct {
	Rules    int `json:"rules"`
	Sections int `json:"sections"`
	// NSGroups are the TagGroups and NestedGroups, IPSets the IPSets.
	NSGroups int `json:"nsGroups"`
	IPSets   int `json:"ipSets"`
	// RulesPerPort is PortLoad.Rules (0 for a model without a PortLoad), BusiestPod its pod.
	RulesPerPort int    `json:"rulesPerPort"`
	BusiestPod   string `json:"busiestPod,omitempty"`
	// NSGroupsByReason and IPSetsByReason count the groups that are not plain tag groups of an
	// exact selector, by why the compiler needed them (Group.Reason).
	NSGroupsByReason map[GroupReason]int `json:"nsGroupsByReason,omitempty"`
	IPSetsByReason   map[GroupReason]int `json:"ipSetsByReason,omitempty"`
	// Namespaces are the developer tier's rules per namespace, Policies the rules per
	// ClusterSecurityPolicy and NetworkPolicy ("csp/<name>", "np/<namespace>/<name>"; a merged
	// rule counts for each policy it realizes): largest first, then by name.
	Namespaces []Contributor `json:"namespaces,omitempty"`
	Policies   []Contributor `json:"policies,omitempty"`
}

// Contributor is a namespace or a policy with the number of rules it accounts for.
type Contributor struct {
	Name  string `json:"name"`
	Rules int    `json:"rules"`
}

// UsageOf counts what a model takes of NSX. It is pure and cheap (one pass over the model).
func UsageOf(m *Model) Usage {
	u := Usage{Sections: len(m.Sections)}
	if m.PortLoad != nil {
		u.RulesPerPort, u.BusiestPod = m.PortLoad.Rules, m.PortLoad.Pod
	}
	namespaces, policies := map[string]int{}, map[string]int{}
	for i := range m.Sections {
		s := &m.Sections[i]
		u.Rules += len(s.Rules)
		for j := range s.Rules {
			o := &s.Rules[j].Origin
			if s.Tier == TierDeveloper && o.Object.Namespace != "" {
				namespaces[o.Object.Namespace]++
			}
			seen := ""
			for _, x := range o.All() {
				if k := x.Object.Key(); k != seen && x.Object.Kind != "" {
					policies[k]++
					seen = k
				}
			}
		}
	}
	for i := range m.Groups {
		g := &m.Groups[i]
		byReason := &u.NSGroupsByReason
		if g.Kind == KindIPSet {
			u.IPSets++
			byReason = &u.IPSetsByReason
		} else {
			u.NSGroups++
		}
		if g.Reason != "" {
			if *byReason == nil {
				*byReason = map[GroupReason]int{}
			}
			(*byReason)[g.Reason]++
		}
	}
	u.Namespaces, u.Policies = ranked(namespaces), ranked(policies)
	return u
}

// ranked lists the counts largest first, then by name.
func ranked(counts map[string]int) []Contributor {
	out := make([]Contributor, 0, len(counts))
	for name, n := range counts {
		out = append(out, Contributor{Name: name, Rules: n})
	}
	slices.SortFunc(out, func(a, b Contributor) int { return cmp.Or(cmp.Compare(b.Rules, a.Rules), cmp.Compare(a.Name, b.Name)) })
	return out
}
