package diff

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/microseg/microseg/internal/budget"
	"github.com/microseg/microseg/internal/report"
	"github.com/microseg/microseg/internal/simulate"
)

// summary is the first line: how many connections flip.
func (r *Report) summary() string {
	allowed := 0
	for _, f := range r.Flips {
		if f.After.Allowed {
			allowed++
		}
	}
	portNames := make([]string, len(r.Ports))
	for i, p := range r.Ports {
		portNames[i] = p.String()
	}
	return fmt.Sprintf("%d connections flip (%d newly allowed, %d newly denied) of %d compared on %s",
		len(r.Flips), allowed, len(r.Flips)-allowed, r.Compared, strings.Join(portNames, ", "))
}

func (r *Report) nsxLines() []string {
	ops := slices.Sorted(maps.Keys(r.NSX.Ops))
	parts := make([]string, len(ops))
	for i, op := range ops {
		parts[i] = fmt.Sprintf("%s %d", op, r.NSX.Ops[op])
	}
	if len(parts) == 0 {
		parts = []string{"none"}
	}
	return []string{
		fmt.Sprintf("NSX writes: %d (%s); firewall rules written: %d; guarded: %s", r.NSX.Writes, strings.Join(parts, ", "), r.NSX.RulesWritten, yesNo(r.NSX.Guarded)),
		fmt.Sprintf("NSX calls of the sync: %d; NSX time by the simulator's cost model: %.2f s; converged: %s", r.NSX.Calls, r.NSX.SimulatedTime.Seconds(), yesNo(r.NSX.Converged)),
		r.budgetLine(),
	}
}

// budgetLine is the NSX budget's before → after per kind, against microseg's share.
func (r *Report) budgetLine() string {
	d := r.Budget
	parts := make([]string, len(budget.Kinds))
	for i, k := range budget.Kinds {
		before, after := budget.Used(d.Before, k), budget.Used(d.After, k)
		limit := "no limit"
		if l := d.Limits.Limit(k); l > 0 {
			limit = fmt.Sprint(l)
		}
		change := fmt.Sprint(after)
		if after != before {
			change = fmt.Sprintf("%d → %d (%+d)", before, after, after-before)
		}
		parts[i] = fmt.Sprintf("%s %s of %s", strings.ReplaceAll(k, "_", " "), change, limit)
	}
	line := "NSX budget: " + strings.Join(parts, ", ")
	if over := d.Over(); len(over) > 0 {
		line += " — the head is OVER (" + strings.Join(over, ", ") + "): the operator would not apply it"
	}
	return line
}

func (r *Report) stagedLines() []string {
	var out []string
	for _, s := range r.Staged {
		bound := ""
		if s.LowerBound {
			bound = " at least"
		}
		out = append(out, fmt.Sprintf("%s is Staged: enforcing it would flip%s %d connections (%d newly denied, %d newly allowed) of %d evaluated",
			s.Policy, bound, s.Flips, s.NewlyDenied, s.NewlyAllowed, s.Evaluated))
	}
	return out
}

// WriteText writes the report for a terminal.
func WriteText(w io.Writer, r *Report) error {
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "%s.\n", r.summary())
	if len(r.Groups) > 0 {
		fmt.Fprintln(b)
		tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "FROM\tTO\tPORT\tPAIRS\tNOW\tBEFORE\tAFTER")
		for _, g := range r.Groups {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", g.Source, g.Destination, g.Port, g.Pairs, allowedWord(g.NowAllowed), g.Before, g.After)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(b, "\nWhat the operator would do to NSX (the base realized in the NSX simulator, the head synced against it):")
	for _, l := range r.nsxLines() {
		fmt.Fprintf(b, "  %s\n", l)
	}
	section(b, "Staged policies of the head:", r.stagedLines())
	section(b, "Pods only in the base (not compared):", r.PodsRemoved)
	section(b, "Pods only in the head (not compared):", r.PodsAdded)
	section(b, "Warnings of the head:", r.Warnings)
	return b.Flush()
}

func section(b *bufio.Writer, title string, lines []string) {
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s\n", title)
	for _, l := range lines {
		fmt.Fprintf(b, "  %s\n", l)
	}
}

