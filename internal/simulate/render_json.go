package simulate

import (
	"bufio"
	"encoding/json"
	"io"
)

// WriteJSON writes JSON Lines: one Record per probe, in (port, source, destination) order.
// JSON Lines rather than one array, so that jq, grep and head work on the stream as it comes and
// a 100,000-probe run never has to be held as one document.
func WriteJSON(w io.Writer, res *Result) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, p := range res.Probes {
		if err := enc.Encode(RecordOf(p)); err != nil {
			return err
		}
	}
	return bw.Flush()
}
