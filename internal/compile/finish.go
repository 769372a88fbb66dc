package compile

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/microseg/microseg/internal/ir"
)

// finish hashes rules and sections, keeps the groups the rules reach, and summarises each source
// object.
func (c *compiler) finish(sections []ir.Section) *ir.Model {
	load := c.load
	if load == nil {
		load = c.portLoad(sections)
	}
	m := &ir.Model{ClusterID: c.clusterID, Sections: sections, PortLoad: load}
	for i := range m.Sections {
		s := &m.Sections[i]
		ruleHashes := make([]string, len(s.Rules))
		for j := range s.Rules {
			r := &s.Rules[j]
			if r.Hash == "" { // the incremental compiler keeps the hashes of rules it reuses
				r.Hash = contentHash(mustJSON(r))
			}
			ruleHashes[j] = r.Hash
		}
		s.Hash = contentHash(s.Key, s.DisplayName, string(s.Tier), mustJSON(ruleHashes))
	}

	// Groups: only those a rule reaches (emission may have created groups for rules it then
	// dropped), sorted by key.
	reached := make(map[string]bool, len(c.groups.byKey))
	var reach func(key string)
	reach = func(key string) {
		if reached[key] {
			return
		}
		reached[key] = true
		for _, k := range c.groups.byKey[key].Members {
			reach(k)
		}
	}
	perObject := map[ir.ObjectRef][]string{} // with duplicates until the end
	for i := range m.Sections {
		s := &m.Sections[i]
		for j := range s.Rules {
			r := &s.Rules[j]
			for _, list := range [][]ir.Ref{r.AppliedTo, r.Sources, r.Destinations} {
				for _, ref := range list {
					if ref.Group != "" {
						reach(ref.Group)
					}
				}
			}
			// A merged rule counts for every object it realizes rules of.
			for k := -1; k < len(r.Origin.Also); k++ {
				obj := r.Origin.Object
				if k >= 0 {
					obj = r.Origin.Also[k].Object
					if obj == r.Origin.Object || (k > 0 && r.Origin.Also[k-1].Object == obj) {
						continue // Also is sorted: one object's rules are adjacent
					}
				}
				o := ir.Origin{Object: obj}
				res := c.objects[o.Object]
				if res == nil {
					panic(fmt.Sprintf("compile: rule %s has no source object %s", r.Key, o.Object))
				}
				if n := len(res.Sections); n == 0 || res.Sections[n-1] != s.Key {
					res.Sections = append(res.Sections, s.Key)
				}
				res.RuleCount++
				groups := perObject[o.Object]
				for _, list := range [][]ir.Ref{r.AppliedTo, r.Sources, r.Destinations} {
					for _, ref := range list {
						if ref.Group != "" {
							groups = c.appendClosure(groups, ref.Group)
						}
					}
				}
				perObject[o.Object] = groups
			}
		}
	}
	// A policy with no rules still owns its (empty) section.
	for i := range m.Sections {
		s := &m.Sections[i]
		if len(s.Rules) == 0 && s.Tier != ir.TierDeveloper {
			for _, res := range c.objects {
				if res.Object.Kind == ir.KindClusterSecurityPolicy && c.limitKey(res.Object.Key()) == s.Key {
					res.Sections = append(res.Sections, s.Key)
				}
			}
		}
	}
	keys := make([]string, 0, len(reached))
	for key := range reached {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	if len(keys) > 0 {
		m.Groups = make([]ir.Group, len(keys))
		for i, key := range keys {
			m.Groups[i] = *c.groups.byKey[key]
		}
	}

	c.warnForgers()
	m.Warnings = c.warnings.sorted()
	byObject := map[ir.ObjectRef][]ir.Warning{}
	for _, w := range m.Warnings {
		byObject[w.Object] = append(byObject[w.Object], w)
	}
	results := make([]*ir.ObjectResult, 0, len(c.objects))
	for obj, res := range c.objects {
		if groups := perObject[obj]; len(groups) > 0 {
			slices.Sort(groups)
			res.Groups = slices.Clip(slices.Compact(groups))
		}
		res.Warnings = byObject[obj]
		results = append(results, res)
	}
	slices.SortFunc(results, func(a, b *ir.ObjectResult) int {
		switch {
		case a.Object.Less(b.Object):
			return -1
		case b.Object.Less(a.Object):
			return 1
		}
		return 0
	})
	if len(results) > 0 {
		m.Objects = make([]ir.ObjectResult, len(results))
		for i, res := range results {
			m.Objects[i] = *res
		}
	}
	return m
}

// appendClosure appends a group and its nested members (duplicates included).
func (c *compiler) appendClosure(list []string, key string) []string {
	list = append(list, key)
	for _, k := range c.groups.byKey[key].Members {
		list = c.appendClosure(list, k)
	}
	return list
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("compile: marshal: %v", err))
	}
	return string(b)
}
