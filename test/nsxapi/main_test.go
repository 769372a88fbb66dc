// Package nsxapi_test tests microseg's NSX-T Manager API client (nsxclient) and the NSX simulator
// (internal/nsxsim) together, over HTTPS, with every message checked against the vendor's spec.
package nsxapi_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/microseg/microseg/internal/nsxspec/speccheck"
)

// minValidatedMessages is the least a full run of this package must validate. The suite
// validates several thousand; a count below this means the validators were bypassed.
const minValidatedMessages = 1000

func TestMain(m *testing.M) {
	code := m.Run()
	if !specLoaded.Load() {
		fmt.Println("spec conformance: the NSX API spec was not found, so the client and simulator tests were skipped")
	} else {
		fmt.Println(conformanceSummary())
		fmt.Println(endpointCoverageSummary())
	}
	// The verdict is printed even when a test failed, so that every problem shows at once.
	if verdict := conformanceVerdict(); code == 0 {
		code = verdict
	}
	os.Exit(code)
}

// conformanceVerdict fails the package on any unexpected spec violation and, for a full run
// with the spec present, on too few validated messages or a client endpoint whose success or
// error path no test reached.
func conformanceVerdict() int {
	return conformance.Verdict("NSX API spec", specLoaded.Load() && speccheck.FullRun(), minValidatedMessages, endpointCoverageGaps)
}