// WriteMarkdown writes the report as a pull-request comment (GitHub-flavoured Markdown).
func WriteMarkdown(w io.Writer, r *Report) error {
	b := bufio.NewWriter(w)
	icon := "✅"
	if len(r.Flips) > 0 {
		icon = "⚠️"
	}
	fmt.Fprintf(b, "### %s microseg: %s\n\n", icon, r.summary())
	if len(r.Groups) > 0 {
		fmt.Fprintln(b, "| from | to | port | pod pairs | now | before | after |")
		fmt.Fprintln(b, "|---|---|---|---:|---|---|---|")
		for _, g := range r.Groups {
			fmt.Fprintf(b, "| `%s` | `%s` | %s | %d | **%s** | %s | %s |\n", g.Source, g.Destination, g.Port, g.Pairs,
				allowedWord(g.NowAllowed), md(g.Before), md(g.After))
		}
		fmt.Fprintln(b)
	}
	fmt.Fprintln(b, "**NSX changes** (the base realized in the NSX simulator, the head synced against it):")
	for _, l := range r.nsxLines() {
		fmt.Fprintf(b, "- %s\n", md(l))
	}
	for _, part := range []struct {
		title string
		lines []string
	}{{"Staged policies", r.stagedLines()}, {"Warnings", r.Warnings}} {
		if len(part.lines) > 0 {
			fmt.Fprintf(b, "\n**%s**\n", part.title)
			for _, l := range part.lines {
				fmt.Fprintf(b, "- %s\n", md(l))
			}
		}
	}
	if len(r.PodsAdded)+len(r.PodsRemoved) > 0 {
		fmt.Fprintf(b, "\n<details><summary>Pods on one side only (not compared): %d added, %d removed</summary>\n\n", len(r.PodsAdded), len(r.PodsRemoved))
		for _, p := range r.PodsAdded {
			fmt.Fprintf(b, "- added `%s`\n", p)
		}
		for _, p := range r.PodsRemoved {
			fmt.Fprintf(b, "- removed `%s`\n", p)
		}
		fmt.Fprintln(b, "\n</details>")
	}
	return b.Flush()
}

// md escapes what would break a Markdown table cell.
func md(s string) string { return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s) }

// WriteJSON writes JSON Lines: one Flip per flipped probe.
func WriteJSON(w io.Writer, r *Report) error {
	b := bufio.NewWriter(w)
	enc := json.NewEncoder(b)
	for _, f := range r.Flips {
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	return b.Flush()
}

// WriteHTML draws the head's reachability with the flipped cells marked.
func WriteHTML(w io.Writer, r *Report, title string) error {
	p, err := simulate.Page(r.head, title)
	if err != nil {
		return err
	}
	p.Kind = "diff"
	p.Summary = r.summary() + ". " + strings.Join(r.nsxLines(), ". ")
	flipped := map[[3]string]Flip{}
	for _, f := range r.Flips {
		flipped[[3]string{f.Source, f.Destination, fmt.Sprintf("%d/%s", f.Port, f.Protocol)}] = f
	}
	for i := range p.Heat.Cells {
		c := &p.Heat.Cells[i]
		f, ok := flipped[[3]string{p.Heat.Rows[c.Row], p.Heat.Columns[c.Column], p.Heat.Ports[c.Port]}]
		if !ok {
			continue
		}
		c.Flipped = true
		c.Tip = fmt.Sprintf("FLIPS: %s → %s\nbefore: egress %s; ingress %s\n\nafter:\n%s", allowedWord(f.Before.Allowed), allowedWord(f.After.Allowed),
			simulate.SideText(f.Before.Egress), simulate.SideText(f.Before.Ingress), c.Tip)
		c.Objects = append(c.Objects, simulate.DecidingObjects(simulate.Record{Egress: f.Before.Egress, Ingress: f.Before.Ingress})...)
	}
	p.Notes = append(append(r.stagedLines(), r.Warnings...), p.Notes...)
	return report.Write(w, p)
}

func allowedWord(a bool) string {
	if a {
		return "allowed"
	}
	return "denied"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
