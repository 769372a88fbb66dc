// Package policyapi_test tests microseg's NSX Policy API client (nsxclient's PolicyClient) and the
// NSX simulator's Policy API together, over HTTPS. Every request the client sends and every
// answer the simulator gives is validated against the Policy API table (package policyspec),
// on both sides of the wire; Manager API exchanges are validated against the vendor's spec when
// it is present.
package policyapi_test

import (
	"flag"
	"fmt"
	"os"
	"testing"
)

// minValidatedMessages is the least a full run must validate against the Policy table; fewer
// means the validators were bypassed.
const minValidatedMessages = 1000

func TestMain(m *testing.M) {
	code := m.Run()
	fmt.Println(ledger.summary())
	fmt.Println(coverageSummary())
	if v := verdict(); code == 0 {
		code = v
	}
	os.Exit(code)
}

func verdict() int {
	if v := ledger.unexpected(); len(v) > 0 {
		fmt.Printf("FAIL: %d violations of the Policy API table:\n", len(v))
		for _, s := range v {
			fmt.Println("  " + s)
		}
		return 1
	}
	if !fullRun() {
		return 0
	}
	if n := ledger.validated(); n < minValidatedMessages {
		fmt.Printf("FAIL: only %d Policy messages were validated (want at least %d): the validators are not in the path\n", n, minValidatedMessages)
		return 1
	}
	if gaps := coverageGaps(); len(gaps) > 0 {
		fmt.Printf("FAIL: %d client endpoints lack a success or an error case:\n", len(gaps))
		for _, g := range gaps {
			fmt.Println("  " + g)
		}
		return 1
	}
	return 0
}

// fullRun reports whether every test ran (no -run, -skip or -short).
func fullRun() bool {
	for _, name := range []string{"test.run", "test.skip"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	return !testing.Short()
}
