package policyapi_test

import (
	"fmt"
	"strings"

	"github.com/microseg/microseg/internal/nsxspec/speccheck"
)

// ledger counts the Policy exchanges the validators checked and collects the violations they
// reported, for TestMain's verdict.
var ledger speccheck.Ledger

func ledgerSummary() string {
	return fmt.Sprintf("policy API table: %d messages validated (%s); %d deliberate violations caught; %d unexpected",
		ledger.Validated(), ledger.Breakdown(), ledger.Expected.Load(), len(ledger.Unexpected()))
}

// isPolicyPath tells the exchanges the Policy table validates.
func isPolicyPath(p string) bool {
	return strings.HasPrefix(p, "/policy/api/v1/") || p == "/policy/api/v1"
}
