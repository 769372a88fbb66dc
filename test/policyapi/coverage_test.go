package policyapi_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxspec/policyspec"
)

// Endpoint coverage: every Policy endpoint the client calls must be answered at least once with
// success and at least once with an error somewhere in the suite. Each harness adds its
// simulator's statistics when it stops; TestMain checks the totals after a full run.

const (
	pDomain    = "/policy/api/v1/infra/domains/{domain-id}"
	pGroup     = pDomain + "/groups/{group-id}"
	pPolicy    = pDomain + "/security-policies/{security-policy-id}"
	pRule      = pPolicy + "/rules/{rule-id}"
	pSegment   = "/policy/api/v1/infra/segments/{segment-id}"
	pPort      = pSegment + "/ports/{port-id}"
	pInfra     = "/policy/api/v1/infra"
	pRealized  = "/policy/api/v1/infra/realized-state"
	pTraceflow = "/policy/api/v1/infra/traceflows/{traceflow-id}"
)

// clientEndpoints names, as the simulator's statistics do, every endpoint PolicyClient calls.
var clientEndpoints = []string{
	"GET /policy/api/v1/infra/domains", "GET " + pDomain, "PATCH " + pDomain, "DELETE " + pDomain,
	"GET " + pDomain + "/groups", "GET " + pGroup, "PATCH " + pGroup, "PUT " + pGroup, "DELETE " + pGroup,
	"GET " + pGroup + "/members/segment-ports", "GET " + pGroup + "/members/ip-addresses",
	"GET " + pDomain + "/security-policies", "GET " + pPolicy, "PATCH " + pPolicy, "PUT " + pPolicy, "DELETE " + pPolicy,
	"GET " + pPolicy + "/rules", "GET " + pRule, "PATCH " + pRule, "PUT " + pRule, "DELETE " + pRule,
	"PATCH " + pInfra, "GET " + pInfra,
	"GET " + pRealized + "/realized-entities", "GET " + pRealized + "/status",
	"GET /policy/api/v1/infra/segments", "GET " + pSegment, "PATCH " + pSegment, "DELETE " + pSegment,
	"GET " + pSegment + "/ports", "GET " + pPort, "PATCH " + pPort, "PUT " + pPort, "DELETE " + pPort,
	"PUT " + pTraceflow, "GET " + pTraceflow, "DELETE " + pTraceflow, "GET " + pTraceflow + "/status", "GET " + pTraceflow + "/observations",
}

var coverage = struct {
	mu       sync.Mutex
	ok, fail map[string]int64
}{ok: map[string]int64{}, fail: map[string]int64{}}

func recordCoverage(s nsxsim.Stats) {
	coverage.mu.Lock()
	defer coverage.mu.Unlock()
	for name, e := range s.Endpoints {
		coverage.ok[name] += e.Calls - e.Errors
		coverage.fail[name] += e.Errors
	}
}

func coverageGaps() []string {
	coverage.mu.Lock()
	defer coverage.mu.Unlock()
	var gaps []string
	for _, e := range clientEndpoints {
		if coverage.ok[e] == 0 {
			gaps = append(gaps, e+": no successful call")
		}
		if coverage.fail[e] == 0 {
			gaps = append(gaps, e+": no error answer")
		}
	}
	return gaps
}

func coverageSummary() string {
	coverage.mu.Lock()
	defer coverage.mu.Unlock()
	both := 0
	for _, e := range clientEndpoints {
		if coverage.ok[e] > 0 && coverage.fail[e] > 0 {
			both++
		}
	}
	return fmt.Sprintf("endpoint coverage: %d of %d client Policy endpoints answered with both success and error", both, len(clientEndpoints))
}

// TestClientEndpointsAreInTheTable: the coverage list names only endpoints the table describes,
// each once.
func TestClientEndpointsAreInTheTable(t *testing.T) {
	table := policyspec.Endpoints()
	for i, e := range clientEndpoints {
		if !slices.Contains(table, e) {
			t.Errorf("%s is not in the Policy API table", e)
		}
		if slices.Contains(clientEndpoints[:i], e) {
			t.Errorf("%s listed twice", e)
		}
	}
}
