package nsxsim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/microseg/microseg/internal/nsxsim/dataplane"
	"github.com/microseg/microseg/nsxclient"
)

// TestTraceflowReferenceScenario builds a slice of the design doc's table: service-a may reach
// service-b on TCP 80, service-b may not reach service-a, through NSGroups on LogicalPort tags.
func TestTraceflowReferenceScenario(t *testing.T) {
	e := newEnv(t)
	a := e.port("service-a-1", "10.0.1.1", "app=service-a", "ncp/project=x1")
	b := e.port("service-b-1", "10.0.2.1", "app=service-b", "ncp/project=y1")
	ga := e.group("a", map[string]any{"membership_criteria": []any{tagCriterion("app", "service-a")}})
	gb := e.group("b", map[string]any{"membership_criteria": []any{tagCriterion("app", "service-b")}})
	http80 := map[string]any{"service": map[string]any{"resource_type": "L4PortSetNSService", "l4_protocol": "TCP", "destination_ports": []string{"80"}}}
	var sec nsxclient.FirewallSectionRuleList
	e.call("POST", sectionsPath+"?action=create_with_rules", map[string]any{
		"display_name": "b-ingress", "section_type": "LAYER3", "stateful": true,
		"applied_tos": []any{ref("NSGroup", gb.ID)},
		"rules": []any{
			map[string]any{"display_name": "a-to-b", "action": "ALLOW", "direction": "IN", "sources": []any{ref("NSGroup", ga.ID)}, "services": []any{http80}},
			map[string]any{"display_name": "deny-b", "action": "REJECT", "direction": "IN"},
		}}, http.StatusCreated, &sec)

	res, err := e.sim.Traceflow(context.Background(), dataplane.Flow{SrcPortID: a.ID, DstPortID: b.ID, Protocol: "TCP", DstPort: 80})
	if err != nil || !res.Allowed || res.Destination.RuleID != sec.Rules[0].ID || res.Destination.SectionName != "b-ingress" {
		t.Fatalf("a→b: %+v %v", res, err)
	}
	var out TraceflowResponse
	e.call("POST", "/sim/v1/traceflow", TraceflowRequest{SrcPortID: b.ID, DstIP: "10.0.1.1", Protocol: "TCP", DstPort: 80}, http.StatusOK, &out)
	if !out.Allowed || !out.Destination.Default {
		t.Fatalf("b→a should pass through the default section: %+v", out)
	}
	e.call("POST", "/sim/v1/traceflow", TraceflowRequest{SrcPortID: a.ID, DstPortID: b.ID, Protocol: "TCP", DstPort: 443}, http.StatusOK, &out)
	if out.Allowed || out.Action != "REJECT" || out.Destination.RuleName != "deny-b" {
		t.Fatalf("a→b:443 should be rejected: %+v", out)
	}
	e.call("POST", "/sim/v1/traceflow", TraceflowRequest{SrcPortID: "nope", DstPortID: b.ID, Protocol: "TCP"}, http.StatusBadRequest, nil)

	// Writes invalidate the cached dataplane: drop service-a's label and the allow stops matching.
	var pa nsxclient.LogicalPort
	e.call("GET", portsPath+"/"+a.ID, nil, http.StatusOK, &pa)
	e.call("PUT", portsPath+"/"+a.ID, map[string]any{"logical_switch_id": "ls-1", "admin_state": "UP", "_revision": pa.Revision,
		"address_bindings": pa.AddressBindings}, http.StatusOK, nil)
	res, _ = e.sim.Traceflow(context.Background(), dataplane.Flow{SrcPortID: a.ID, DstPortID: b.ID, Protocol: "TCP", DstPort: 80})
	if res.Allowed {
		t.Fatalf("after relabelling a: %+v", res)
	}
	if _, err := e.sim.Traceflow(canceledContext(), dataplane.Flow{}); err == nil {
		t.Fatal("a canceled context must fail")
	}
}

func canceledContext() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func TestDeterministicIDsAndReset(t *testing.T) {
	ids := func() []string {
		sim := New(Options{Users: map[string]string{testUser: testPassword}, Seed: 99})
		st := sim.st
		var out []string
		for _, l := range []string{"LAYER3", "LAYER2"} {
			out = append(out, st.defaultSection[l])
		}
		sim.Reset()
		out = append(out, sim.st.defaultSection["LAYER3"])
		return out
	}
	a, b := ids(), ids()
	if !slices.Equal(a, b) || a[0] != a[2] {
		t.Fatalf("ids differ across runs with one seed: %v / %v", a, b)
	}
	e := newEnv(t)
	e.section("x", "")
	e.call("POST", "/sim/v1/reset", nil, http.StatusNoContent, nil)
	if got := e.sectionNames(""); !slices.Equal(got, []string{defaultL3SectionName}) {
		t.Fatalf("after reset %v", got)
	}
}

// TestConcurrentClients hammers one simulator from many goroutines (run with -race).
func TestConcurrentClients(t *testing.T) {
	e := newEnv(t)
	sec := e.section("shared", "")
	g := e.group("g", nil)
	// try never calls t.Fatal: it runs on goroutines other than the test's.
	try := func(method, path string, body any) []byte {
		var rd io.Reader
		if body != nil {
			buf, _ := json.Marshal(body)
			rd = bytes.NewReader(buf)
		}
		req, _ := http.NewRequest(method, e.ts.URL+path, rd)
		req.SetBasicAuth(testUser, testPassword)
		res, err := e.ts.Client().Do(req)
		if err != nil {
			t.Error(err)
			return nil
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		return data
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				switch (w + i) % 4 {
				case 0:
					try("GET", sectionsPath+"/"+sec.ID+"/rules", nil)
				case 1:
					var s nsxclient.FirewallSection
					_ = jsonUnmarshal(try("GET", sectionsPath+"/"+sec.ID, nil), &s)
					try("POST", sectionsPath+"/"+sec.ID+"/rules", map[string]any{"action": "ALLOW", "_revision": s.Revision})
				case 2:
					try("POST", groupsPath+"/"+g.ID+"?action=ADD_MEMBERS", map[string]any{"members": []any{staticMember("LogicalSwitch", "ls")}})
				case 3:
					_, _ = e.sim.Traceflow(context.Background(), dataplane.Flow{SrcIP: "10.0.0.1", DstIP: "10.0.0.2", Protocol: "TCP", DstPort: 80})
				}
			}
		}()
	}
	wg.Wait()
	if st := e.sim.Stats(); st.Calls < 60 {
		t.Fatalf("calls %d", st.Calls)
	}
}
