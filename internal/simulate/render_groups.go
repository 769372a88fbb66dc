package simulate

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// mixedCell marks a group pair where some pod pairs are allowed and others denied.
const mixedCell = "~"

// WriteGroupTable writes the table output of a grouped run: per port, a matrix of groups (✓ every
// pod pair allowed, ✗ none, ~ some) and which rules decided.
func WriteGroupTable(w io.Writer, res *Result, opts Options) error {
	g := res.Groups
	t := &tableWriter{w: bufio.NewWriter(w), res: res, cells: unicodeCells}
	if opts.ASCII {
		t.cells = asciiCells
	}
	numbers := map[string]int{}
	for i, name := range g.Names {
		numbers[name] = i + 1
	}
	pods := map[string]bool{}
	for _, p := range append(append(res.Sources[:0:0], res.Sources...), res.Destinations...) {
		pods[p.String()] = true
	}
	ports := make([]string, len(res.Ports))
	for i, p := range res.Ports {
		ports[i] = p.String()
	}
	fmt.Fprintf(t.w, "%s of %s by namespace and label %q, %s: %s\n", plural(len(g.Names), "group"), plural(len(pods), "pod"),
		g.Label, plural(len(ports), "port"), strings.Join(ports, ", "))
	cells := g.Cells(res.Probes)
	byPort := probesByPort(res)
	for _, port := range res.Ports {
		var portCells []GroupCell
		counts := map[string]int{}
		for _, c := range cells {
			if c.Port == port {
				portCells = append(portCells, c)
				counts[c.Verdict()]++
			}
		}
		fmt.Fprintf(t.w, "\n%s: %d allowed, %d denied, %d mixed\n\n", port, counts["allowed"], counts["denied"], counts["mixed"])
		t.groupMatrix(g, numbers, portCells)
		t.deciders(byPort[port])
	}
	fmt.Fprintf(t.w, "\nRows are source groups, columns destination groups (numbered as the rows): %s every pod pair allowed, %s none, %s some, %s no pair probed.\n",
		t.cells.allowed, t.cells.denied, mixedCell, t.cells.self)
	return t.w.Flush()
}

func (t *tableWriter) groupMatrix(g *Grouping, numbers map[string]int, cells []GroupCell) {
	verdict := map[[2]string]string{}
	for _, c := range cells {
		switch c.Verdict() {
		case "allowed":
			verdict[[2]string{c.Source, c.Destination}] = t.cells.allowed
		case "denied":
			verdict[[2]string{c.Source, c.Destination}] = t.cells.denied
		default:
			verdict[[2]string{c.Source, c.Destination}] = mixedCell
		}
	}
	width := len(strconv.Itoa(len(g.Names)))
	labels := make([]string, len(g.Sources))
	labelWidth := 0
	for i, src := range g.Sources {
		labels[i] = fmt.Sprintf("%*d %s (%d)", width, numbers[src], src, len(g.Members[src]))
		labelWidth = max(labelWidth, len(labels[i]))
	}
	fmt.Fprintf(t.w, "  %-*s ", labelWidth, "")
	for _, dst := range g.Destinations {
		fmt.Fprintf(t.w, " %*d", width, numbers[dst])
	}
	fmt.Fprintln(t.w)
	for i, src := range g.Sources {
		fmt.Fprintf(t.w, "  %-*s ", labelWidth, labels[i])
		for _, dst := range g.Destinations {
			cell, ok := verdict[[2]string{src, dst}]
			if !ok {
				cell = t.cells.self
			}
			fmt.Fprintf(t.w, " %*s", width, cell)
		}
		fmt.Fprintln(t.w)
	}
	fmt.Fprintln(t.w)
}

// GroupRecord is one line of a grouped -o json: one source group, destination group and port.
type GroupRecord struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
	Protocol    string `json:"protocol"`
	Port        int    `json:"port"`
	// Verdict is allowed (every pod pair), denied (none) or mixed; Allowed is true when allowed.
	Verdict string `json:"verdict"`
	Allowed bool   `json:"allowed"`
	// Pairs of pods probed, and how many were allowed.
	Pairs        int `json:"pairs"`
	AllowedPairs int `json:"allowedPairs"`
	// Example is a representative probe (the first denied one, else the first), as simulate
	// prints probes.
	Example Record `json:"example"`
}

// WriteGroupJSON writes JSON Lines, one GroupRecord per source group, destination group and port.
func WriteGroupJSON(w io.Writer, res *Result) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, c := range res.Groups.Cells(res.Probes) {
		rec := GroupRecord{Source: c.Source, Destination: c.Destination, Protocol: c.Port.Protocol, Port: c.Port.Number,
			Verdict: c.Verdict(), Allowed: c.Allowed == c.Pairs, Pairs: c.Pairs, AllowedPairs: c.Allowed, Example: RecordOf(c.Example)}
		if err := enc.Encode(rec); err != nil {
			return err
		}
	}
	return bw.Flush()
}
