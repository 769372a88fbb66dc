package simulate

import (
	"slices"
	"strings"

	"github.com/microseg/microseg/internal/pipeline"
)

// Grouping aggregates pods by namespace and the value of one label (the matrix's --by, "app" by
// default): "z1/service-d" is every probed pod of z1 labelled app=service-d. A pod without the
// label is a group of its own, "namespace/pod:name".
type Grouping struct {
	Label string
	// Of is each probed pod's group.
	Of map[pipeline.PodRef]string
	// Names are the groups, sorted; Sources and Destinations those with a source or a
	// destination pod.
	Names, Sources, Destinations []string
	// Members are each group's pods.
	Members map[string][]pipeline.PodRef
}

// GroupCell is what the probes from one group to another on one port found.
type GroupCell struct {
	Source, Destination string
	Port                Port
	// Pairs probed and how many were allowed.
	Pairs, Allowed int
	// Example is a representative probe: the first denied one, or else the first.
	Example Probe
}

// Verdict is allowed (every pair), denied (none) or mixed.
func (c GroupCell) Verdict() string {
	switch c.Allowed {
	case c.Pairs:
		return "allowed"
	case 0:
		return "denied"
	}
	return "mixed"
}

// GroupName is the group of a pod with these labels.
func GroupName(p pipeline.PodRef, labels map[string]string, label string) string {
	if v, ok := labels[label]; ok {
		return p.Namespace + "/" + v
	}
	return p.Namespace + "/pod:" + p.Name
}

func groupPods(res *Result, podLabels map[pipeline.PodRef]map[string]string, label string) *Grouping {
	g := &Grouping{Label: label, Of: map[pipeline.PodRef]string{}, Members: map[string][]pipeline.PodRef{}}
	add := func(list []pipeline.PodRef, into *[]string) {
		for _, p := range list {
			name := GroupName(p, podLabels[p], label)
			if _, seen := g.Of[p]; !seen {
				g.Of[p] = name
				g.Members[name] = append(g.Members[name], p)
			}
			if !slices.Contains(*into, name) {
				*into = append(*into, name)
			}
		}
	}
	add(res.Sources, &g.Sources)
	add(res.Destinations, &g.Destinations)
	for name := range g.Members {
		g.Names = append(g.Names, name)
	}
	for _, list := range []*[]string{&g.Names, &g.Sources, &g.Destinations} {
		slices.Sort(*list)
	}
	return g
}

type cellKey struct {
	src, dst string
	port     Port
}

// Cells aggregates the probes, in (port, source group, destination group) order.
func (g *Grouping) Cells(probes []Probe) []GroupCell {
	cells := map[cellKey]*GroupCell{}
	var order []cellKey
	for _, p := range probes {
		k := cellKey{g.Of[p.Source], g.Of[p.Destination], p.Port}
		c := cells[k]
		if c == nil {
			c = &GroupCell{Source: k.src, Destination: k.dst, Port: p.Port, Example: p}
			cells[k] = c
			order = append(order, k)
		}
		c.Pairs++
		if p.Verdict.Allowed {
			c.Allowed++
		} else if c.Example.Verdict.Allowed {
			c.Example = p
		}
	}
	slices.SortFunc(order, func(a, b cellKey) int {
		if c := Compare(a.port, b.port); c != 0 {
			return c
		}
		if a.src != b.src {
			return strings.Compare(a.src, b.src)
		}
		return strings.Compare(a.dst, b.dst)
	})
	out := make([]GroupCell, len(order))
	for i, k := range order {
		out[i] = *cells[k]
	}
	return out
}
