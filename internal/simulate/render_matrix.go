package simulate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/microseg/microseg/internal/pipeline"
)

// cellStyle is how a matrix draws its cells.
type cellStyle struct{ allowed, denied, self, unprobed string }

var (
	unicodeCells = cellStyle{allowed: "✓", denied: "✗", self: "-", unprobed: "?"}
	// asciiCells follow the Kubernetes network policy e2e truth tables.
	asciiCells = cellStyle{allowed: ".", denied: "X", self: "-", unprobed: "?"}
)

type pairKey struct{ src, dst pipeline.PodRef }

// matrix draws rows = sources, columns = destinations, numbered as in the row labels.
func (t *tableWriter) matrix(probes []Probe) {
	verdicts := make(map[pairKey]bool, len(probes))
	for _, p := range probes {
		verdicts[pairKey{p.Source, p.Destination}] = p.Verdict.Allowed
	}
	width := len(strconv.Itoa(len(t.numbers)))
	labels := make([]string, len(t.res.Sources))
	labelWidth := 0
	for i, src := range t.res.Sources {
		labels[i] = fmt.Sprintf("%*d %s", width, t.numbers[src], src)
		labelWidth = max(labelWidth, len(labels[i]))
	}
	fmt.Fprintf(t.w, "  %-*s ", labelWidth, "")
	for _, dst := range t.res.Destinations {
		fmt.Fprintf(t.w, " %*d", width, t.numbers[dst])
	}
	fmt.Fprintln(t.w)
	for i, src := range t.res.Sources {
		fmt.Fprintf(t.w, "  %-*s ", labelWidth, labels[i])
		for _, dst := range t.res.Destinations {
			fmt.Fprintf(t.w, " %*s", width, t.cell(verdicts, src, dst))
		}
		fmt.Fprintln(t.w)
	}
	fmt.Fprintln(t.w)
}

func (t *tableWriter) cell(verdicts map[pairKey]bool, src, dst pipeline.PodRef) string {
	allowed, probed := verdicts[pairKey{src, dst}]
	switch {
	case src == dst:
		return t.cells.self
	case !probed:
		return t.cells.unprobed
	case allowed:
		return t.cells.allowed
	default:
		return t.cells.denied
	}
}

// pairs is the number of ordered pairs of different pods.
func (t *tableWriter) pairs() int {
	n := 0
	for _, s := range t.res.Sources {
		for _, d := range t.res.Destinations {
			if s != d {
				n++
			}
		}
	}
	return n
}

// unlistedDestinations names the column numbers that are not also row labels (--from and --to
// differ), so every number in the matrix can be looked up.
func (t *tableWriter) unlistedDestinations() {
	isSource := map[pipeline.PodRef]bool{}
	for _, s := range t.res.Sources {
		isSource[s] = true
	}
	var extra []string
	for _, d := range t.res.Destinations {
		if !isSource[d] {
			extra = append(extra, fmt.Sprintf("%d %s", t.numbers[d], d))
		}
	}
	if len(extra) > 0 {
		fmt.Fprintf(t.w, "Destination columns: %s.\n", strings.Join(extra, ", "))
	}
}
