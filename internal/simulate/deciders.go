package simulate

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/microseg/microseg/internal/pipeline"
)

// decider is the rule a verdict is attributed to in the table's per-port breakdown.
type decider struct {
	action, tier, object, rule string
}

// deciderOf attributes a verdict to one rule. A denied connection belongs to the side that
// denied it (the source's egress first: the DFW stops it there). An allowed connection belongs to
// the destination's ingress rule, or to the source's egress rule when no microseg ingress rule
// matched: that is the rule a what-if question is usually about ("which policy lets this in?").
func deciderOf(v pipeline.Verdict) decider {
	side := v.Ingress
	switch {
	case !v.Allowed && v.Egress.Action != "ALLOW":
		side = v.Egress
	case v.Allowed && v.Ingress.Tier == "" && v.Egress.Tier != "":
		side = v.Egress
	}
	s := sideRecordOf(side)
	return decider{action: s.Action, tier: s.Tier, object: s.Object, rule: s.Rule}
}

type tallyRow struct {
	decider
	count int
}

// tally counts the probes of one port by decider: ALLOW rows first, then by count (most first),
// then tier in evaluation order, object and rule, so the output is stable.
func tally(probes []Probe) []tallyRow {
	counts := map[decider]int{}
	for _, p := range probes {
		counts[deciderOf(p.Verdict)]++
	}
	rows := make([]tallyRow, 0, len(counts))
	for d, n := range counts {
		rows = append(rows, tallyRow{decider: d, count: n})
	}
	tierOrder := []string{"Security", "Developer", "Baseline", TierDefault}
	slices.SortFunc(rows, func(a, b tallyRow) int {
		return cmp.Or(
			cmp.Compare(allowFirst(a.action), allowFirst(b.action)),
			cmp.Compare(b.count, a.count),
			cmp.Compare(slices.Index(tierOrder, a.tier), slices.Index(tierOrder, b.tier)),
			strings.Compare(a.object, b.object),
			strings.Compare(a.rule, b.rule),
			strings.Compare(a.action, b.action),
		)
	})
	return rows
}

func allowFirst(action string) int {
	if action == "ALLOW" {
		return 0
	}
	return 1
}

// deciders lists which rules decided this port's probes, most used first.
func (t *tableWriter) deciders(probes []Probe) {
	rows := tally(probes)
	if len(rows) == 0 {
		return
	}
	width := len("COUNT")
	for _, row := range rows {
		width = max(width, len(strconv.Itoa(row.count)))
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  %*s\tACTION\tTIER\tDECIDED BY\tRULE\n", width, "COUNT")
	for _, row := range rows {
		object, rule := row.object, row.rule
		if row.tier == TierDefault {
			object, rule = "(no microseg rule: the NSX default section)", ""
		}
		fmt.Fprintf(tw, "  %*d\t%s\t%s\t%s\t%s\n", width, row.count, row.action, row.tier, object, rule)
	}
	_ = tw.Flush() // into memory: cannot fail
	// An empty last column leaves padding behind; trailing blanks only make diffs noisy.
	for line := range strings.Lines(buf.String()) {
		fmt.Fprintln(t.w, strings.TrimRight(line, " \n"))
	}
}

// DecidingSide is the side a record's verdict is attributed to, as the table's breakdown
// attributes it (deciderOf).
func DecidingSide(r Record) SideRecord {
	switch {
	case !r.Allowed && r.Egress.Action != "ALLOW":
		return r.Egress
	case r.Allowed && r.Ingress.Tier == TierDefault && r.Egress.Tier != TierDefault:
		return r.Egress
	}
	return r.Ingress
}
