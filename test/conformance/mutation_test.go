package conformance

import (
	"context"
	"testing"

	"github.com/microseg/microseg/test/conformance/oracle"
)

// TestHarnessDetectsMutations plants one known error at a time, in the mapping onto the oracle
// or in microseg's input, and checks that the comparison reports disagreements: the suite can
// tell right from wrong for every construct it claims to check, and each workaround for an
// oracle deviation is needed.
func TestHarnessDetectsMutations(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	o, err := oracle.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{
		"security-pass-as-allow", "security-pass-as-deny", "baseline-pass-as-deny", "reject-as-allow",
		"named-ports-unresolved", "range-as-single-port", "drop-ingress-networks", "drop-egress-networks",
		"no-direction-views", "reverse-priority", "reverse-ties", "reverse-baseline-order",
		"microseg-deny-as-allow", "microseg-drop-except", "microseg-np-port-off-by-one",
	} {
		t.Run(m, func(t *testing.T) {
			mutation = m
			defer func() { mutation = "" }()
			disagree := 0
			for seed := uint64(1); seed <= 40 && disagree == 0; seed++ {
				r, err := RunWorld(context.Background(), o, Generate(seed), RunOptions{PortsPerPair: 3})
				if err != nil {
					t.Fatal(err)
				}
				for i := range r.Outcomes {
					if r.Outcomes[i].Worst() == Disagree {
						disagree++
					}
				}
				if disagree > 0 {
					t.Logf("seed %d: %d flows disagree", seed, disagree)
				}
			}
			if disagree == 0 {
				t.Errorf("mutation %s went unnoticed in 10 worlds", m)
			}
		})
	}
}
