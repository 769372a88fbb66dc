package nsxsim

import (
	"net/http"
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

// TestSegmentPortsAreRealizedAsLogicalPorts: a Policy segment port shows up in the Manager API;
// a Manager logical port does not show up as a segment port.
func TestSegmentPortsAreRealizedAsLogicalPorts(t *testing.T) {
	e := newEnv(t)
	sp := e.segmentPort("node-1", "pod-a", "10.1.0.10", tag("app", "web"), tag("ncp/project", "x1"))
	mp := e.port("manager-port", "10.2.0.10", "app=web")
	var lp nsxclient.LogicalPort
	e.call("GET", apiPrefix+"/logical-ports/"+sp.UniqueID, nil, 200, &lp)
	var seg nsxclient.Segment
	e.pget("/infra/segments/node-1", &seg)
	if lp.LogicalSwitchID != seg.UniqueID || lp.AddressBindings[0].IPAddress != "10.1.0.10" || len(lp.Tags) != 2 ||
		lp.Attachment.Context.VifType != "CHILD" || lp.Attachment.Context.ParentVifID != "node-vif" || lp.CreateUser != "nsx_policy" {
		t.Errorf("realized logical port = %+v", lp)
	}
	var ports nsxclient.ListResult[nsxclient.SegmentPort]
	e.pget("/infra/segments/node-1/ports", &ports)
	if len(ports.Results) != 1 || ports.Results[0].ID != "pod-a" {
		t.Errorf("segment ports = %+v (the Manager port %s must not be one)", ports.Results, mp.ID)
	}
	// The Manager API may not change the realized port without an override.
	lp.Tags = nil
	e.fails("PUT", apiPrefix+"/logical-ports/"+lp.ID, lp, 400, nsxclient.ErrCodeNotOwner)
	e.fails("DELETE", apiPrefix+"/logical-ports/"+lp.ID+"?detach=true", nil, 400, nsxclient.ErrCodeNotOwner)
	// Policy changes follow into the Manager view; a deleted segment port takes its logical port.
	e.ppatch("/infra/segments/node-1/ports/pod-a", map[string]any{"tags": []nsxclient.Tag{tag("app", "db")}})
	e.call("GET", apiPrefix+"/logical-ports/"+sp.UniqueID, nil, 200, &lp)
	if len(lp.Tags) != 1 || lp.Tags[0].Tag != "db" || lp.Revision != 1 {
		t.Errorf("after a tag change: %+v", lp)
	}
	// A segment with ports is in use.
	e.pfails("DELETE", "/infra/segments/node-1", nil, 400, nsxclient.ErrCodeResourceInUse)
	e.call("DELETE", policyPrefix+"/infra/segments/node-1/ports/pod-a", nil, http.StatusNoContent, nil)
	e.fails("GET", apiPrefix+"/logical-ports/"+sp.UniqueID, nil, 404, 0)
}

// TestDefaultRuleIsShared: the Policy default rule and the Manager default rule are one rule.
func TestDefaultRuleIsShared(t *testing.T) {
	e := newEnv(t)
	def := nsxclient.PolicyRule{PolicyResource: nsxclient.PolicyResource{ID: "default-layer3-rule"}, Action: "DROP",
		SourceGroups: []string{"ANY"}, DestinationGroups: []string{"ANY"}, Services: []string{"ANY"}}
	e.ppatch(rpath("default-layer3-section", "default-layer3-rule"), def)
	mpDefault := e.sectionNames(nsxclient.SectionLayer3)
	var rules nsxclient.ListResult[nsxclient.FirewallRule]
	secs := e.sim.st.sectionOrder[nsxclient.SectionLayer3]
	e.call("GET", apiPrefix+"/firewall/sections/"+secs[len(secs)-1]+"/rules", nil, 200, &rules)
	if rules.Results[0].Action != "DROP" {
		t.Errorf("Manager default rule = %+v (sections %v)", rules.Results[0], mpDefault)
	}
	// And the other way round.
	r := rules.Results[0]
	r.Action = "REJECT"
	e.call("PUT", apiPrefix+"/firewall/sections/"+secs[len(secs)-1]+"/rules/"+r.ID, r, 200, nil)
	var pr nsxclient.PolicyRule
	e.pget(rpath("default-layer3-section", "default-layer3-rule"), &pr)
	if pr.Action != "REJECT" || pr.RuleID == 0 {
		t.Errorf("Policy default rule = %+v", pr)
	}
}
