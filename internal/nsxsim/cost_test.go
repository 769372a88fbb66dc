package nsxsim

import (
	"net/http"
	"testing"
	"time"

	"github.com/microseg/microseg/nsxclient"
)

func TestCostModelCalibration(t *testing.T) {
	e := newEnv(t)
	rules := repeat(1000, allowRule("r"))
	var sec nsxclient.FirewallSectionRuleList
	e.call("POST", sectionsPath+"?action=create_with_rules", map[string]any{"section_type": "LAYER3", "stateful": true, "rules": rules}, http.StatusCreated, &sec)
	e.sim.ResetStats()

	update := map[string]any{"section_type": "LAYER3", "stateful": true, "_revision": sec.Revision, "rules": rules}
	e.call("POST", sectionsPath+"/"+sec.ID+"?action=update_with_rules", update, http.StatusOK, nil)
	e.call("POST", sectionsPath+"/"+sec.ID+"?action=list_with_rules", nil, http.StatusOK, nil)
	e.call("GET", sectionsPath+"/"+sec.ID+"/rules", nil, http.StatusOK, nil)

	st := e.sim.Stats()
	upd := st.Endpoints["POST /api/v1/firewall/sections/{section-id}?action=update_with_rules"]
	list := st.Endpoints["POST /api/v1/firewall/sections/{section-id}?action=list_with_rules"]
	paged := st.Endpoints["GET /api/v1/firewall/sections/{section-id}/rules"]
	// 1024 rules ≈ 15 s and ≈ 4-5 s per the vendor spec's notes; scaled to 1000 rules.
	if upd.SimulatedTime < 14*time.Second || upd.SimulatedTime > 15*time.Second {
		t.Errorf("update_with_rules of 1000 rules costs %s", upd.SimulatedTime)
	}
	if list.SimulatedTime < 4*time.Second || list.SimulatedTime > 5*time.Second {
		t.Errorf("list_with_rules of 1000 rules costs %s", list.SimulatedTime)
	}
	if paged.SimulatedTime >= list.SimulatedTime {
		t.Errorf("paged GET (%s) should be cheaper than list_with_rules (%s)", paged.SimulatedTime, list.SimulatedTime)
	}
	if st.Writes != 1 || st.Reads != 2 || st.Calls != 3 || st.Errors != 0 {
		t.Errorf("counters %+v", st)
	}
	if st.SimulatedTime != upd.SimulatedTime+list.SimulatedTime+paged.SimulatedTime {
		t.Errorf("total %s", st.SimulatedTime)
	}
}

func TestStatsCountErrorsWritesAndOverHTTP(t *testing.T) {
	e := newEnv(t)
	e.fails("GET", sectionsPath+"/nope", nil, 404, 0)
	e.fails("DELETE", groupsPath+"/nope", nil, 404, 0)
	e.section("s", "")
	var st Stats
	e.call("GET", "/sim/v1/stats", nil, http.StatusOK, &st)
	if st.Calls != 3 || st.Errors != 2 || st.Writes != 2 || st.Reads != 1 {
		t.Fatalf("stats %+v", st)
	}
	if ep := st.Endpoints["DELETE /api/v1/ns-groups/{ns-group-id}"]; ep.Calls != 1 || ep.Errors != 1 || ep.SimulatedTime != DefaultCostModel().PerCall {
		t.Fatalf("endpoint stats %+v", ep)
	}
	var after Stats
	e.call("DELETE", "/sim/v1/stats", nil, http.StatusOK, &after)
	if after.Calls != 0 || len(after.Endpoints) != 0 {
		t.Fatalf("after reset %+v", after)
	}
}

func TestRealLatencyOption(t *testing.T) {
	cost := CostModel{PerCall: 15 * time.Millisecond, RealLatency: true}
	e := newEnv(t, func(o *Options) { o.Cost = &cost })
	start := time.Now()
	e.call("GET", sectionsPath, nil, http.StatusOK, nil)
	if time.Since(start) < 15*time.Millisecond {
		t.Fatal("RealLatency did not sleep")
	}
}
