package plan

import (
	"maps"
	"testing"

	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/nsxclient"
)

func sectionState(id, name string, tags ...nsxclient.Tag) SectionState {
	return SectionState{Section: nsxclient.FirewallSection{ManagedResource: nsxclient.ManagedResource{ID: id, DisplayName: name, Tags: tags}}}
}

func TestStateIndex(t *testing.T) {
	mine := func(key string) []nsxclient.Tag {
		return []nsxclient.Tag{{Scope: ownership.TagCluster, Tag: "c"}, {Scope: ownership.TagKey, Tag: key}}
	}
	guard := sectionState("g-1", "guard", append(mine("guard/1"), nsxclient.Tag{Scope: ownership.TagRole, Tag: ownership.RoleGuard})...)
	st := State{
		Sections: []SectionState{guard, sectionState("s-1", "a", mine("csp/a")...), sectionState("s-2", "foreign", nsxclient.Tag{Scope: ownership.TagKey, Tag: "csp/b"})},
		NSGroups: []nsxclient.NSGroup{{ManagedResource: nsxclient.ManagedResource{ID: "g-a", Tags: mine("tag-a")}}},
		IPSets:   []nsxclient.IPSet{{ManagedResource: nsxclient.ManagedResource{ID: "i-a", Tags: mine("ips4-a")}}},
	}
	st.Sections[1].Rules = []nsxclient.FirewallRule{{ID: "r-1", Notes: ownership.RuleNotes("csp/a/ingress/x", "h")}, {ID: "r-2", Notes: "by hand"}}
	x := st.Index("c")
	if got := x.Sections(); len(got) != 1 || got[0] != "csp/a" {
		t.Errorf("sections %v, want only csp/a (no guard, nothing foreign)", got)
	}
	if id, _ := x.Section("csp/a"); id != "s-1" {
		t.Errorf("csp/a is %q, want s-1", id)
	}
	if g := x.Guards(); len(g) != 1 || g[0] != "g-1" {
		t.Errorf("guards %v", g)
	}
	if id, _ := x.Rule("csp/a/ingress/x"); id != "r-1" {
		t.Errorf("rule csp/a/ingress/x is %q, want r-1", id)
	}
	a, _ := x.Group("tag-a")
	i, _ := x.Group("ips4-a")
	if got := x.Groups(); len(got) != 2 || a != "g-a" || i != "i-a" {
		t.Errorf("groups %v", got)
	}
	want := map[string]int{ownership.KindSection: 2, ownership.KindRule: 2, ownership.KindNSGroup: 1, ownership.KindIPSet: 1}
	if got := x.Counts(); !maps.Equal(got, want) {
		t.Errorf("counts %v, want %v", got, want)
	}
}
