package nsxsim

import (
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

const groupsPath = apiPrefix + "/ns-groups"

func TestGroupCRUDAndRevision(t *testing.T) {
	e := newEnv(t)
	g := e.group("web", map[string]any{"membership_criteria": []any{tagCriterion("app", "web")}})
	if g.ResourceType != "NSGroup" || g.Revision != 0 || len(g.ID) != 36 || g.CreateUser != testUser || g.CreateTime == 0 {
		t.Fatalf("created group %+v", g)
	}
	path := groupsPath + "/" + g.ID
	upd := map[string]any{"display_name": "web2", "_revision": 0, "membership_criteria": []any{tagCriterion("app", "web2")}}
	var out nsxclient.NSGroup
	e.call("PUT", path, upd, http.StatusOK, &out)
	if out.DisplayName != "web2" || out.Revision != 1 || out.MembershipCriteria[0].Tag != "web2" {
		t.Fatalf("PUT group %+v", out)
	}
	e.fails("PUT", path, upd, http.StatusPreconditionFailed, 0)
	delete(upd, "_revision")
	e.fails("PUT", path, upd, http.StatusPreconditionFailed, 0)
	e.fails("GET", groupsPath+"/nope", nil, 404, nsxclient.ErrCodeNotFound)
	e.call("DELETE", path, nil, http.StatusOK, nil)
	e.fails("GET", path, nil, 404, nsxclient.ErrCodeNotFound)
}

func TestGroupListShortPages(t *testing.T) {
	e := newEnv(t)
	for i := range 120 {
		e.group("g"+strconv.Itoa(i), nil)
	}
	var seen []string
	cursor := ""
	for page := 0; ; page++ {
		var p listPage[nsxclient.NSGroup]
		q := "?page_size=1000"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		e.call("GET", groupsPath+q, nil, http.StatusOK, &p)
		if len(p.Results) > 50 {
			t.Fatalf("page %d holds %d groups; NSX caps NSGroup pages at 50", page, len(p.Results))
		}
		if (page == 0) != (p.ResultCount != nil) || (page == 0 && *p.ResultCount != 120) {
			t.Fatalf("page %d result_count %v", page, p.ResultCount)
		}
		for _, g := range p.Results {
			seen = append(seen, g.DisplayName)
		}
		if p.Cursor == "" {
			break
		}
		cursor = p.Cursor
	}
	if len(seen) != 120 || seen[0] != "g0" || seen[119] != "g119" {
		t.Fatalf("listed %d groups", len(seen))
	}
}

func TestGroupMembersActions(t *testing.T) {
	e := newEnv(t)
	set := e.ipset("set", "10.0.0.0/24")
	child := e.group("child", nil)
	g := e.group("parent", map[string]any{"members": []any{staticMember("IPSet", set.ID)}})
	path := groupsPath + "/" + g.ID
	var out nsxclient.NSGroup
	e.call("POST", path+"?action=ADD_MEMBERS", map[string]any{"members": []any{staticMember("NSGroup", child.ID), staticMember("IPSet", set.ID)}}, http.StatusOK, &out)
	if len(out.Members) != 2 || out.MemberCount != 2 || out.Revision != 1 {
		t.Fatalf("ADD_MEMBERS: %+v", out)
	}
	var populated nsxclient.NSGroup
	e.call("GET", path+"?populate_references=true", nil, http.StatusOK, &populated)
	tr := populated.Members[1].TargetResource
	if tr == nil || tr.TargetDisplayName != "child" || tr.IsValid == nil || !*tr.IsValid {
		t.Fatalf("populate_references: %+v", populated.Members)
	}
	e.call("POST", path+"?action=REMOVE_MEMBERS", map[string]any{"members": []any{staticMember("IPSet", set.ID)}}, http.StatusOK, &out)
	if len(out.Members) != 1 || out.Members[0].Value != child.ID {
		t.Fatalf("REMOVE_MEMBERS: %+v", out.Members)
	}
	e.fails("POST", path+"?action=add_members", map[string]any{"members": []any{}}, 400, errCodeBadRequestURI)
	// A cycle through nested groups is refused.
	e.fails("POST", groupsPath+"/"+child.ID+"?action=ADD_MEMBERS", map[string]any{"members": []any{staticMember("NSGroup", g.ID)}}, 400, nsxclient.ErrCodeFieldValidation)
	e.fails("POST", path+"?action=ADD_MEMBERS", map[string]any{"members": []any{staticMember("NSGroup", g.ID)}}, 400, nsxclient.ErrCodeFieldValidation)
}

// TestInUseDeleteAndForce covers the in-use refusal (400/500030) of groups and IP sets referenced
// by groups and rules, then forced deletes whose surviving references read back is_valid=false.
func TestInUseDeleteAndForce(t *testing.T) {
	e := newEnv(t)
	set := e.ipset("set", "10.1.0.0/16")
	inner := e.group("inner", map[string]any{"members": []any{staticMember("IPSet", set.ID)}})
	outer := e.group("outer", map[string]any{"members": []any{staticMember("NSGroup", inner.ID)}})
	ruleGroup := e.group("rule-group", nil)
	sec := e.section("s", "")
	r := e.rule(sec.ID, map[string]any{"action": "DROP", "sources": []any{ref("NSGroup", ruleGroup.ID)}, "destinations": []any{ref("IPSet", set.ID)}}, "")

	e.fails("DELETE", groupsPath+"/"+inner.ID, nil, 400, nsxclient.ErrCodeResourceInUse)
	e.fails("DELETE", groupsPath+"/"+ruleGroup.ID, nil, 400, nsxclient.ErrCodeResourceInUse)
	e.fails("DELETE", apiPrefix+"/ip-sets/"+set.ID, nil, 400, nsxclient.ErrCodeResourceInUse)

	e.call("DELETE", groupsPath+"/"+ruleGroup.ID+"?force=true", nil, http.StatusOK, nil)
	e.call("DELETE", groupsPath+"/"+inner.ID+"?force=true", nil, http.StatusOK, nil)
	e.call("DELETE", apiPrefix+"/ip-sets/"+set.ID+"?force=true", nil, http.StatusOK, nil)

	var got nsxclient.FirewallRule
	e.call("GET", sectionsPath+"/"+sec.ID+"/rules/"+r.ID, nil, http.StatusOK, &got)
	if v := got.Sources[0].IsValid; v == nil || *v || got.Sources[0].TargetDisplayName != "rule-group" {
		t.Fatalf("source after forced delete: %+v", got.Sources[0])
	}
	if v := got.Destinations[0].IsValid; v == nil || *v {
		t.Fatalf("destination after forced delete: %+v", got.Destinations[0])
	}
	var invalid listPage[nsxclient.FirewallRule]
	e.call("GET", sectionsPath+"/"+sec.ID+"/rules?search_invalid_references=true", nil, http.StatusOK, &invalid)
	if len(invalid.Results) != 1 || invalid.Results[0].ID != r.ID {
		t.Fatalf("search_invalid_references: %+v", invalid.Results)
	}
	var filtered listPage[nsxclient.FirewallSection]
	e.call("GET", sectionsPath+"?sources="+ruleGroup.ID, nil, http.StatusOK, &filtered)
	if len(filtered.Results) != 1 || filtered.Results[0].ID != sec.ID {
		t.Fatalf("sections?sources=: %+v", filtered.Results)
	}
	var g nsxclient.NSGroup
	e.call("GET", groupsPath+"/"+outer.ID+"?populate_references=true", nil, http.StatusOK, &g)
	if tr := g.Members[0].TargetResource; tr == nil || tr.IsValid == nil || *tr.IsValid {
		t.Fatalf("nested member after forced delete: %+v", g.Members[0])
	}
	// The section applied_to case.
	grp := e.group("applied", nil)
	var s2 nsxclient.FirewallSection
	e.call("POST", sectionsPath, map[string]any{"section_type": "LAYER3", "stateful": true, "applied_tos": []any{ref("NSGroup", grp.ID)}}, http.StatusCreated, &s2)
	e.fails("DELETE", groupsPath+"/"+grp.ID, nil, 400, nsxclient.ErrCodeResourceInUse)
	e.call("DELETE", groupsPath+"/"+grp.ID+"?force=true", nil, http.StatusOK, nil)
	if at := e.getSection(s2.ID).AppliedTos[0]; at.IsValid == nil || *at.IsValid {
		t.Fatalf("section applied_to after forced delete: %+v", at)
	}
}

func TestEffectiveMembers(t *testing.T) {
	e := newEnv(t)
	p1 := e.port("a-1", "10.0.0.11", "app=a", "ncp/project=x1")
	p2 := e.port("a-2", "10.0.0.14", "app=a", "ncp/project=x1")
	e.port("b-1", "10.0.0.21", "app=b", "ncp/project=x1")
	set := e.ipset("extra", "192.168.0.0/30")
	g := e.group("a", map[string]any{
		"membership_criteria": []any{map[string]any{"resource_type": "NSGroupComplexExpression",
			"expressions": []any{tagCriterion("app", "a"), tagCriterion("ncp/project", "x1")}}},
		"members": []any{staticMember("IPSet", set.ID)},
	})
	var ports listPage[nsxclient.ResourceReference]
	e.call("GET", groupsPath+"/"+g.ID+"/effective-logical-port-members", nil, http.StatusOK, &ports)
	var ids []string
	for _, r := range ports.Results {
		ids = append(ids, r.TargetID)
	}
	want := []string{p1.ID, p2.ID}
	slices.Sort(want)
	if !slices.Equal(ids, want) || ports.Results[0].TargetType != "LogicalPort" {
		t.Fatalf("effective ports %v, want %v", ports.Results, want)
	}
	var ips listPage[string]
	e.call("GET", groupsPath+"/"+g.ID+"/effective-ip-address-members?page_size=2", nil, http.StatusOK, &ips)
	if len(ips.Results) != 2 || ips.Cursor == "" || *ips.ResultCount != 3 {
		t.Fatalf("effective IPs page: %+v", ips)
	}
	e.fails("GET", groupsPath+"/nope/effective-ip-address-members", nil, 404, nsxclient.ErrCodeNotFound)
	if got, ok := e.sim.EffectivePorts(g.ID); !ok || !slices.Equal(got, want) {
		t.Fatalf("Go EffectivePorts: %v %v", got, ok)
	}
	// A write invalidates the cached dataplane.
	e.port("a-3", "10.0.0.13", "app=a", "ncp/project=x1")
	if got, _ := e.sim.EffectivePorts(g.ID); len(got) != 3 {
		t.Fatalf("after adding a port: %v", got)
	}
}
