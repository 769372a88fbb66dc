package policy

import (
	"fmt"
	"maps"
	"slices"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/nsxclient"
)

// desiredPolicy is one security policy as microseg wants it: attributes and rules in order, with
// their sequence numbers.
type desiredPolicy struct {
	key   string
	id    string
	tier  ir.Tier
	body  nsxclient.SecurityPolicy // Rules nil
	rules []desiredRule
}

// desired is the whole model realized for one state.
type desired struct {
	groups   []desiredGroup // members before the groups nesting them
	policies []desiredPolicy
	problems []nsxsync.Problem
}

// groupMode says how a group whose content differs from the model is brought back.
type groupMode int

const (
	// repairInPlace rewrites the group's expression: used when the whole change is one call.
	repairInPlace groupMode = iota
	// repairByMove creates the group anew at its next free slot and deletes the old one at the
	// end: used when the change takes several calls, so that no group changes content while
	// rules of both the old and the new configuration reference it (see guard.go).
	repairByMove
)

// realize turns the model into desired objects for state st.
func realize(cfg Config, m *ir.Model, st *State, mode groupMode) (*desired, error) {
	r := &realizer{cluster: cfg.ClusterID, groups: map[string]*ir.Group{}, paths: map[string]string{},
		externals: st.externalGroups(), incomplete: map[string]string{}, problems: map[nsxsync.Problem]bool{}}
	for i := range m.Groups {
		g := &m.Groups[i]
		if prev, dup := r.groups[g.Key]; dup && prev.Hash != g.Hash {
			return nil, fmt.Errorf("policy backend: two different groups share the key %q", g.Key)
		}
		r.groups[g.Key] = g
	}
	order, err := creationOrder(r.groups)
	if err != nil {
		return nil, err
	}
	r.externals.Incomplete(r.groups, order, r.incomplete)
	d := &desired{}
	slots := slotsByKey(st)
	for _, key := range order {
		g := r.groups[key]
		expr, err := groupExpression(g, r.paths, r.external)
		if err != nil {
			return nil, err
		}
		id := chooseGroupID(cfg.ClusterID, g, expr, st, slots[ownership.EncodeKey(key)], mode)
		path := nsxclient.GroupPath(cfg.Domain, id)
		r.paths[key] = path
		d.groups = append(d.groups, desiredGroup{key: key, id: id, path: path, body: groupBody(cfg.ClusterID, id, g, expr), members: g.Members})
	}
	seen := map[string]bool{}
	for i := range m.Sections {
		s := &m.Sections[i]
		p, err := realizePolicy(cfg, r, s)
		if err != nil {
			return nil, err
		}
		if seen[p.id] {
			return nil, fmt.Errorf("policy backend: two sections share the key %q", s.Key)
		}
		seen[p.id] = true
		d.policies = append(d.policies, p)
	}
	d.problems = append(d.problems, slices.Collect(maps.Keys(r.problems))...)
	sortProblems(d.problems)
	return d, nil
}

// realizePolicy realizes one IR section as a security policy (sequence numbers not yet set).
func realizePolicy(cfg Config, r *realizer, s *ir.Section) (desiredPolicy, error) {
	id := policyID(cfg.ClusterID, s)
	category := nsxclient.CategoryApplication
	if s.Tier == ir.TierSecurity {
		category = nsxclient.CategoryEnvironment
	}
	p := desiredPolicy{key: s.Key, id: id, tier: s.Tier, body: nsxclient.SecurityPolicy{
		PolicyResource: nsxclient.PolicyResource{
			ID:          id,
			DisplayName: cut(s.DisplayName, maxDisplayName),
			Description: ownership.Description(cfg.ClusterID, "Policy", s.Key),
			Tags:        ownership.Tags(cfg.ClusterID, s.Key, s.Hash, false),
		},
		Category: category,
		Stateful: ptrTrue(),
		Scope:    []string{nsxclient.AnyPath},
	}}
	seen := map[string]bool{}
	for i := range s.Rules {
		rule, keep, err := r.rule(&s.Rules[i], true)
		if err != nil {
			return p, fmt.Errorf("policy backend: section %s: %w", s.Key, err)
		}
		if !keep {
			continue
		}
		if seen[rule.id] {
			return p, fmt.Errorf("policy backend: section %s: two rules share the key %q", s.Key, s.Rules[i].Key)
		}
		seen[rule.id] = true
		p.rules = append(p.rules, rule)
	}
	return p, nil
}

func ptrTrue() *bool { t := true; return &t }

// slotsByKey lists, per encoded key, the ids of the owned groups carrying that key.
func slotsByKey(st *State) map[string][]string {
	out := map[string][]string{}
	for _, id := range slices.Sorted(maps.Keys(st.groups)) {
		g := st.groups[id]
		if g.owned && !ownership.IsGuard(g.body.Tags) {
			k := ownership.TagValue(g.body.Tags, ownership.TagKey)
			out[k] = append(out[k], id)
		}
	}
	return out
}

// chooseGroupID picks where a model group lives: an owned group of its key that already has the
// right content (whatever its slot); else its home slot, rewritten in place (repairInPlace) or,
// when the home holds other content, the first slot that holds nothing (repairByMove). Slots
// held by objects microseg does not own are skipped.
func chooseGroupID(cluster string, g *ir.Group, expr []nsxclient.PolicyExpression, st *State, existing []string, mode groupMode) string {
	want := groupContentFP(nsxclient.PolicyGroup{Expression: expr})
	for _, id := range existing {
		if groupContentFP(st.groups[id].body) == want {
			return id
		}
	}
	for slot := 0; ; slot++ {
		id := groupID(cluster, g.Key, slot)
		cur, exists := st.groups[id]
		switch {
		case !exists:
			return id
		case !cur.owned || ownership.IsGuard(cur.body.Tags):
			continue
		case mode == repairInPlace:
			return id
		}
	}
}

// creationOrder orders model groups so that members come before the groups nesting them, by key
// within a depth.
func creationOrder(groups map[string]*ir.Group) ([]string, error) {
	depth := map[string]int{}
	var visit func(key string, path map[string]bool) (int, error)
	visit = func(key string, path map[string]bool) (int, error) {
		if d, ok := depth[key]; ok {
			return d, nil
		}
		g, ok := groups[key]
		if !ok {
			return 0, fmt.Errorf("policy backend: a group nests %s, which the model does not define", key)
		}
		if path[key] {
			return 0, fmt.Errorf("policy backend: group %s nests itself", key)
		}
		path[key] = true
		d := 0
		for _, m := range g.Members {
			md, err := visit(m, path)
			if err != nil {
				return 0, err
			}
			d = max(d, md+1)
		}
		delete(path, key)
		depth[key] = d
		return d, nil
	}
	keys := slices.Sorted(maps.Keys(groups))
	for _, k := range keys {
		if _, err := visit(k, map[string]bool{}); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(keys, func(a, b string) int { return depth[a] - depth[b] })
	return keys, nil
}

// sortProblems orders problems by object, rule, code, message.
func sortProblems(ps []nsxsync.Problem) {
	slices.SortFunc(ps, func(a, b nsxsync.Problem) int {
		switch {
		case a.Object != b.Object && a.Object.Less(b.Object):
			return -1
		case a.Object != b.Object:
			return 1
		case a.Rule != b.Rule:
			return cmpStr(a.Rule, b.Rule)
		case a.Code != b.Code:
			return cmpStr(a.Code, b.Code)
		}
		return cmpStr(a.Message, b.Message)
	})
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
