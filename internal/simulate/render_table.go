package simulate

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/microseg/microseg/internal/budget"
	"github.com/microseg/microseg/internal/pipeline"
)

// tableWriter renders a Result for people: per port, a matrix (or, for many pods, the allowed
// connections) and which rules decided, then a summary. Everything is in a stable order, so
// outputs can be diffed between two what-if runs.
type tableWriter struct {
	w     *bufio.Writer
	res   *Result
	cells cellStyle
	// numbers are the 1-based matrix indexes of every source and destination pod.
	numbers   map[pipeline.PodRef]int
	useMatrix bool
	limits    budget.Budget
}

// WriteTable writes the table output of a run.
func WriteTable(w io.Writer, res *Result, opts Options) error {
	t := &tableWriter{w: bufio.NewWriter(w), res: res, cells: unicodeCells, limits: opts.Limits}
	if opts.ASCII {
		t.cells = asciiCells
	}
	limit := opts.MatrixMaxPods
	if limit <= 0 {
		limit = DefaultMatrixMaxPods
	}
	set := map[pipeline.PodRef]bool{}
	for _, p := range res.Sources {
		set[p] = true
	}
	for _, p := range res.Destinations {
		set[p] = true
	}
	all := sortedRefs(set)
	t.numbers = make(map[pipeline.PodRef]int, len(all))
	for i, p := range all {
		t.numbers[p] = i + 1
	}
	t.useMatrix = len(all) <= limit
	t.header()
	byPort := probesByPort(res)
	for _, port := range res.Ports {
		t.port(port, byPort[port])
	}
	t.footer()
	return t.w.Flush()
}

func probesByPort(res *Result) map[Port][]Probe {
	out := map[Port][]Probe{}
	for _, p := range res.Probes {
		out[p.Port] = append(out[p.Port], p)
	}
	return out
}

func (t *tableWriter) header() {
	ports := make([]string, len(t.res.Ports))
	for i, p := range t.res.Ports {
		ports[i] = p.String()
	}
	origin := "from --ports"
	if t.res.PortsDefaulted {
		origin = "every port the policies name, plus " + AlwaysProbed.String()
	}
	pods := plural(len(t.res.Sources), "pod")
	if !slices.Equal(t.res.Sources, t.res.Destinations) {
		pods = plural(len(t.res.Sources), "source pod") + " × " + plural(len(t.res.Destinations), "destination pod")
	}
	fmt.Fprintf(t.w, "%s, %s (%s): %s\n", pods, plural(len(ports), "port"), origin, strings.Join(ports, ", "))
}

func (t *tableWriter) port(port Port, probes []Probe) {
	allowed := 0
	for _, p := range probes {
		if p.Verdict.Allowed {
			allowed++
		}
	}
	fmt.Fprintf(t.w, "\n%s: %d allowed, %d denied\n\n", port, allowed, len(probes)-allowed)
	if t.useMatrix {
		t.matrix(probes)
	} else {
		t.allowedList(probes)
	}
	t.deciders(probes)
}

func (t *tableWriter) footer() {
	allowed := 0
	for _, p := range t.res.Probes {
		if p.Verdict.Allowed {
			allowed++
		}
	}
	if t.useMatrix {
		fmt.Fprintf(t.w, "\nRows are source pods, columns destination pods (numbered as the rows): %s allowed, %s denied, %s same pod",
			t.cells.allowed, t.cells.denied, t.cells.self)
		if len(t.res.Probes) < len(t.res.Ports)*t.pairs() {
			fmt.Fprintf(t.w, ", %s not probed (no common address family)", t.cells.unprobed)
		}
		fmt.Fprintln(t.w, ".")
		t.unlistedDestinations()
	} else {
		fmt.Fprintf(t.w, "\nEach line is a source pod and the destinations it reaches; -o json has every probe.\n")
	}
	fmt.Fprintf(t.w, "%s: %d allowed, %d denied.\n", plural(len(t.res.Probes), "probe"), allowed, len(t.res.Probes)-allowed)
	fmt.Fprintln(t.w, budget.Summary(t.res.Usage, t.limits)+" (--budget for details).")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
