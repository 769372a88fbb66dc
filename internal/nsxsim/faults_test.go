package nsxsim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/microseg/microseg/nsxclient"
)

func TestFaultUnavailableCountFromGo(t *testing.T) {
	e := newEnv(t)
	e.sim.InjectFault(FaultRule{Kind: FaultUnavailable, Endpoint: "GET /api/v1/firewall/sections", Count: 2, RetryAfter: 3})
	for range 2 {
		r := e.request("GET", sectionsPath, nil)
		expectError(t, r, http.StatusServiceUnavailable, 0)
		if r.header.Get("Retry-After") != "3" {
			t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
		}
	}
	e.call("GET", sectionsPath, nil, http.StatusOK, nil)
	if got := e.sim.CurrentFaults().Rules[0].fired; got != 2 {
		t.Fatalf("fired %d", got)
	}
	// Other endpoints were never affected.
	e.sim.InjectFault(FaultRule{Kind: FaultReconfiguring, Method: "POST", Skip: 1, Count: 1})
	e.section("first POST passes (skip)", "")
	e.call("GET", sectionsPath, nil, http.StatusOK, nil)
	e.fails("POST", sectionsPath, map[string]any{"section_type": "LAYER3", "stateful": true}, http.StatusInternalServerError, nsxclient.ErrCodeReconfiguring)
	e.section("then it is spent", "")
}

func TestFaultsOverHTTP(t *testing.T) {
	e := newEnv(t)
	put := func(method, path string, body any) Faults {
		t.Helper()
		var f Faults
		e.call(method, path, body, http.StatusOK, &f)
		return f
	}
	f := put("PUT", "/sim/v1/faults", map[string]any{"rules": []any{
		map[string]any{"kind": "reconfiguring", "path_prefix": "/api/v1/ns-groups", "count": 1},
		map[string]any{"kind": "latency", "path_prefix": "/api/v1/ip-sets", "latency": "20ms"},
	}})
	if len(f.Rules) != 2 || f.Rules[1].Latency != 20*time.Millisecond {
		t.Fatalf("faults %+v", f)
	}
	e.fails("GET", groupsPath, nil, http.StatusInternalServerError, nsxclient.ErrCodeReconfiguring)
	e.call("GET", groupsPath, nil, http.StatusOK, nil)
	start := time.Now()
	e.call("GET", ipsetsPath, nil, http.StatusOK, nil)
	if time.Since(start) < 20*time.Millisecond {
		t.Fatal("latency fault did not delay the request")
	}
	if st := e.sim.Stats().Endpoints["GET /api/v1/ip-sets"]; st.SimulatedTime < 20*time.Millisecond {
		t.Fatalf("latency not in simulated time: %+v", st)
	}
	put("POST", "/sim/v1/faults", map[string]any{"kind": "too_many_requests", "method": "DELETE"})
	if f := put("DELETE", "/sim/v1/faults", nil); len(f.Rules) != 0 {
		t.Fatalf("after DELETE: %+v", f)
	}
	e.call("GET", groupsPath, nil, http.StatusOK, nil)
	e.call("PUT", "/sim/v1/faults", "{", http.StatusBadRequest, nil)
}

func TestRateLimit429(t *testing.T) {
	e := newEnv(t)
	e.sim.SetFaults(Faults{RateLimitPerSecond: 3})
	for range 3 {
		e.call("GET", sectionsPath, nil, http.StatusOK, nil)
	}
	r := e.request("GET", sectionsPath, nil)
	body := expectError(t, r, http.StatusTooManyRequests, 0)
	if r.header.Get("Retry-After") == "" || body.ErrorMessage != "Client 'admin' exceeded request rate of 3 per second." {
		t.Fatalf("429: %s %v", r, r.header)
	}
	e.clock.Advance(time.Second)
	e.call("GET", sectionsPath, nil, http.StatusOK, nil)
	// The explicit 429 kind, for one call.
	e.sim.SetFaults(Faults{Rules: []FaultRule{{Kind: FaultTooManyRequests, Count: 1}}})
	expectError(t, e.request("GET", sectionsPath, nil), http.StatusTooManyRequests, 0)
	e.call("GET", sectionsPath, nil, http.StatusOK, nil)
}

