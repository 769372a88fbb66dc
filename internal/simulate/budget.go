package simulate

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/microseg/microseg/internal/budget"
	"github.com/microseg/microseg/internal/ir"
)

// budgetReport is --budget's JSON output: the usage, the budget, and the kinds over it.
type budgetReport struct {
	Usage  ir.Usage      `json:"usage"`
	Budget budget.Budget `json:"budget"`
	Over   []string      `json:"over,omitempty"`
}

// writeBudget prints what the manifests take of NSX against the budget (a table, or one JSON
// object with -o json) and returns the exit code: ExitOverBudget when over.
func writeBudget(stdout, stderr io.Writer, res *Result, opts Options) int {
	over := opts.Limits.Over(res.Usage)
	var err error
	if opts.Output == OutputJSON {
		err = json.NewEncoder(stdout).Encode(budgetReport{Usage: res.Usage, Budget: opts.Limits, Over: over})
	} else {
		err = writeBudgetTable(stdout, res.Usage, opts.Limits, over)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kubectl-microseg simulate: writing the output: %v\n", err)
		return ExitInternal
	}
	if len(over) > 0 {
		return ExitOverBudget
	}
	return ExitOK
}

func writeBudgetTable(w io.Writer, u ir.Usage, b budget.Budget, over []string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "NSX OBJECTS\tUSED\tBUDGET\t\t")
	for _, k := range budget.Kinds {
		limit, state := "no limit", ""
		if l := b.Limit(k); l > 0 {
			limit = fmt.Sprint(l)
			state = fmt.Sprintf("%d%%", 100*budget.Used(u, k)/l)
		}
		if slices.Contains(over, k) {
			state += " OVER"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t\n", strings.ReplaceAll(k, "_", " "), budget.Used(u, k), limit, state)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if u.BusiestPod != "" {
		fmt.Fprintf(w, "\nThe most rules on one pod's port: %d, on %s.\n", u.RulesPerPort, u.BusiestPod)
	}
	for _, g := range []struct {
		what   string
		counts map[ir.GroupReason]int
	}{{"NSGroups", u.NSGroupsByReason}, {"IP sets", u.IPSetsByReason}} {
		if len(g.counts) == 0 {
			continue
		}
		var parts []string
		for _, r := range slices.Sorted(maps.Keys(g.counts)) {
			parts = append(parts, fmt.Sprintf("%s %d", r, g.counts[r]))
		}
		fmt.Fprintf(w, "%s beyond the tag groups of exact selectors, by reason: %s.\n", g.what, strings.Join(parts, ", "))
	}
	for _, c := range []struct {
		what string
		list []ir.Contributor
	}{{"namespaces", u.Namespaces}, {"policies", u.Policies}} {
		if len(c.list) == 0 {
			continue
		}
		parts := make([]string, 0, budget.TopContributors)
		for _, x := range c.list[:min(len(c.list), budget.TopContributors)] {
			parts = append(parts, fmt.Sprintf("%s (%d)", x.Name, x.Rules))
		}
		fmt.Fprintf(w, "Most rules, %s: %s.\n", c.what, strings.Join(parts, ", "))
	}
	if len(over) > 0 {
		fmt.Fprintf(w, "\nOVER the budget (%s): the operator would not apply this; NSX would keep the last DFW that fit.\n", strings.Join(over, ", "))
	}
	return nil
}
