package nsxapi_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/nsxclient"
)

// TestSimulatorControlAPIOverHTTP drives faults, statistics and reset through the simulator's
// private /sim/v1 endpoints, the way the demo and cmd/nsxsim users do, and checks the client
// meets the faults configured there.
func TestSimulatorControlAPIOverHTTP(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	sec := try(h.c.CreateSection(ctx, layer3Section("s"), nsxclient.Top())).must(t)

	var faults nsxsim.Faults
	if status := simRequest(ctx, t, h, http.MethodPut, "/sim/v1/faults", nsxsim.Faults{Rules: []nsxsim.FaultRule{
		{Kind: nsxsim.FaultUnavailable, Endpoint: "GET /api/v1/firewall/sections/{section-id}", Count: 2},
	}}, &faults); status != http.StatusOK || len(faults.Rules) != 1 {
		t.Fatalf("PUT /sim/v1/faults: status %d, faults %+v", status, faults)
	}
	if status := postSim(ctx, t, h, "/sim/v1/faults", nsxsim.FaultRule{Kind: nsxsim.FaultReconfiguring, Method: "PUT", Count: 1}, &faults); status != http.StatusOK || len(faults.Rules) != 2 {
		t.Fatalf("POST /sim/v1/faults: status %d, faults %+v", status, faults)
	}
	if status := postSim(ctx, t, h, "/sim/v1/faults/concurrent-edits", nsxsim.ConcurrentEdit{Kind: nsxsim.KindSection, ID: sec.ID}, &faults); status != http.StatusOK || len(faults.ConcurrentEdits) != 1 {
		t.Fatalf("POST /sim/v1/faults/concurrent-edits: status %d, faults %+v", status, faults)
	}

	got := try(h.c.GetSection(ctx, sec.ID)).must(t) // two 503s, then the read the editor follows
	if _, err := h.c.UpdateSection(ctx, *got); !nsxclient.IsStaleRevision(err) {
		t.Errorf("after the concurrent edit: want ErrStaleRevision, got %v", err)
	}
	got = try(h.c.GetSection(ctx, sec.ID)).must(t)
	try(h.c.UpdateSection(ctx, *got)).must(t) // one 607, retried

	var fired struct {
		Rules []struct {
			Kind  string `json:"kind"`
			Fired int    `json:"fired"`
		} `json:"rules"`
	}
	if status := simRequest(ctx, t, h, http.MethodGet, "/sim/v1/faults", nil, &fired); status != http.StatusOK ||
		len(fired.Rules) != 2 || fired.Rules[0].Fired != 2 || fired.Rules[1].Fired != 1 {
		t.Errorf("GET /sim/v1/faults: status %d, %+v; want the 503 rule fired twice and the 607 rule once", status, fired)
	}
	var stats nsxsim.Stats
	if status := simRequest(ctx, t, h, http.MethodGet, "/sim/v1/stats", nil, &stats); status != http.StatusOK {
		t.Fatalf("GET /sim/v1/stats: status %d", status)
	}
	if e := stats.Endpoints["GET /api/v1/firewall/sections/{section-id}"]; e.Calls != 4 || e.Errors != 2 {
		t.Errorf("stats for GET section: %+v, want 4 calls of which 2 failed", e)
	}
	if e := stats.Endpoints["PUT /api/v1/firewall/sections/{section-id}"]; e.Calls != 3 || e.Errors != 2 {
		t.Errorf("stats for PUT section: %+v, want 3 calls (stale, 607, success)", e)
	}

	// Latency is configured as a duration string over HTTP.
	if status := postSim(ctx, t, h, "/sim/v1/faults",
		json.RawMessage(`{"kind":"latency","endpoint":"GET /api/v1/ip-sets","count":1,"latency":"150ms"}`), nil); status != http.StatusOK {
		t.Fatalf("POST a latency fault: status %d", status)
	}
	start := time.Now()
	try(h.c.ListIPSets(ctx)).must(t)
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Errorf("a call with 150ms of injected latency took %s", took)
	}
	var latency struct {
		Rules []struct {
			Latency string `json:"latency"`
		} `json:"rules"`
	}
	simRequest(ctx, t, h, http.MethodGet, "/sim/v1/faults", nil, &latency)
	if n := len(latency.Rules); n == 0 || latency.Rules[n-1].Latency != "150ms" {
		t.Errorf("the latency fault reads back as %+v", latency.Rules)
	}

	var cleared nsxsim.Faults
	if status := simRequest(ctx, t, h, http.MethodDelete, "/sim/v1/faults", nil, &cleared); status != http.StatusOK || len(cleared.Rules) != 0 {
		t.Errorf("DELETE /sim/v1/faults: status %d, faults %+v", status, cleared)
	}
	var zeroed nsxsim.Stats
	if status := simRequest(ctx, t, h, http.MethodDelete, "/sim/v1/stats", nil, &zeroed); status != http.StatusOK || zeroed.Calls != 0 {
		t.Errorf("DELETE /sim/v1/stats: status %d, calls %d", status, zeroed.Calls)
	}
	if status := postSim(ctx, t, h, "/sim/v1/reset", nil, nil); status != http.StatusNoContent {
		t.Errorf("POST /sim/v1/reset: status %d", status)
	}
	if _, err := h.c.GetSection(ctx, sec.ID); !nsxclient.IsNotFound(err) {
		t.Errorf("after reset the section must be gone: %v", err)
	}
	if status := simRequest(ctx, t, h, http.MethodGet, "/sim/v1/nothing", nil, nil); status != http.StatusNotFound {
		t.Errorf("an unknown simulator endpoint: status %d", status)
	}
}
