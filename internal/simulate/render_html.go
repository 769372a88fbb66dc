package simulate

import (
	"fmt"
	"io"
	"strings"

	"github.com/microseg/microseg/internal/report"
)

// MaxHTMLCells bounds the heat map of -o html: a page past it is too large for a browser to draw
// and for a person to read; group pods (matrix) or narrow with --from/--to.
const MaxHTMLCells = 60000

// Page is the HTML report of a run (internal/report): the tier ladder of the world's policies and
// the heat map of the probes, of pods or (with grouping) of groups.
func Page(res *Result, title string) (report.Page, error) {
	p := report.Page{Title: title, Kind: "simulate", Tiers: report.Ladder(res.World.ClusterSecurityPolicies, res.World.NetworkPolicies)}
	for _, port := range res.Ports {
		p.Heat.Ports = append(p.Heat.Ports, port.String())
	}
	portIndex := map[Port]int{}
	for i, port := range res.Ports {
		portIndex[port] = i
	}
	if g := res.Groups; g != nil {
		p.Kind = "matrix"
		p.Heat.Rows, p.Heat.Columns = g.Sources, g.Destinations
		if err := checkSize(len(g.Sources), len(g.Destinations), len(res.Ports)); err != nil {
			return p, err
		}
		rows, cols := indexOf(g.Sources), indexOf(g.Destinations)
		for _, c := range g.Cells(res.Probes) {
			tip := fmt.Sprintf("%s → %s, %s: %s (%d of %d pod pairs allowed)\nfor example %s",
				c.Source, c.Destination, c.Port, c.Verdict(), c.Allowed, c.Pairs, ProbeTip(c.Example))
			p.Heat.Cells = append(p.Heat.Cells, report.Cell{Port: portIndex[c.Port], Row: rows[c.Source], Column: cols[c.Destination],
				Verdict: c.Verdict(), Tip: tip, Objects: DecidingObjects(RecordOf(c.Example))})
		}
		p.Summary = fmt.Sprintf("%d groups of pods by namespace and label %q, %d ports", len(g.Names), g.Label, len(res.Ports))
	} else {
		if err := checkSize(len(res.Sources), len(res.Destinations), len(res.Ports)); err != nil {
			return p, err
		}
		rows, cols := map[string]int{}, map[string]int{}
		for i, s := range res.Sources {
			p.Heat.Rows = append(p.Heat.Rows, s.String())
			rows[s.String()] = i
		}
		for i, d := range res.Destinations {
			p.Heat.Columns = append(p.Heat.Columns, d.String())
			cols[d.String()] = i
		}
		for _, pr := range res.Probes {
			verdict := "denied"
			if pr.Verdict.Allowed {
				verdict = "allowed"
			}
			p.Heat.Cells = append(p.Heat.Cells, report.Cell{Port: portIndex[pr.Port], Row: rows[pr.Source.String()], Column: cols[pr.Destination.String()],
				Verdict: verdict, Tip: ProbeTip(pr), Objects: DecidingObjects(RecordOf(pr))})
		}
		p.Summary = fmt.Sprintf("%d source pods × %d destination pods, %d ports", len(res.Sources), len(res.Destinations), len(res.Ports))
	}
	for _, w := range res.Warnings {
		p.Notes = append(p.Notes, "warning: "+formatWarning(w))
	}
	p.Notes = append(p.Notes, res.Notes...)
	return p, nil
}

// WriteHTML writes the HTML report of a run.
func WriteHTML(w io.Writer, res *Result, title string) error {
	p, err := Page(res, title)
	if err != nil {
		return err
	}
	return report.Write(w, p)
}

func checkSize(rows, cols, ports int) error {
	if n := rows * cols * ports; n > MaxHTMLCells {
		return inputErrorf("-o html: %d rows × %d columns × %d ports is %d cells, more than a page can show (%d): narrow the pods with --from/--to, the ports with --ports, or group pods (kubectl microseg matrix --by LABEL)",
			rows, cols, ports, n, MaxHTMLCells)
	}
	return nil
}

func indexOf(names []string) map[string]int {
	out := make(map[string]int, len(names))
	for i, n := range names {
		out[n] = i
	}
	return out
}

// ProbeTip explains one probe in a few lines: the verdict, and the decision at each side.
func ProbeTip(p Probe) string {
	r := RecordOf(p)
	verdict := "denied"
	if r.Allowed {
		verdict = "allowed"
	}
	return fmt.Sprintf("%s → %s, %d/%s: %s\negress at the source: %s\ningress at the destination: %s",
		r.Source, r.Destination, r.Port, r.Protocol, verdict, SideText(r.Egress), SideText(r.Ingress))
}

// SideText is one side's decision in words.
func SideText(s SideRecord) string {
	if s.Tier == TierDefault {
		return s.Action + " (no microseg rule matched: NSX below microseg decides)"
	}
	return fmt.Sprintf("%s by %s %s (%s tier)", s.Action, s.Object, s.Rule, s.Tier)
}

// DecidingObjects are the Kubernetes objects whose rules decided a record, egress first.
func DecidingObjects(r Record) []string {
	var out []string
	for _, s := range []SideRecord{r.Egress, r.Ingress} {
		if s.Object != "" && !strings.Contains(strings.Join(out, "\n"), s.Object) {
			out = append(out, s.Object)
		}
	}
	return out
}
