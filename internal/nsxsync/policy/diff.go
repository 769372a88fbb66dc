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

// The diff between the desired objects and the state, before it is cut into calls.

// groupChange is one group write.
type groupChange struct {
	op    string // OpCreateGroup, OpUpdateGroup, OpRepairGroup, OpDeleteGroup
	key   string
	id    string
	body  nsxclient.PolicyGroup // with the revision read, for updates
	depth int                   // nesting depth (creates: members first; deletes: containers first)
}

// unit is the change of one security policy: its attributes and its rule writes, which go to NSX
// together (in one call when they fit).
type unit struct {
	key    string
	id     string
	path   string
	delete bool                     // the policy goes, rules and all
	body   nsxclient.SecurityPolicy // attributes, with the revision read
	create bool                     // the policy does not exist yet
	guard  bool                     // a guard policy
	attrs  bool                     // its attributes change
	moves  bool                     // its category, sequence number or scope change
	rules  []ruleChange
	// current are the ids of its rules in NSX, curBody its attributes as read, and unchanged its
	// rules NSX already holds as the model has them: a policy that moves and does not fit one
	// call clears its rules first and writes them all again (calls.go).
	current   []string
	curBody   nsxclient.SecurityPolicy
	unchanged []ruleChange
}

// ruleChange is one rule write of a unit.
type ruleChange struct {
	op   string // OpCreateRule, OpUpdateRule, OpDeleteRule
	key  string
	id   string
	body nsxclient.PolicyRule
}

// objects counts the objects the unit puts in a hierarchical body.
func (u *unit) objects() int { return 1 + len(u.rules) }

// Ops, as Summary.Ops counts them.
const (
	OpCreateGroup  = "CreateGroup"
	OpUpdateGroup  = "UpdateGroup"
	OpRepairGroup  = "RepairGroup"
	OpDeleteGroup  = "DeleteGroup"
	OpCreatePolicy = "CreatePolicy"
	OpUpdatePolicy = "UpdatePolicy"
	OpDeletePolicy = "DeletePolicy"
	OpCreateRule   = "CreateRule"
	OpUpdateRule   = "UpdateRule"
	OpDeleteRule   = "DeleteRule"
	OpCreateGuard  = "CreateGuard"
	OpDeleteGuard  = "DeleteGuard"
)

// diff is the change from st to d.
type diff struct {
	groupWrites  []groupChange // creates and updates, members first
	groupDeletes []groupChange // containers first
	units        []unit        // model policies in model order, then deletes
	repairs      int           // group content repairs in place
}

func (d *diff) objects() int {
	n := len(d.groupWrites) + len(d.groupDeletes)
	for i := range d.units {
		n += d.units[i].objects()
	}
	return n
}

func (d *diff) empty() bool { return d.objects() == 0 }

