package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/microseg/microseg/internal/reference"

	corev1 "k8s.io/api/core/v1"

	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxsim/dataplane"
)

// expectedTable is the reference table (internal/reference).
var expectedTable = reference.Table

// servedPort is the port the scenario's pods serve HTTP on (container port "http").
const servedPort = reference.ServedPort

// checkTable traces every replica pair of every row through the DFW (the simulator's Traceflow,
// by pod IP), prints the table and reports whether it matches the reference table.
func checkTable(ctx context.Context, out io.Writer, sim *nsxsim.Server, pods []corev1.Pod) (bool, error) {
	byApp := map[string][]corev1.Pod{}
	for _, p := range pods {
		if p.Status.PodIP != "" && p.DeletionTimestamp == nil {
			byApp[p.Labels["app"]] = append(byApp[p.Labels["app"]], p)
		}
	}
	for _, list := range byApp {
		sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	}
	fmt.Fprintf(out, "\nReachability on TCP/%d (every replica pair, traced through the DFW):\n\n", servedPort)
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SOURCE\tDESTINATION\tEXPECTED\tOBSERVED\t")
	ok := true
	for _, row := range expectedTable {
		observed, pairs := "", 0
		for _, src := range byApp[row.From] {
			for _, dst := range byApp[row.To] {
				res, err := sim.Traceflow(ctx, dataplane.Flow{SrcIP: src.Status.PodIP, DstIP: dst.Status.PodIP, Protocol: "TCP", DstPort: servedPort})
				if err != nil {
					return false, err
				}
				pairs++
				v := verdictWord(res.Allowed)
				if observed == "" {
					observed = v
				} else if observed != v {
					observed = "mixed"
				}
			}
		}
		if pairs == 0 {
			observed = "no pods"
		}
		mark := "ok"
		if observed != verdictWord(row.Allowed) {
			mark, ok = "MISMATCH", false
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s (%d pairs)\t%s\n", row.From, row.To, verdictWord(row.Allowed), observed, pairs, mark)
	}
	if err := w.Flush(); err != nil {
		return false, err
	}
	return ok, nil
}

func verdictWord(allowed bool) string {
	if allowed {
		return "allowed"
	}
	return "denied"
}
