package manager

import (
	"errors"
	"strings"
	"testing"

	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/internal/plan"
	"github.com/microseg/microseg/nsxclient"
)

func section(id, name string, tags ...nsxclient.Tag) plan.SectionState {
	return plan.SectionState{Section: nsxclient.FirewallSection{ManagedResource: nsxclient.ManagedResource{ID: id, DisplayName: name, Tags: tags}}}
}

func TestResolveAnchor(t *testing.T) {
	mine := nsxclient.Tag{Scope: ownership.TagCluster, Tag: "c"}
	theirs := nsxclient.Tag{Scope: ownership.TagCluster, Tag: "other-cluster"}
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
		var ce *nsxsync.ConfigError
		if err != nil && !errors.As(err, &ce) {
			t.Errorf("resolveAnchor(%q): %v is not a configuration error", tc.want, err)
		}
	}
}
