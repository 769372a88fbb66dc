package nsxapi_test

import (
	"fmt"
	"sort"
	"sync"

	"github.com/microseg/microseg/internal/nsxsim"
)

// Endpoint coverage: every endpoint nsxclient calls must have been answered by the simulator at
// least once with success and at least once with an error somewhere in the suite ("every
// endpoint and error path covered, client and simulator together"). Each harness adds its
// simulator's statistics when it shuts down; TestMain checks the totals after a full run.

// clientEndpoints names, as the simulator's statistics do, every endpoint nsxclient has a method
// for. The simulator also serves GET /node/version, GET /firewall/rules/{id} and
// GET /ip-sets/{id}/members, which the client does not use.
var clientEndpoints = []string{
	"POST /api/session/create",
	"POST /api/session/destroy",

	"GET /api/v1/firewall/sections",
	"POST /api/v1/firewall/sections",
	"POST /api/v1/firewall/sections?action=create_with_rules",
	"GET /api/v1/firewall/sections/{section-id}",
	"PUT /api/v1/firewall/sections/{section-id}",
	"DELETE /api/v1/firewall/sections/{section-id}",
	"POST /api/v1/firewall/sections/{section-id}?action=revise",
	"POST /api/v1/firewall/sections/{section-id}?action=update_with_rules",
	"POST /api/v1/firewall/sections/{section-id}?action=revise_with_rules",
	"POST /api/v1/firewall/sections/{section-id}?action=list_with_rules",

	"GET /api/v1/firewall/sections/{section-id}/rules",
	"POST /api/v1/firewall/sections/{section-id}/rules",
	"POST /api/v1/firewall/sections/{section-id}/rules?action=create_multiple",
	"GET /api/v1/firewall/sections/{section-id}/rules/{rule-id}",
	"PUT /api/v1/firewall/sections/{section-id}/rules/{rule-id}",
	"DELETE /api/v1/firewall/sections/{section-id}/rules/{rule-id}",
	"POST /api/v1/firewall/sections/{section-id}/rules/{rule-id}?action=revise",

	"GET /api/v1/ns-groups",
	"POST /api/v1/ns-groups",
	"GET /api/v1/ns-groups/{ns-group-id}",
	"PUT /api/v1/ns-groups/{ns-group-id}",
	"DELETE /api/v1/ns-groups/{ns-group-id}",
	"POST /api/v1/ns-groups/{ns-group-id}?action=ADD_MEMBERS",
	"POST /api/v1/ns-groups/{ns-group-id}?action=REMOVE_MEMBERS",
	"GET /api/v1/ns-groups/{ns-group-id}/effective-ip-address-members",
	"GET /api/v1/ns-groups/{ns-group-id}/effective-logical-port-members",

	"GET /api/v1/ip-sets",
	"POST /api/v1/ip-sets",
	"GET /api/v1/ip-sets/{ip-set-id}",
	"PUT /api/v1/ip-sets/{ip-set-id}",
	"DELETE /api/v1/ip-sets/{ip-set-id}",
	"POST /api/v1/ip-sets/{ip-set-id}?action=add_ip",
	"POST /api/v1/ip-sets/{ip-set-id}?action=remove_ip",

	"GET /api/v1/logical-ports",
	"POST /api/v1/logical-ports",
	"GET /api/v1/logical-ports/{lport-id}",
	"PUT /api/v1/logical-ports/{lport-id}",
	"DELETE /api/v1/logical-ports/{lport-id}",

	"POST /api/v1/traceflows",
	"GET /api/v1/traceflows/{traceflow-id}",
	"GET /api/v1/traceflows/{traceflow-id}/observations",
	"DELETE /api/v1/traceflows/{traceflow-id}",
}

// endpointCoverage accumulates the simulators' statistics.
var endpointCoverage = struct {
	mu     sync.Mutex
	totals map[string]nsxsim.EndpointStats
}{totals: map[string]nsxsim.EndpointStats{}}

func recordEndpointCoverage(s nsxsim.Stats) {
	endpointCoverage.mu.Lock()
	defer endpointCoverage.mu.Unlock()
	for name, e := range s.Endpoints {
		t := endpointCoverage.totals[name]
		t.Calls += e.Calls
		t.Errors += e.Errors
		endpointCoverage.totals[name] = t
	}
}

// endpointCoverageGaps lists the client endpoints that never succeeded or never failed.
func endpointCoverageGaps() []string {
	endpointCoverage.mu.Lock()
	defer endpointCoverage.mu.Unlock()
	var gaps []string
	for _, name := range clientEndpoints {
		e := endpointCoverage.totals[name]
		switch {
		case e.Calls == 0:
			gaps = append(gaps, name+": never called")
		case e.Calls == e.Errors:
			gaps = append(gaps, name+": never succeeded")
		case e.Errors == 0:
			gaps = append(gaps, name+": no error path exercised")
		}
	}
	sort.Strings(gaps)
	return gaps
}

func endpointCoverageSummary() string {
	endpointCoverage.mu.Lock()
	defer endpointCoverage.mu.Unlock()
	var calls, errs int64
	for _, name := range clientEndpoints {
		calls += endpointCoverage.totals[name].Calls
		errs += endpointCoverage.totals[name].Errors
	}
	return fmt.Sprintf("endpoint coverage: %d client endpoints, %d simulator calls to them, %d of which were errors",
		len(clientEndpoints), calls, errs)
}
