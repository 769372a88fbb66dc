package apply_test

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/microseg/microseg/internal/apply"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsync/manager"
	"github.com/microseg/microseg/internal/ownership"
	. "github.com/microseg/microseg/internal/plan/plantest"
	"github.com/microseg/microseg/nsxclient"
)

// randomModel draws a small model: up to 4 sections (keys from a small pool, in random order) of
// up to 4 rules, over tag groups, IP sets, a nested group, literal CIDRs and NSX groups that exist
// ("corp") or not ("missing").
func randomModel(rng *rand.Rand) *ir.Model {
	tags := []ir.Group{gA, gB, gC, gD}
	ips := []ir.Group{IPSetGroup("192.168.0.0/24"), IPSetGroup("192.168.1.1", "192.168.1.2")}
	nested := NestedGroup([]string{gA.Key, gB.Key})
	nestedExt := NestedGroup([]string{gC.Key}, "corp")
	used := map[string]ir.Group{}
	use := func(g ir.Group) ir.Ref {
		used[g.Key] = g
		if g.Kind == ir.KindNestedGroup {
			for _, m := range []ir.Group{gA, gB, gC} {
				if slices.Contains(g.Members, m.Key) {
					used[m.Key] = m
				}
			}
		}
		return Ref(g)
	}
	peer := func() ir.Ref {
		switch rng.IntN(7) {
		case 0, 1:
			return use(tags[rng.IntN(len(tags))])
		case 2:
			return use(ips[rng.IntN(len(ips))])
		case 3:
			return use([]ir.Group{nested, nestedExt}[rng.IntN(2)])
		case 4:
			return CIDR(fmt.Sprintf("10.%d.0.0/16", rng.IntN(3)))
		case 5:
			return ir.Ref{NSXGroup: "corp"}
		default:
			return ir.Ref{NSXGroup: "missing"}
		}
	}
	actions := []ir.Action{ir.ActionAllow, ir.ActionDrop, ir.ActionReject}
	keys := rng.Perm(6)[:rng.IntN(5)]
	var sections []ir.Section
	for _, k := range keys {
		var rules []ir.Rule
		for _, j := range rng.Perm(6)[:rng.IntN(5)] {
			var opts []func(*ir.Rule)
			if n := rng.IntN(3); n > 0 {
				refs := make([]ir.Ref, n)
				for i := range refs {
					refs[i] = peer()
				}
				if rng.IntN(2) == 0 {
					opts = append(opts, From(refs...))
				} else {
					opts = append(opts, To(refs...))
				}
			}
			if rng.IntN(2) == 0 {
				opts = append(opts, TCP(fmt.Sprint(80+rng.IntN(3))))
			}
			dir := []ir.Direction{ir.DirectionIn, ir.DirectionOut}[rng.IntN(2)]
			r := Rule(fmt.Sprintf("s%d/r%d", k, j), actions[rng.IntN(3)], dir, tags[rng.IntN(4)], opts...)
			if rng.IntN(4) == 0 && len(r.Sources) > 0 {
				r.SourcesExcluded = true
				r = Rehash(r)
			}
			used[r.AppliedTo[0].Group] = tags[slices.IndexFunc(tags, func(g ir.Group) bool { return g.Key == r.AppliedTo[0].Group })]
			rules = append(rules, r)
		}
		sections = append(sections, Section(fmt.Sprintf("s%d", k), rules...))
	}
	var groups []ir.Group
	for _, g := range used {
		groups = append(groups, g)
	}
	return Model(sections, groups...)
}

// addSeeds adds the fuzzers' 24 seed inputs.
func addSeeds(f *testing.F) {
	for i := range 24 {
		f.Add(fmt.Appendf(nil, "seed-%d", i))
	}
}

// seeded is a random generator seeded by a fuzz input.
func seeded(data []byte) *rand.Rand {
	sum := sha256.Sum256(data)
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum[:8]), binary.LittleEndian.Uint64(sum[8:16])))
}

func FuzzPlan(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		rng := seeded(data)
		a, b, c := randomModel(rng), randomModel(rng), randomModel(rng)
		e := newEnv(t)
		above := e.handMade("above", nsxclient.FirewallRule{Action: "ALLOW"}, nsxclient.Top())
		if _, err := e.client.CreateNSGroup(e.ctx, nsxclient.NSGroup{ManagedResource: nsxclient.ManagedResource{DisplayName: "corp"}}); err != nil {
			t.Fatal(err)
		}
		opts := manager.Config{Anchor: above.ID}
		for i, m := range []*ir.Model{a, b, c} {
			if i > 0 && rng.IntN(2) == 0 {
				e.intrude(rng)
			}
			e.sync(m, naiveGuard, opts)
			e.requireConverged(m, opts)
			e.requireHolds(m)
		}
	})
}

// intrude inserts a hand-made section right after a random microseg section.
func (e *env) intrude(rng *rand.Rand) {
	st, err := apply.ReadState(e.ctx, e.client, apply.ReadOptions{ClusterID: Cluster})
	if err != nil {
		e.t.Fatal(err)
	}
	owned := ownedSections(st)
	if len(owned) == 0 {
		return
	}
	at := owned[rng.IntN(len(owned))].Section.ID
	e.handMade("intruder", nsxclient.FirewallRule{Action: "ALLOW"}, nsxclient.After(at))
}

// requireHolds checks that NSX holds exactly m: microseg's sections, contiguous and in model
// order, and microseg's groups, one per model group.
func (e *env) requireHolds(m *ir.Model) {
	e.t.Helper()
	st, err := apply.ReadState(e.ctx, e.client, apply.ReadOptions{ClusterID: m.ClusterID})
	if err != nil {
		e.t.Fatal(err)
	}
	var keys, want []string
	first, last := -1, -1
	for i, s := range st.Sections {
		if ownership.Owned(s.Section.Tags, m.ClusterID) {
			k := tagOf(s.Section.Tags, ownership.TagKey)
			keys = append(keys, k)
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	for _, s := range m.Sections {
		want = append(want, ownership.EncodeKey(s.Key))
	}
	if !slices.Equal(keys, want) || (first >= 0 && last-first+1 != len(keys)) {
		e.t.Fatalf("sections %v, want %v (contiguous)", keys, want)
	}
	var groups, wantGroups []string
	for _, g := range st.NSGroups {
		groups = append(groups, tagOf(g.Tags, ownership.TagKey))
	}
	for _, g := range st.IPSets {
		groups = append(groups, tagOf(g.Tags, ownership.TagKey))
	}
	for _, g := range m.Groups {
		wantGroups = append(wantGroups, g.Key)
	}
	slices.Sort(groups)
	if !slices.Equal(groups, wantGroups) {
		e.t.Fatalf("groups %v, want %v", groups, wantGroups)
	}
}

func tagOf(tags []nsxclient.Tag, scope string) string {
	for _, t := range tags {
		if t.Scope == scope {
			return t.Tag
		}
	}
	return ""
}
