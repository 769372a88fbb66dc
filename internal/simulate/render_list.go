package simulate

import (
	"fmt"
	"strings"

	"github.com/microseg/microseg/internal/pipeline"
)

// allowedList is the large-world form: one line per source with the destinations it reaches.
// Denied connections are the rest; the decider rows below say what denied them.
func (t *tableWriter) allowedList(probes []Probe) {
	var src pipeline.PodRef
	var dsts []string
	flush := func() {
		if len(dsts) > 0 {
			fmt.Fprintf(t.w, "  %s → %s\n", src, strings.Join(dsts, ", "))
		}
		dsts = dsts[:0]
	}
	for _, p := range probes {
		if p.Source != src {
			flush()
			src = p.Source
		}
		if p.Verdict.Allowed {
			dsts = append(dsts, p.Destination.String())
		}
	}
	flush()
	fmt.Fprintln(t.w)
}