// computeDiff compares the desired objects with the state. Sequence numbers are assigned here.
func computeDiff(cfg Config, d *desired, st *State) (*diff, error) {
	out := &diff{}
	wanted := map[string]bool{}
	for i, g := range d.groups {
		wanted[g.id] = true
		cur, ok := st.groups[g.id]
		switch {
		case !ok:
			out.groupWrites = append(out.groupWrites, groupChange{op: OpCreateGroup, key: g.key, id: g.id, body: g.body, depth: i})
		case groupFP(cur.body) != groupFP(g.body):
			op := OpUpdateGroup
			if groupContentFP(cur.body) != groupContentFP(g.body) {
				op = OpRepairGroup
				out.repairs++
			}
			body := g.body
			body.Revision = cur.body.Revision
			out.groupWrites = append(out.groupWrites, groupChange{op: op, key: g.key, id: g.id, body: body, depth: i})
		}
	}
	depth := stateGroupDepth(st)
	for _, id := range slices.Sorted(maps.Keys(st.groups)) {
		if g := st.groups[id]; g.owned && !wanted[id] {
			out.groupDeletes = append(out.groupDeletes, groupChange{op: OpDeleteGroup, key: ownership.TagValue(g.body.Tags, ownership.TagKey), id: id, depth: depth[id]})
		}
	}
	slices.SortStableFunc(out.groupDeletes, func(a, b groupChange) int { return b.depth - a.depth })
	if err := assignPolicyNumbers(cfg, d, st); err != nil {
		return nil, err
	}
	wantedPolicies := map[string]bool{}
	for i := range d.policies {
		p := &d.policies[i]
		wantedPolicies[p.id] = true
		u, err := policyUnit(p, st, nsxclient.SecurityPolicyPath(cfg.Domain, p.id))
		if err != nil {
			return nil, err
		}
		if u != nil {
			out.units = append(out.units, *u)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(st.policies)) {
		if p := st.policies[id]; p.owned && !wantedPolicies[id] {
			out.units = append(out.units, unit{key: ownership.TagValue(p.body.Tags, ownership.TagKey), id: id, path: p.body.Path, delete: true})
		}
	}
	return out, nil
}

// policyUnit is the change of one model policy, nil when NSX already holds it.
func policyUnit(p *desiredPolicy, st *State, path string) (*unit, error) {
	cur, exists := st.policies[p.id]
	if exists && !cur.owned {
		return nil, &nsxsync.ConfigError{Msg: fmt.Sprintf("the NSX security policy %s has the id microseg derives for %s, but it is not microseg's (no %s=%s tag, or NSX protects it): microseg never writes objects it does not own; delete or rename that policy",
			cur.body.Path, p.key, ownership.TagCluster, ownership.TagValue(p.body.Tags, ownership.TagCluster))}
	}
	u := &unit{key: p.key, id: p.id, path: path, body: p.body, create: !exists}
	if exists {
		u.curBody = cur.body
		u.body.Revision = cur.body.Revision
		u.attrs = policyFP(cur.body) != policyFP(p.body)
		u.moves = placementFP(cur.body) != placementFP(p.body)
	}
	have := map[string]nsxclient.PolicyRule{}
	if exists {
		for _, r := range cur.rules {
			have[r.ID] = r
			u.current = append(u.current, r.ID)
		}
	}
	for _, r := range p.rules {
		old, ok := have[r.id]
		switch {
		case !ok:
			u.rules = append(u.rules, ruleChange{op: OpCreateRule, key: r.key, id: r.id, body: r.body})
		case ruleFP(old) != ruleFP(r.body):
			body := r.body
			body.Revision = old.Revision
			u.rules = append(u.rules, ruleChange{op: OpUpdateRule, key: r.key, id: r.id, body: body})
		default:
			u.unchanged = append(u.unchanged, ruleChange{op: OpCreateRule, key: r.key, id: r.id, body: r.body})
		}
		delete(have, r.id)
	}
	for _, id := range slices.Sorted(maps.Keys(have)) {
		u.rules = append(u.rules, ruleChange{op: OpDeleteRule, key: ownership.TagValue(have[id].Tags, ownership.TagKey), id: id})
	}
	if !u.create && !u.attrs && len(u.rules) == 0 {
		return nil, nil
	}
	return u, nil
}

// assignPolicyNumbers sets the sequence numbers of the model's policies (per band, in model
// order) and of their rules.
func assignPolicyNumbers(cfg Config, d *desired, st *State) error {
	for _, tier := range []ir.Tier{ir.TierSecurity, ir.TierDeveloper, ir.TierBaseline} {
		band := bandOf(cfg.Bands, tier)
		category := nsxclient.CategoryApplication
		if tier == ir.TierSecurity {
			category = nsxclient.CategoryEnvironment
		}
		var members []*desiredPolicy
		ours := map[string]bool{}
		for i := range d.policies {
			if d.policies[i].tier == tier {
				members = append(members, &d.policies[i])
				ours[d.policies[i].id] = true
			}
		}
		taken := map[int64]bool{}
		for id, p := range st.policies {
			if !ours[id] && p.body.Category == category && band.Contains(p.body.SequenceNumber) {
				taken[p.body.SequenceNumber] = true
			}
		}
		current := make([]int64, len(members))
		has := make([]bool, len(members))
		for i, p := range members {
			if cur, ok := st.policies[p.id]; ok && cur.owned && cur.body.Category == category {
				current[i], has[i] = cur.body.SequenceNumber, true
			}
		}
		nums, err := assignNumbers(band, current, has, taken)
		if err != nil {
			return &nsxsync.ConfigError{Msg: fmt.Sprintf("the %s tier's policies: %v", tier, err)}
		}
		for i, p := range members {
			p.body.SequenceNumber = nums[i]
			if err := assignRuleNumbers(p, st.policies[p.id]); err != nil {
				return err
			}
		}
	}
	return nil
}

// ruleBand is where rule sequence numbers go inside a policy.
var ruleBand = Band{Lo: 1, Hi: nsxclient.MaxSequenceNumber}

func assignRuleNumbers(p *desiredPolicy, cur *curPolicy) error {
	have := map[string]int64{}
	taken := map[int64]bool{}
	if cur != nil && cur.owned {
		want := map[string]bool{}
		for _, r := range p.rules {
			want[r.id] = true
		}
		for _, r := range cur.rules {
			if want[r.ID] {
				have[r.ID] = r.SequenceNumber
			} else {
				taken[r.SequenceNumber] = true
			}
		}
	}
	current := make([]int64, len(p.rules))
	ok := make([]bool, len(p.rules))
	for i, r := range p.rules {
		current[i], ok[i] = have[r.id]
	}
	nums, err := assignNumbers(ruleBand, current, ok, taken)
	if err != nil {
		return fmt.Errorf("policy backend: the rules of %s: %w", p.key, err)
	}
	for i := range p.rules {
		p.rules[i].body.SequenceNumber = nums[i]
	}
	return nil
}

func bandOf(b Bands, t ir.Tier) Band {
	switch t {
	case ir.TierSecurity:
		return b.Security
	case ir.TierBaseline:
		return b.Baseline
	}
	return b.Developer
}

// stateGroupDepth is the nesting depth of each owned group in the state (0: nests no owned
// group), so that containers are deleted before their members.
func stateGroupDepth(st *State) map[string]int {
	byPath := map[string]string{}
	for id, g := range st.groups {
		byPath[g.body.Path] = id
	}
	depth := map[string]int{}
	var visit func(id string, seen map[string]bool) int
	visit = func(id string, seen map[string]bool) int {
		if d, ok := depth[id]; ok {
			return d
		}
		if seen[id] {
			return 0
		}
		seen[id] = true
		d := 0
		for _, e := range st.groups[id].body.Expression {
			for _, p := range e.Paths {
				if m, ok := byPath[p]; ok {
					d = max(d, visit(m, seen)+1)
				}
			}
		}
		depth[id] = d
		return d
	}
	for id := range st.groups {
		visit(id, map[string]bool{})
	}
	return depth
}
