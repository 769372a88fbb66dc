package controllers

import (
	"errors"
	"strings"
	"testing"

	"github.com/microseg/microseg/internal/plan"
	"github.com/microseg/microseg/nsxclient"
)

func section(id, name string, tags ...nsxclient.Tag) plan.SectionState {
	return plan.SectionState{Section: nsxclient.FirewallSection{ManagedResource: nsxclient.ManagedResource{ID: id, DisplayName: name, Tags: tags}}}
}

func TestResolveAnchor(t *testing.T) {
	mine := nsxclient.Tag{Scope: plan.TagCluster, Tag: "c"}
	theirs := nsxclient.Tag{Scope: plan.TagCluster, Tag: "other-cluster"}
	defaultSection := section("default", "Default Layer3 Section")
	defaultSection.Section.IsDefault = true
	sections := []plan.SectionState{
		section("s-1", "security team"),
		section("s-2", "shared"),
		section("s-3", "shared"),
		section("s-4", "microseg csp/x", mine),
		section("s-5", "other cluster", theirs),
		section("s-2b", "s-2"), // a display name that is another section's id: ids win
		defaultSection,
	}
	for _, tc := range []struct {
		want, id, err string
	}{
		{"", "", ""},
		{"s-1", "s-1", ""},
		{"security team", "s-1", ""},
		{"s-2", "s-2", ""},
		{"other cluster", "s-5", ""},
		{"shared", "", "names 2 firewall sections (ids s-2, s-3)"},
		{"missing", "", "is neither the id nor the display name"},
		{"s-4", "", "one of microseg's own sections"},
		{"Default Layer3 Section", "", "default section"},
	} {
		id, err := resolveAnchor(sections, tc.want, "c")
		if id != tc.id || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("resolveAnchor(%q) = %q, %v; want %q, an error saying %q", tc.want, id, err, tc.id, tc.err)
		}
		var ce *configError
		if err != nil && !errors.As(err, &ce) {
			t.Errorf("resolveAnchor(%q): %v is not a configuration error", tc.want, err)
		}
	}
}

func TestIndexIDs(t *testing.T) {
	mine := func(key string) []nsxclient.Tag {
		return []nsxclient.Tag{{Scope: plan.TagCluster, Tag: "c"}, {Scope: plan.TagKey, Tag: key}}
	}
	guard := section("g-1", "guard", append(mine("guard/1"), nsxclient.Tag{Scope: plan.TagRole, Tag: plan.RoleGuard})...)
	st := plan.State{
		Sections: []plan.SectionState{guard, section("s-1", "a", mine("csp/a")...), section("s-2", "foreign", nsxclient.Tag{Scope: plan.TagKey, Tag: "csp/b"})},
		NSGroups: []nsxclient.NSGroup{{ManagedResource: nsxclient.ManagedResource{ID: "g-a", Tags: mine("tag-a")}}},
		IPSets:   []nsxclient.IPSet{{ManagedResource: nsxclient.ManagedResource{ID: "i-a", Tags: mine("ips4-a")}}},
	}
	sections, groups := indexIDs(&st, "c")
	if len(sections) != 1 || sections["csp/a"] != "s-1" {
		t.Errorf("sections %v, want only csp/a → s-1 (no guard, nothing foreign)", sections)
	}
	if len(groups) != 2 || groups["tag-a"] != "g-a" || groups["ips4-a"] != "i-a" {
		t.Errorf("groups %v", groups)
	}
}
