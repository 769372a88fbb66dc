package simulate

import (
	"slices"
	"testing"

	"github.com/microseg/microseg/internal/pipeline"
)

func TestPodFilters(t *testing.T) {
	ref := func(ns, name string) pipeline.PodRef { return pipeline.PodRef{Namespace: ns, Name: name} }
	pods := []pipeline.PodRef{ref("x1", "web-0"), ref("x1", "db-0"), ref("y1", "web-1"), ref("y1", "webhook-0")}
	labels := map[pipeline.PodRef]map[string]string{
		ref("x1", "web-0"):     {"app": "web"},
		ref("x1", "db-0"):      {"app": "db", "tier": "data"},
		ref("y1", "web-1"):     {"app": "web", "canary": "true"},
		ref("y1", "webhook-0"): {"app": "hook"},
	}
	cases := []struct {
		filters []string
		want    []string
	}{
		{nil, []string{"x1/web-0", "x1/db-0", "y1/web-1", "y1/webhook-0"}},
		{[]string{"x1"}, []string{"x1/web-0", "x1/db-0"}},
		{[]string{"y1/web"}, []string{"y1/web-1", "y1/webhook-0"}},
		{[]string{"*/web-"}, []string{"x1/web-0", "y1/web-1"}},
		{[]string{"app=web"}, []string{"x1/web-0", "y1/web-1"}},
		{[]string{"app=web,!canary"}, []string{"x1/web-0"}},
		{[]string{"app in (db,hook)"}, []string{"x1/db-0", "y1/webhook-0"}},
		{[]string{"tier!=data"}, []string{"x1/web-0", "y1/web-1", "y1/webhook-0"}},
		{[]string{"x1/db", "app=hook"}, []string{"x1/db-0", "y1/webhook-0"}}, // any of them
	}
	for _, c := range cases {
		filters, err := parsePodFilters("--from", c.filters)
		if err != nil {
			t.Fatalf("%q: %v", c.filters, err)
		}
		got, err := filterPods("--from", filters, pods, labels)
		if err != nil {
			t.Fatalf("%q: %v", c.filters, err)
		}
		names := make([]string, len(got))
		for i, p := range got {
			names[i] = p.String()
		}
		if !slices.Equal(names, c.want) {
			t.Errorf("%q kept %v, want %v", c.filters, names, c.want)
		}
	}
}
