package nsxapi_test

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/microseg/microseg/internal/nsxspec/speccheck"
)

// Spec conformance bookkeeping shared by every test of the package.
//
// Each harness puts nsxspec.ValidatingTransport under the client (requests as the client sends
// them, responses as it receives them) and nsxspec.ValidatingHandler around the simulator
// (requests as the server sees them, responses as it writes them). Both only report problems, so
// this file also counts what they checked: a wiring mistake that validated nothing would
// otherwise look exactly like a clean run. TestMain prints the totals and fails the package on
// any unexpected violation or on a suspiciously small count.

// conformance is the package-wide ledger; specLoaded is set once a harness found the vendor spec
// (without it nothing is validated and TestMain does not insist on a count).
var (
	conformance speccheck.Ledger
	specLoaded  atomic.Bool
)

func conformanceSummary() string {
	return fmt.Sprintf("spec conformance: %d messages validated against nsx_api.json (%s); "+
		"%d deliberate violations caught; %d unexpected violations",
		conformance.Validated(), conformance.Breakdown(), conformance.Expected.Load(), len(conformance.Unexpected()))
}

// specChecked mirrors what nsxspec's middleware validates: everything except the session
// endpoints (which the spec does not describe) and the simulator's private /sim/ API.
func specChecked(path string) bool {
	return !strings.HasPrefix(path, "/api/session/") && !strings.HasPrefix(path, "/sim/")
}
