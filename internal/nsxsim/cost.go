package nsxsim

import (
	"encoding/json"
	"maps"
	"sync"
	"time"
)

// CostModel charges each API call a simulated NSX latency, for benchmarks that must show what a
// sync would cost against a real manager without waiting for it.
type CostModel struct {
	// PerCall is charged to every call.
	PerCall time.Duration `json:"per_call"`
	// PerRuleWritten is charged per rule in a write body (create_with_rules, update_with_rules,
	// revise_with_rules, create_multiple, single rule create/update/revise).
	PerRuleWritten time.Duration `json:"per_rule_written"`
	// PerRuleBulkRead is charged per rule returned by list_with_rules. (The rules echoed in the
	// reply of a with_rules write are covered by PerRuleWritten.)
	PerRuleBulkRead time.Duration `json:"per_rule_bulk_read"`
	// PerRulePagedRead is charged per rule returned by a GET …/rules page.
	PerRulePagedRead time.Duration `json:"per_rule_paged_read"`
	// PerPolicyObjectWritten is charged per object a Policy write carries: each Child<Type> node
	// of a hierarchical PATCH, a PATCH or PUT of one object, and each rule embedded in a
	// security policy's body.
	PerPolicyObjectWritten time.Duration `json:"per_policy_object_written"`
	// PerPolicyObjectRead is charged per object a hierarchical read (GET /infra) returns.
	PerPolicyObjectRead time.Duration `json:"per_policy_object_read"`
	// RealLatency makes the server actually sleep for the simulated time (demo mode).
	RealLatency bool `json:"real_latency"`
}

// DefaultCostModel is calibrated on the vendor spec's operation notes: update_with_rules with 1024
// rules takes about 15 s (20 ms + 1024 × 14.6 ms ≈ 14.97 s), list_with_rules with 1024 rules about
// 4–5 s (20 ms + 1024 × 4.4 ms ≈ 4.53 s). Paged GETs of rules are the cheap way to read (0.5 ms a
// rule, an estimate), and simple calls cost 20 ms (an estimate of a manager's round trip).
//
// Policy writes are charged 5 ms per object, an estimate with no published measurement behind
// it: a Policy write returns once the intent is stored (realization is asynchronous), so it is
// set at a third of the synchronous Manager rule write, and a full 5000-object hierarchical
// PATCH costs 25 s. Objects returned by GET /infra cost like paged rules (0.5 ms).
func DefaultCostModel() CostModel {
	return CostModel{
		PerCall:                20 * time.Millisecond,
		PerRuleWritten:         14600 * time.Microsecond,
		PerRuleBulkRead:        4400 * time.Microsecond,
		PerRulePagedRead:       500 * time.Microsecond,
		PerPolicyObjectWritten: 5 * time.Millisecond,
		PerPolicyObjectRead:    500 * time.Microsecond,
	}
}

// charge is the simulated time of one call.
func (m *CostModel) charge(rt *route, c *call) time.Duration {
	if rt == nil {
		return m.PerCall
	}
	return m.PerCall +
		time.Duration(c.rulesWritten)*m.PerRuleWritten +
		time.Duration(c.rulesBulk)*m.PerRuleBulkRead +
		time.Duration(c.rulesPaged)*m.PerRulePagedRead +
		time.Duration(c.policyWritten)*m.PerPolicyObjectWritten +
		time.Duration(c.policyRead)*m.PerPolicyObjectRead
}

// EndpointStats counts the calls of one endpoint.
type EndpointStats struct {
	Calls         int64         `json:"calls"`
	Errors        int64         `json:"errors"`
	SimulatedTime time.Duration `json:"simulated_ns"`
}

// Stats is a snapshot of the simulator's counters. Endpoints are keyed by route name, e.g.
// "POST /api/v1/firewall/sections/{section-id}?action=update_with_rules"; requests that matched no
// route are under "unmatched".
type Stats struct {
	Calls  int64 `json:"calls"`
	Errors int64 `json:"errors"` // replies with status >= 400, and dropped connections
	// Writes counts calls to endpoints that change NSX state (POST/PUT/DELETE except reads such
	// as list_with_rules and session calls), whether or not they succeeded; Reads the rest.
	Writes        int64                    `json:"writes"`
	Reads         int64                    `json:"reads"`
	SimulatedTime time.Duration            `json:"simulated_ns"`
	Endpoints     map[string]EndpointStats `json:"endpoints"`
	// RulesWritten counts the Manager API firewall rules carried in successful write bodies
	// (as the cost model charges them); PolicyObjectsWritten the Policy objects.
	RulesWritten         int64 `json:"rules_written"`
	PolicyObjectsWritten int64 `json:"policy_objects_written"`
}

// MarshalJSON adds human-readable seconds next to the nanosecond totals.
func (s Stats) MarshalJSON() ([]byte, error) {
	type plain Stats
	return json.Marshal(struct {
		plain
		SimulatedSeconds float64 `json:"simulated_seconds"`
	}{plain(s), s.SimulatedTime.Seconds()})
}

type statsRecorder struct {
	mu sync.Mutex
	s  Stats
}

func newStatsRecorder() *statsRecorder {
	r := &statsRecorder{}
	r.reset()
	return r
}

func (r *statsRecorder) reset() {
	r.mu.Lock()
	r.s = Stats{Endpoints: map[string]EndpointStats{}}
	r.mu.Unlock()
}

// record counts one call; status 0 means the connection was dropped. rules and policyObjects are
// what a write carried.
func (r *statsRecorder) record(endpoint string, write bool, status int, simulated time.Duration, rules, policyObjects int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	failed := status == 0 || status >= 400
	e := r.s.Endpoints[endpoint]
	e.Calls++
	e.SimulatedTime += simulated
	r.s.Calls++
	r.s.SimulatedTime += simulated
	if failed {
		e.Errors++
		r.s.Errors++
	} else {
		r.s.RulesWritten += int64(rules)
		r.s.PolicyObjectsWritten += int64(policyObjects)
	}
	if write {
		r.s.Writes++
	} else {
		r.s.Reads++
	}
	r.s.Endpoints[endpoint] = e
}

func (r *statsRecorder) snapshot() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.s
	out.Endpoints = maps.Clone(r.s.Endpoints)
	return out
}

// Stats returns the call counters since New or the last ResetStats.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// ResetStats zeroes the call counters.
func (s *Server) ResetStats() { s.stats.reset() }
