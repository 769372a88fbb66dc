package nsxsim

import (
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

func TestRuleCreateNeedsSectionRevision(t *testing.T) {
	e := newEnv(t)
	sec := e.section("s", "")
	path := sectionsPath + "/" + sec.ID + "/rules"
	e.fails("POST", path, allowRule("no-revision"), 409, 0)
	stale := allowRule("stale")
	stale["_revision"] = sec.Revision + 5
	e.fails("POST", path, stale, 409, 0)

	r1 := e.rule(sec.ID, allowRule("r1"), "")
	r2 := e.rule(sec.ID, allowRule("r2"), "")
	id1, _ := strconv.Atoi(r1.ID)
	id2, _ := strconv.Atoi(r2.ID)
	if id1 == 0 || id2 <= id1 {
		t.Fatalf("rule ids must be increasing numeric strings: %q, %q", r1.ID, r2.ID)
	}
	if r1.SectionID != sec.ID || r1.ResourceType != "FirewallRule" || r1.Direction != "IN_OUT" || r1.IPProtocol != "IPV4_IPV6" {
		t.Fatalf("rule defaults: %+v", r1)
	}
	if got := e.ruleNames(sec.ID); !slices.Equal(got, []string{"r2", "r1"}) {
		t.Fatalf("insert_top default: %v", got)
	}
}

func TestRulePositionsAndMoves(t *testing.T) {
	e := newEnv(t)
	sec := e.section("s", "")
	a := e.rule(sec.ID, allowRule("a"), "")
	b := e.rule(sec.ID, allowRule("b"), "?operation=insert_bottom")
	e.rule(sec.ID, allowRule("c"), "?operation=insert_before&id="+b.ID)
	e.rule(sec.ID, allowRule("d"), "?operation=insert_after&id="+a.ID)
	if got := e.ruleNames(sec.ID); !slices.Equal(got, []string{"a", "d", "c", "b"}) {
		t.Fatalf("order %v", got)
	}
	cur := e.getSection(sec.ID)
	multi := map[string]any{"rules": []map[string]any{
		{"display_name": "m1", "action": "DROP", "_revision": cur.Revision},
		{"display_name": "m2", "action": "DROP", "_revision": cur.Revision}}}
	var out nsxclient.FirewallRuleList
	e.call("POST", sectionsPath+"/"+sec.ID+"/rules?action=create_multiple&operation=insert_after&id="+a.ID, multi, http.StatusOK, &out)
	if len(out.Rules) != 2 || out.Rules[0].Priority != 2 {
		t.Fatalf("create_multiple: %+v", out.Rules)
	}
	if got := e.ruleNames(sec.ID); !slices.Equal(got, []string{"a", "m1", "m2", "d", "c", "b"}) {
		t.Fatalf("order %v", got)
	}
	e.fails("POST", sectionsPath+"/"+sec.ID+"/rules?action=create_multiple", multi, 409, 0) // stale revisions now

	// revise moves a rule; its own _revision must be current.
	rulePath := sectionsPath + "/" + sec.ID + "/rules/" + b.ID
	var moved nsxclient.FirewallRule
	e.call("POST", rulePath+"?action=revise", map[string]any{"display_name": "b", "action": "REJECT", "_revision": b.Revision}, http.StatusOK, &moved)
	if moved.Revision != b.Revision+1 || moved.Action != "REJECT" || moved.Priority != 1 {
		t.Fatalf("revise: %+v", moved)
	}
	e.fails("POST", rulePath+"?action=revise", map[string]any{"action": "ALLOW", "_revision": b.Revision}, 409, 0)
	e.fails("POST", rulePath+"?action=revise&operation=insert_after&id="+b.ID, map[string]any{"action": "ALLOW", "_revision": moved.Revision}, 400, 0)
	if got := e.ruleNames(sec.ID); !slices.Equal(got, []string{"b", "a", "m1", "m2", "d", "c"}) {
		t.Fatalf("order %v", got)
	}
}

func TestRuleGetPutDelete(t *testing.T) {
	e := newEnv(t)
	sec := e.section("s", "")
	r := e.rule(sec.ID, allowRule("r"), "")
	path := sectionsPath + "/" + sec.ID + "/rules/" + r.ID
	var got nsxclient.FirewallRule
	e.call("GET", path, nil, http.StatusOK, &got)
	e.call("GET", apiPrefix+"/firewall/rules/"+r.ID, nil, http.StatusOK, &got)
	if got.ID != r.ID || got.SectionID != sec.ID {
		t.Fatalf("GET rule: %+v", got)
	}
	secRev := e.getSection(sec.ID).Revision
	var put nsxclient.FirewallRule
	e.call("PUT", path, map[string]any{"display_name": "r2", "action": "DROP", "direction": "IN", "_revision": r.Revision}, http.StatusOK, &put)
	if put.Revision != r.Revision+1 || put.Direction != "IN" || put.ID != r.ID {
		t.Fatalf("PUT rule: %+v", put)
	}
	if e.getSection(sec.ID).Revision != secRev+1 {
		t.Fatal("a rule PUT must bump the section revision")
	}
	e.fails("PUT", path, map[string]any{"action": "DROP", "_revision": r.Revision}, 409, 0)
	e.fails("PUT", path, map[string]any{"action": "DROP"}, 409, 0)
	e.call("DELETE", path, nil, http.StatusOK, nil)
	e.fails("GET", path, nil, 404, nsxclient.ErrCodeNotFound)
	e.fails("DELETE", path, nil, 404, nsxclient.ErrCodeNotFound)
	e.fails("GET", sectionsPath+"/nope/rules", nil, 404, nsxclient.ErrCodeNotFound)

	// The default rule cannot be deleted or moved, and nothing goes below it.
	defID := e.sim.st.defaultSection["LAYER3"]
	defRule := e.sim.st.rules[defID][0]
	e.fails("DELETE", sectionsPath+"/"+defID+"/rules/"+defRule.ID, nil, 400, 0)
	extra := e.rule(defID, allowRule("above-default"), "?operation=insert_bottom")
	if got := e.ruleNames(defID); !slices.Equal(got, []string{"above-default", defaultL3RuleName}) {
		t.Fatalf("default section rules %v (extra %s)", got, extra.ID)
	}
	body := allowRule("x")
	body["_revision"] = e.getSection(defID).Revision
	e.fails("POST", sectionsPath+"/"+defID+"/rules?operation=insert_after&id="+defRule.ID, body, 400, nsxclient.ErrCodeFieldValidation)
}

func TestRuleListPagination(t *testing.T) {
	e := newEnv(t)
	rules := make([]map[string]any, 25)
	for i := range rules {
		rules[i] = allowRule("r" + strconv.Itoa(i))
	}
	var sec nsxclient.FirewallSectionRuleList
	e.call("POST", sectionsPath+"?action=create_with_rules", map[string]any{"section_type": "LAYER3", "stateful": true, "rules": rules}, http.StatusCreated, &sec)
	var names []string
	cursor, pages := "", 0
	for {
		var page listPage[nsxclient.FirewallRule]
		q := "?page_size=10"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		e.call("GET", sectionsPath+"/"+sec.ID+"/rules"+q, nil, http.StatusOK, &page)
		if (pages == 0) != (page.ResultCount != nil) {
			t.Fatalf("page %d: result_count must be on the first page only: %+v", pages, page.ResultCount)
		}
		if pages == 0 && *page.ResultCount != 25 {
			t.Fatalf("result_count %d", *page.ResultCount)
		}
		for _, r := range page.Results {
			names = append(names, r.DisplayName)
		}
		pages++
		if page.Cursor == "" {
			break
		}
		cursor = page.Cursor
	}
	if pages != 3 || len(names) != 25 || names[0] != "r0" || names[24] != "r24" {
		t.Fatalf("%d pages, names %v", pages, names)
	}
	e.fails("GET", sectionsPath+"/"+sec.ID+"/rules?page_size=1001", nil, 400, nsxclient.ErrCodeFieldValidation)
	e.fails("GET", sectionsPath+"/"+sec.ID+"/rules?cursor=garbage", nil, 400, nsxclient.ErrCodeFieldValidation)
}
