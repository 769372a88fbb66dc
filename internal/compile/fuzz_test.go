package compile

import (
	"testing"

	"github.com/microseg/microseg/internal/ir"
)

// FuzzCompile builds small worlds from the fuzz bytes (the same generator as the semantic tests,
// steered by the bytes) with limits also taken from the bytes, and checks that the compiler does
// not panic, respects every NSX limit (ir.Check), is deterministic under shuffling, and agrees
// with the reference semantics.
func FuzzCompile(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6, 4, 3, 3, 8, 3, 2, 7, 9, 5})
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f microseg fuzz seed with Pass and named ports"))
	for seed := range uint64(8) {
		b := make([]byte, 96)
		for i := range b {
			b[i] = byte(seed*37 + uint64(i)*11)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var limits []byte
		if len(data) > 8 {
			limits, data = data[:8], data[8:]
		}
		w := g2world(byteGen(data))
		lim := func(i, lo, span int) int {
			if i >= len(limits) {
				return 0 // default
			}
			return lo + int(limits[i])%span
		}
		w.in.Settings = Settings{Limits: ir.Limits{
			MaxRulesPerSection:         lim(0, 1, 6),
			MaxRefsPerField:            lim(1, 2, 4),
			MaxServicesPerRule:         lim(2, 1, 5),
			MaxPortsPerEntry:           lim(3, 1, 3),
			MaxIPSetEntries:            lim(4, 1, 4),
			MaxCriteriaPerGroup:        lim(5, 1, 5),
			MaxExpressionsPerCriterion: lim(6, 2, 4),
			MaxGroupMembers:            lim(7, 2, 4),
		}}
		m, err := Compile(w.in)
		if err != nil {
			t.Fatalf("a generated world must compile: %v", err)
		}
		if errs := ir.Check(m, w.in.Settings.Limits); len(errs) > 0 {
			t.Fatalf("ir.Check: %v", errs)
		}
		want := marshal(t, w.in)
		if got := marshal(t, shuffled(w.in, uint64(len(data)))); string(got) != string(want) {
			t.Fatalf("not deterministic under shuffling")
		}
		if _, bad := checkWorld(t, w, len(data)%2 == 1); len(bad) > 0 {
			reportMismatches(t, "fuzz world", w, bad)
		}
	})
}
