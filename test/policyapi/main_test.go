// Package policyapi_test tests microseg's NSX Policy API client (nsxclient's PolicyClient) and the
// NSX simulator's Policy API together, over HTTPS. Every request the client sends and every
// answer the simulator gives is validated against the Policy API table (package policyspec),
// on both sides of the wire; Manager API exchanges are validated against the vendor's spec when
// it is present.
package policyapi_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/microseg/microseg/internal/nsxspec/speccheck"
)

// minValidatedMessages is the least a full run must validate against the Policy table; fewer
// means the validators were bypassed.
const minValidatedMessages = 1000

func TestMain(m *testing.M) {
	code := m.Run()
	fmt.Println(ledgerSummary())
	fmt.Println(coverageSummary())
	if v := verdict(); code == 0 {
		code = v
	}
	os.Exit(code)
}

func verdict() int {
	return ledger.Verdict("Policy API table", speccheck.FullRun(), minValidatedMessages, coverageGaps)
}
