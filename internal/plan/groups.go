package plan

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/nsxclient"
)

// Groups are content-addressed, so a changed selector is a new key: the new group is created
// before the rules that use it and the old one deleted after them. An existing group with the
// right key whose content differs was edited in NSX: it is repaired in place (PUT), keeping its
// id, so that the rules referencing it need no change. Creates go members first (IPSets and tag
// groups, then nested groups by depth); deletes go the other way round.

// groupDepth returns each group's nesting depth (0 for tag groups and IP sets) and fails on a
// membership cycle or a member the groups do not define.
func groupDepth(groups map[string]*ir.Group) (map[string]int, error) {
	depth := make(map[string]int, len(groups))
	const visiting = -1
	var visit func(key string) (int, error)
	visit = func(key string) (int, error) {
		if d, ok := depth[key]; ok {
			if d == visiting {
				return 0, fmt.Errorf("plan: nested group %s contains itself", key)
			}
			return d, nil
		}
		g, ok := groups[key]
		if !ok {
			return 0, fmt.Errorf("plan: a nested group names member %s, which is not defined", key)
		}
		depth[key] = visiting
		d := 0
		for _, m := range g.Members {
			md, err := visit(m)
			if err != nil {
				return 0, err
			}
			d = max(d, md+1)
		}
		depth[key] = d
		return d, nil
	}
	for _, k := range slices.Sorted(maps.Keys(groups)) {
		if _, err := visit(k); err != nil {
			return nil, err
		}
	}
	return depth, nil
}

// creationOrder sorts keys members-first: by depth, then key.
func creationOrder(keys []string, depth map[string]int) []string {
	out := slices.Clone(keys)
	slices.SortFunc(out, func(a, b string) int {
		return cmp.Or(cmp.Compare(depth[a], depth[b]), cmp.Compare(a, b))
	})
	return out
}

// groupPlanner decides the group steps.
type groupPlanner struct {
	x       *stateIndex
	r       *realizer
	claimed map[string]string // id of an owned group → the desired key that keeps it
	creates []Step
	updates []Step
	// contentUpdates counts updates that change membership (they change DFW evaluation);
	// nsGroupContentUpdates those of NSGroups, and changedAddresses the entries the IPSet
	// updates add or remove (addrguard.go).
	contentUpdates, nsGroupContentUpdates int
	changedAddresses                      []string
	// created holds the keys created by this plan, with their depth, for the deletes of
	// guard-only groups.
	created map[string]int
}

func newGroupPlanner(x *stateIndex, r *realizer) *groupPlanner {
	return &groupPlanner{x: x, r: r, claimed: map[string]string{}, created: map[string]int{}}
}

// plan decides create/update/keep for keys (in creation order) and records their ids or
// placeholders in the realizer.
func (gp *groupPlanner) plan(keys []string, depth map[string]int, reason string) error {
	for _, key := range keys {
		g := gp.r.groups[key]
		ng, ips, err := gp.r.groupBody(g)
		if err != nil {
			return err
		}
		want, wantContent := "", ""
		if ng != nil {
			want, wantContent = nsGroupFP(ng), nsGroupContentFP(ng)
		} else {
			want, wantContent = ipSetFP(ips), ipSetContentFP(ips)
		}
		var candidates []*ownedGroup
		for _, o := range gp.x.groups[ownership.EncodeKey(key)] {
			if o.kind == targetType(g.Kind) && gp.claimed[o.id] == "" {
				candidates = append(candidates, o)
			}
		}
		if len(candidates) == 0 {
			gp.r.groupRef[key] = Placeholder(PlaceholderGroup, key)
			gp.created[key] = depth[key]
			gp.creates = append(gp.creates, Step{Op: OpCreateGroup, Reason: reason, Key: key, GroupKind: g.Kind, NSGroup: ng, IPSet: ips})
			continue
		}
		// Prefer a copy that is already right; otherwise repair the first by id.
		keep, same := candidates[0], false
		for _, o := range candidates {
			if o.fp() == want {
				keep, same = o, true
				break
			}
		}
		gp.claimed[keep.id] = key
		gp.r.groupRef[key] = keep.id
		if same {
			continue
		}
		if keep.contentFP() != wantContent {
			gp.contentUpdates++
			if ips != nil {
				gp.changedAddresses = append(gp.changedAddresses, symmetricDifference(keep.ipSet.IPAddresses, ips.IPAddresses)...)
			} else {
				gp.nsGroupContentUpdates++
			}
		}
		step := Step{Op: OpUpdateGroup, Reason: "group content or tags differ from the model (edited in NSX)", Key: key, ID: keep.id,
			GroupKind: g.Kind, Revision: keep.revision}
		if ng != nil {
			ng.ID, ng.Revision = keep.id, keep.revision
			step.NSGroup = ng
		} else {
			ips.ID, ips.Revision = keep.id, keep.revision
			step.IPSet = ips
		}
		gp.updates = append(gp.updates, step)
	}
	return nil
}

func (o *ownedGroup) fp() string {
	if o.nsGroup != nil {
		return nsGroupFP(o.nsGroup)
	}
	return ipSetFP(o.ipSet)
}

func (o *ownedGroup) contentFP() string {
	if o.nsGroup != nil {
		return nsGroupContentFP(o.nsGroup)
	}
	return ipSetContentFP(o.ipSet)
}

// deletes returns the deletes of every owned group no model group keeps, plus the guard-only
// groups this plan creates, containers before their members.
func (gp *groupPlanner) deletes(modelKeys map[string]bool) []Step {
	type victim struct {
		step  Step
		depth int
	}
	var out []victim
	for _, o := range gp.x.groupList {
		if gp.claimedByModel(o, modelKeys) {
			continue
		}
		kind := ir.KindIPSet
		if o.kind == nsxclient.TargetNSGroup {
			kind = ir.KindTagGroup
			if len(o.nsGroup.Members) > 0 {
				kind = ir.KindNestedGroup
			}
		}
		out = append(out, victim{Step{Op: OpDeleteGroup, Reason: "group no longer used by the model", Key: o.key, ID: o.id, GroupKind: kind},
			gp.currentDepth(o, map[string]bool{})})
	}
	for key, d := range gp.created {
		if modelKeys[key] {
			continue
		}
		out = append(out, victim{Step{Op: OpDeleteGroup, Reason: "guard group, after the guard", Key: key,
			ID: Placeholder(PlaceholderGroup, key), GroupKind: gp.r.groups[key].Kind}, d})
	}
	slices.SortFunc(out, func(a, b victim) int {
		return cmp.Or(cmp.Compare(b.depth, a.depth), cmp.Compare(a.step.Key, b.step.Key), cmp.Compare(a.step.ID, b.step.ID))
	})
	steps := make([]Step, len(out))
	for i := range out {
		steps[i] = out[i].step
	}
	return steps
}

// claimedByModel reports whether a model group keeps o (guard-only groups are deleted later).
func (gp *groupPlanner) claimedByModel(o *ownedGroup, modelKeys map[string]bool) bool {
	key := gp.claimed[o.id]
	return key != "" && modelKeys[key]
}

// currentDepth is the nesting depth of an owned group through owned static members.
func (gp *groupPlanner) currentDepth(o *ownedGroup, path map[string]bool) int {
	if o.nsGroup == nil || path[o.id] {
		return 0
	}
	path[o.id] = true
	defer delete(path, o.id)
	d := 0
	for _, m := range o.nsGroup.Members {
		if child, ok := gp.x.groupsByID[m.Value]; ok {
			d = max(d, gp.currentDepth(child, path)+1)
		}
	}
	return d
}