func TestDropConnection(t *testing.T) {
	e := newEnv(t)
	e.sim.InjectFault(FaultRule{Kind: FaultDrop, Count: 1})
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	req, _ := http.NewRequest("GET", e.ts.URL+sectionsPath, nil)
	req.SetBasicAuth(testUser, testPassword)
	if res, err := client.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("dropped request got a response: %d", res.StatusCode)
	}
	e.call("GET", sectionsPath, nil, http.StatusOK, nil)
	if st := e.sim.Stats(); st.Errors != 1 || st.Calls != 2 {
		t.Fatalf("stats after a drop: %+v", st)
	}
	// Served directly (no wrapping writer), the connection is hijacked and closed.
	raw := httptest.NewServer(e.sim)
	defer raw.Close()
	e.sim.InjectFault(FaultRule{Kind: FaultDrop, Count: 1})
	req, _ = http.NewRequest("POST", raw.URL+sectionsPath, nil)
	req.SetBasicAuth(testUser, testPassword)
	if res, err := client.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("dropped request got a response: %d", res.StatusCode)
	}
}

func TestProbabilityFaultsAreSeeded(t *testing.T) {
	e := newEnv(t)
	pattern := func() []int {
		e.sim.SetFaults(Faults{Seed: 7, Rules: []FaultRule{{Kind: FaultUnavailable, Probability: 0.5}}})
		var got []int
		for range 20 {
			got = append(got, e.request("GET", sectionsPath, nil).status)
		}
		return got
	}
	first, second := pattern(), pattern()
	if !slices.Equal(first, second) || !slices.Contains(first, 503) || !slices.Contains(first, 200) {
		t.Fatalf("patterns %v / %v", first, second)
	}
}

func TestConcurrentEditor(t *testing.T) {
	e := newEnv(t)
	sec := e.section("s", "")
	e.sim.InjectConcurrentEdit(ConcurrentEdit{Kind: KindSection, ID: sec.ID})
	read := e.getSection(sec.ID) // the editor strikes right after this read
	body := map[string]any{"section_type": "LAYER3", "stateful": true, "_revision": read.Revision}
	e.fails("PUT", sectionsPath+"/"+sec.ID, body, http.StatusConflict, 0)
	fresh := e.getSection(sec.ID) // the edit is spent: this read is safe
	if fresh.LastModifiedUser != concurrentEditor || fresh.Revision != read.Revision+1 {
		t.Fatalf("after the edit: %+v", fresh)
	}
	body["_revision"] = fresh.Revision
	e.call("PUT", sectionsPath+"/"+sec.ID, body, http.StatusOK, nil)

	// Over HTTP, for groups (412), triggering on the second read.
	g := e.group("g", nil)
	e.call("POST", "/sim/v1/faults/concurrent-edits", map[string]any{"kind": "NSGroup", "after_reads": 2}, http.StatusOK, nil)
	var got nsxclient.NSGroup
	e.call("GET", groupsPath+"/"+g.ID, nil, http.StatusOK, &got)
	e.call("PUT", groupsPath+"/"+g.ID, map[string]any{"_revision": got.Revision}, http.StatusOK, &got)
	e.call("GET", groupsPath+"/"+g.ID, nil, http.StatusOK, &got) // second read: edit
	e.fails("PUT", groupsPath+"/"+g.ID, map[string]any{"_revision": got.Revision}, http.StatusPreconditionFailed, 0)

	// Rules: an edit of a rule bumps the rule and its section.
	r := e.rule(sec.ID, allowRule("r"), "")
	e.sim.InjectConcurrentEdit(ConcurrentEdit{Kind: KindRule})
	var rr nsxclient.FirewallRule
	e.call("GET", apiPrefix+"/firewall/rules/"+r.ID, nil, http.StatusOK, &rr)
	e.fails("PUT", sectionsPath+"/"+sec.ID+"/rules/"+r.ID, map[string]any{"action": "DROP", "_revision": rr.Revision}, http.StatusConflict, 0)
}

func TestFaultRuleJSONRoundTrip(t *testing.T) {
	in := FaultRule{Kind: FaultLatency, Latency: 1500 * time.Millisecond, Method: "GET"}
	buf, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out FaultRule
	if err := json.Unmarshal(buf, &out); err != nil || out.Latency != in.Latency || out.Method != "GET" {
		t.Fatalf("%s → %+v (%v)", buf, out, err)
	}
	if err := json.Unmarshal([]byte(`{"kind":"latency","latency":250}`), &out); err != nil || out.Latency != 250*time.Millisecond {
		t.Fatalf("milliseconds form: %+v %v", out, err)
	}
}
