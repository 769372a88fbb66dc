package extgroup

import (
	"slices"
	"strings"
	"testing"

	"github.com/microseg/microseg/internal/ir"
)

func TestFailClosedNeverWidensAnAllowNorNarrowsADeny(t *testing.T) {
	for _, tc := range []struct {
		name                        string
		out                         []string
		excluded, allow, unresolved bool
		want                        []string
		wantExcluded, wantNothing   bool
	}{
		{"all resolved", []string{"a"}, true, true, false, []string{"a"}, true, false},
		{"allow keeps what resolved", []string{"a"}, false, true, true, []string{"a"}, false, false},
		{"allow with nothing left allows nothing", nil, false, true, true, nil, false, true},
		{"allow on an excluded list allows nothing", []string{"a"}, true, true, true, nil, false, true},
		{"deny on a plain list denies everything", []string{"a"}, false, false, true, nil, false, false},
		{"deny on an excluded list excludes the rest", []string{"a"}, true, false, true, []string{"a"}, true, false},
		{"deny excluding only the unknown denies everything", nil, true, false, true, nil, false, false},
	} {
		got, excl, nothing := FailClosed(tc.out, tc.excluded, tc.allow, tc.unresolved)
		if !slices.Equal(got, tc.want) || excl != tc.wantExcluded || nothing != tc.wantNothing {
			t.Errorf("%s: %v excluded=%v nothing=%v", tc.name, got, excl, nothing)
		}
	}
}

func TestResolveAndIncomplete(t *testing.T) {
	n := Names{"db": {"id-1"}, "twice": {"id-2", "id-3"}}
	if id, why := n.Resolve("db"); id != "id-1" || why != "" {
		t.Errorf("db: %q %q", id, why)
	}
	for name, want := range map[string]string{"twice": "ambiguous", "nope": "does not exist"} {
		if _, why := n.Resolve(name); !strings.Contains(why, want) {
			t.Errorf("%s: %q", name, why)
		}
	}
	groups := map[string]*ir.Group{
		"a": {Key: "a", Kind: ir.KindNestedGroup, ExternalMembers: []string{"nope"}},
		"b": {Key: "b", Kind: ir.KindNestedGroup, Members: []string{"a"}},
		"c": {Key: "c", Kind: ir.KindNestedGroup, ExternalMembers: []string{"db"}},
	}
	got := map[string]string{}
	n.Incomplete(groups, []string{"a", "c", "b"}, got)
	if _, ok := got["b"]; !ok || len(got) != 2 {
		t.Errorf("incomplete %v; want a and, through it, b", got)
	}
}
