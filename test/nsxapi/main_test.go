// Package nsxapi_test tests microseg's NSX-T Manager API client (nsxclient) and the NSX simulator
// (internal/nsxsim) together, over HTTPS, with every message checked against the vendor's spec.
package nsxapi_test

import (
	"flag"
	"fmt"
	"os"
	"testing"
)

// minValidatedMessages is the least a full run of this package must validate. The suite
// validates several thousand; a count below this means the validators were bypassed.
const minValidatedMessages = 1000

func TestMain(m *testing.M) {
	code := m.Run()
	if !conformance.specLoaded.Load() {
		fmt.Println("spec conformance: the NSX API spec was not found, so the client and simulator tests were skipped")
	} else {
		fmt.Println(conformance.summary())
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
	if v := conformance.unexpected(); len(v) > 0 {
		fmt.Printf("FAIL: %d NSX API spec violations:\n", len(v))
		for _, s := range v {
			fmt.Println("  " + s)
		}
		return 1
	}
	if !conformance.specLoaded.Load() || !fullRun() {
		return 0 // nothing ran, or only some tests: totals mean nothing
	}
	if conformance.validatedExchanges() < minValidatedMessages {
		fmt.Printf("FAIL: only %d messages were validated against the spec (want at least %d): the validating middleware is not in the path\n",
			conformance.validatedExchanges(), minValidatedMessages)
		return 1
	}
	if gaps := endpointCoverageGaps(); len(gaps) > 0 {
		fmt.Printf("FAIL: %d client endpoints lack coverage:\n", len(gaps))
		for _, g := range gaps {
			fmt.Println("  " + g)
		}
		return 1
	}
	return 0
}

// fullRun reports whether every test ran (no -run, -skip or -short), so that a count threshold
// is meaningful.
func fullRun() bool {
	for _, name := range []string{"test.run", "test.skip"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	return !testing.Short()
}
