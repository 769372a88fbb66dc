package ncptags

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestPortTagsAreNCPsOwnThenTheLabelsInKeyOrder(t *testing.T) {
	got := PortTags("c1", Pod{Namespace: "shop", Name: "web-1", Labels: map[string]string{"tier": "frontend", "app": "web"}})
	want := []Tag{{"ncp/cluster", "c1"}, {"ncp/project", "shop"}, {"ncp/pod", "web-1"}, {"app", "web"}, {"tier", "frontend"}}
	if !slices.Equal(got, want) {
		t.Fatalf("tags = %v\nwant %v", got, want)
	}
}

func TestPortTagsCopyReservedLabelsLikeAnyOther(t *testing.T) {
	got := PortTags("c1", Pod{Namespace: "x1", Name: "spoofer", Labels: map[string]string{"app": "service-c", "ncp/project": "z1"}})
	want := []Tag{{"ncp/cluster", "c1"}, {"ncp/project", "x1"}, {"ncp/pod", "spoofer"}, {"app", "service-c"}, {"ncp/project", "z1"}}
	if !slices.Equal(got, want) {
		t.Fatalf("tags = %v\nwant %v (NCP copies the label: the port carries both projects)", got, want)
	}
}

func TestPortTagsTruncateAndStopAtTheTagLimit(t *testing.T) {
	long := "example.com/" + strings.Repeat("k", 200)
	labels := map[string]string{long: "v"}
	for i := range 40 {
		labels[fmt.Sprintf("l%02d", i)] = "x"
	}
	p := Pod{Namespace: "ns", Name: "p", Labels: labels}
	got := PortTags("c", p)
	if len(got) != DefaultLimits.MaxTags {
		t.Fatalf("%d tags; NSX allows %d", len(got), DefaultLimits.MaxTags)
	}
	if got[3].Scope != long[:DefaultLimits.MaxScopeLen] {
		t.Fatalf("long key became scope %q; want it cut to %d characters", got[3].Scope, DefaultLimits.MaxScopeLen)
	}
	if last := got[len(got)-1].Scope; last != "l25" {
		t.Fatalf("last kept label %q; want the highest keys dropped (l25 kept)", last)
	}
	if all := DefaultLimits.PossiblePortTags("c", p); len(all) != OwnTags+len(labels) || !slices.Equal(all[:len(got)], got) {
		t.Fatalf("PossiblePortTags = %d tags; want PortTags followed by every dropped label (%d)", len(all), OwnTags+len(labels))
	}
	if v := DefaultLimits.Value(strings.Repeat("v", 300)); len(v) != DefaultLimits.MaxValueLen {
		t.Fatalf("value of %d characters; want %d", len(v), DefaultLimits.MaxValueLen)
	}
	if n := (Limits{MaxTags: 5}).MaxLabelTags(); n != 2 {
		t.Fatalf("MaxLabelTags = %d with 5 tags per object; want 2", n)
	}
}

func TestIdentityOfIgnoresForgedIdentityTags(t *testing.T) {
	tags := PortTags("c1", Pod{Namespace: "x1", Name: "spoofer",
		Labels: map[string]string{"ncp/cluster": "c2", "ncp/pod": "service-c-0", "ncp/project": "z1"}})
	if got, want := IdentityOf(tags), (Identity{Cluster: "c1", Namespace: "x1", Pod: "spoofer"}); got != want {
		t.Fatalf("IdentityOf = %+v; want %+v: NCP's own tags come first", got, want)
	}
	if got := IdentityOf([]Tag{{ScopeCluster, "c1"}, {"app", "web"}}); got != (Identity{Cluster: "c1"}) {
		t.Fatalf("IdentityOf a node-like port = %+v; want only the cluster", got)
	}
}

func TestSatisfiesMatchesLikeNSXMay(t *testing.T) {
	port := []Tag{{"ncp/cluster", "c1"}, {"ncp/project", "x1"}, {"ncp/pod", "spoofer"}, {"App", "Service-C"}, {"NCP/Project", "Z1"}}
	for _, tc := range []struct {
		criterion []Tag
		want      bool
	}{
		{[]Tag{{"ncp/cluster", "c1"}, {"ncp/project", "z1"}, {"app", "service-c"}}, true}, // NSX ≥ 3 folds case
		{[]Tag{{"ncp/cluster", "c1"}, {"ncp/project", "x1"}}, true},
		{[]Tag{{"ncp/cluster", "c1"}, {"ncp/pod", ""}}, true}, // scope only: any value
		{[]Tag{{"ncp/cluster", "c2"}, {"ncp/project", "x1"}}, false},
		{[]Tag{{"ncp/project", "y1"}}, false},
		{[]Tag{{"tier", ""}}, false},
		{nil, true},
	} {
		if got := Satisfies(port, tc.criterion); got != tc.want {
			t.Errorf("Satisfies(%v) = %v, want %v", tc.criterion, got, tc.want)
		}
	}
}
