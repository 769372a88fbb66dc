package nsxsim

import (
	"net/url"
	"testing"
	"time"

	"github.com/microseg/microseg/nsxclient"
)

func TestPolicyRealization(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PolicyRealizationDelay = 3 * time.Second })
	e.ppatch(gpath("web"), pgroupBody("web", nsxclient.TagEquals("SegmentPort", "app", "web")))
	entities := func(path string) []nsxclient.RealizedEntity {
		var out nsxclient.ListResult[nsxclient.RealizedEntity]
		e.pget("/infra/realized-state/realized-entities?intent_path="+url.QueryEscape(path), &out)
		return out.Results
	}
	status := func(path string) nsxclient.ConsolidatedRealizedStatus {
		var out nsxclient.ConsolidatedRealizedStatus
		e.pget("/infra/realized-state/status?intent_path="+url.QueryEscape(path), &out)
		return out
	}
	if got := entities(gpath("web")); len(got) != 1 || got[0].State != "UNREALIZED" || got[0].EntityType != "RealizedGroup" {
		t.Fatalf("right after the write: %+v", got)
	}
	var g nsxclient.PolicyGroup
	e.pget(gpath("web"), &g)
	if g.State != "IN_PROGRESS" {
		t.Errorf("group state = %s", g.State)
	}
	e.clock.Advance(3 * time.Second)
	if got := entities(gpath("web")); got[0].State != "REALIZED" {
		t.Errorf("after the delay: %+v", got)
	}
	if st := status(gpath("web")); st.PublishStatus != "REALIZED" || st.ConsolidatedStatus.ConsolidatedStatus != "SUCCESS" || st.IntentVersion != "0" {
		t.Errorf("status = %+v", st)
	}
	// A realization fault turns matching intents to ERROR with an alarm.
	e.sim.InjectRealizationError(RealizationFault{PathPrefix: "/infra/domains/default/groups/", Message: "host unreachable", ErrorCode: 500012})
	got := entities(gpath("web"))
	if got[0].State != "ERROR" || len(got[0].Alarms) != 1 || got[0].Alarms[0].Message != "host unreachable" {
		t.Errorf("with a fault: %+v", got)
	}
	if st := status(gpath("web")); st.ConsolidatedStatus.ConsolidatedStatus != "ERROR" {
		t.Errorf("status with a fault = %+v", st)
	}
	e.pfails("GET", "/infra/realized-state/status?intent_path="+url.QueryEscape(gpath("nope")), nil, 404, 0)
	e.pfails("GET", "/infra/realized-state/status", nil, 400, 0)
}
