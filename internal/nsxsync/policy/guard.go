package policy

import (
	"fmt"
	"maps"
	"slices"

	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/nsxclient"
)

// The guard of a change that takes more than one call (docs/architecture.md, "The Policy
// backend", has the proof). It is deny-only: every enabled DROP and REJECT rule of the old
// configuration (the rules of microseg's policies as read, with their effective scope) and of the
// new one, deduplicated, in guard policies placed above every policy of microseg, old or new. No
// group changes content during a guarded change (repairByMove), so each of these rules matches
// the same flows for the whole change.

// guardCategories ranks the layer-3 categories, first evaluated first.
var guardCategories = []string{nsxclient.CategoryEmergency, nsxclient.CategoryInfrastructure, nsxclient.CategoryEnvironment}

// guardRules collects the deny rules of the old and the new configuration.
func guardRules(cluster string, st *State, d *desired) []nsxclient.PolicyRule {
	byFP := map[string]nsxclient.PolicyRule{}
	add := func(r nsxclient.PolicyRule, policyScope []string) {
		if r.Disabled || (r.Action != "DROP" && r.Action != "REJECT") {
			return
		}
		g := nsxclient.PolicyRule{
			Action:               r.Action,
			SourceGroups:         anyList(r.SourceGroups),
			SourcesExcluded:      r.SourcesExcluded,
			DestinationGroups:    anyList(r.DestinationGroups),
			DestinationsExcluded: r.DestinationsExcluded,
			Services:             anyList(r.Services),
			Scope:                anyList(r.Scope),
			Direction:            r.Direction,
			IPProtocol:           r.IPProtocol,
		}
		if ps := anyList(policyScope); ps[0] != nsxclient.AnyPath {
			g.Scope = ps // a policy's scope overrides its rules'
		}
		for _, e := range r.ServiceEntries {
			e.ID, e.DisplayName = "", ""
			g.ServiceEntries = append(g.ServiceEntries, e)
		}
		if isAny(g.Scope) && isAny(g.SourceGroups) && isAny(g.DestinationGroups) {
			// NSX refuses an all-ANY rule outside a scoped policy; such a rule (only ever an
			// administrator's edit) denies everything it reaches in every state anyway.
			return
		}
		byFP[ruleMatchFP(g)] = g
	}
	for _, id := range slices.Sorted(maps.Keys(st.policies)) {
		p := st.policies[id]
		if !p.owned {
			continue
		}
		for _, r := range p.rules {
			add(r, p.body.Scope)
		}
	}
	for _, p := range d.policies {
		for _, r := range p.rules {
			add(r.body, p.body.Scope)
		}
	}
	fps := slices.Sorted(maps.Keys(byFP))
	out := make([]nsxclient.PolicyRule, len(fps))
	for i, fp := range fps {
		r := byFP[fp]
		r.ID = guardRuleID(cluster, fp)
		r.DisplayName = "microseg guard"
		r.Tags = guardTags(cluster)
		r.Notes = "guard"
		out[i] = r
	}
	return out
}

func isAny(list []string) bool { return len(list) == 1 && list[0] == nsxclient.AnyPath }

func guardTags(cluster string) []nsxclient.Tag {
	return []nsxclient.Tag{{Scope: ownership.TagCluster, Tag: cluster}, {Scope: ownership.TagRole, Tag: ownership.RoleGuard}}
}

// guardPolicies packs the guard rules into policies placed above every policy microseg owns:
// in the highest-ranked layer-3 category one of them is in (Environment unless an administrator
// moved one higher), below the sequence numbers of the policies microseg owns there and of its
// security band.
func guardPolicies(cfg Config, st *State, rules []nsxclient.PolicyRule) ([]nsxclient.SecurityPolicy, error) {
	if len(rules) == 0 {
		return nil, nil
	}
	category := nsxclient.CategoryEnvironment
	for _, p := range st.policies {
		if p.owned && slices.Index(guardCategories, p.body.Category) >= 0 && slices.Index(guardCategories, p.body.Category) < slices.Index(guardCategories, category) {
			category = p.body.Category
		}
	}
	top := int64(nsxclient.MaxSequenceNumber + 1)
	if category == nsxclient.CategoryEnvironment {
		top = cfg.Bands.Security.Lo
	}
	for _, p := range st.policies {
		if p.owned && p.body.Category == category {
			top = min(top, p.body.SequenceNumber)
		}
	}
	n := (len(rules) + cfg.MaxRulesPerPolicy - 1) / cfg.MaxRulesPerPolicy
	if top-int64(n) < 0 {
		return nil, &nsxsync.ConfigError{Msg: fmt.Sprintf("a change of more than one call needs %d guard policies above microseg's policies in the %s category, but they start at sequence number %d: move microseg's security band up", n, category, top)}
	}
	var out []nsxclient.SecurityPolicy
	slot := 0
	for i := range n {
		for {
			if _, used := st.policies[guardPolicyID(cfg.ClusterID, slot)]; !used {
				break
			}
			slot++
		}
		id := guardPolicyID(cfg.ClusterID, slot)
		slot++
		chunk := slices.Clone(rules[i*cfg.MaxRulesPerPolicy : min(len(rules), (i+1)*cfg.MaxRulesPerPolicy)])
		for j := range chunk {
			chunk[j].SequenceNumber = int64(j+1) * 10
		}
		out = append(out, nsxclient.SecurityPolicy{
			PolicyResource: nsxclient.PolicyResource{ID: id, DisplayName: "microseg guard " + cfg.ClusterID,
				Description: ownership.Description(cfg.ClusterID, "Guard policy", fmt.Sprint(i)), Tags: guardTags(cfg.ClusterID)},
			Category:       category,
			SequenceNumber: top - int64(n) + int64(i),
			Stateful:       ptrTrue(),
			Scope:          []string{nsxclient.AnyPath},
			Rules:          chunk,
		})
	}
	return out, nil
}
