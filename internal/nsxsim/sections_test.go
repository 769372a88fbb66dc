package nsxsim

import (
	"net/http"
	"slices"
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

const sectionsPath = apiPrefix + "/firewall/sections"

func TestDefaultSections(t *testing.T) {
	e := newEnv(t)
	var page listPage[nsxclient.FirewallSection]
	e.call("GET", sectionsPath, nil, http.StatusOK, &page)
	if len(page.Results) != 1 || page.ResultCount == nil || *page.ResultCount != 1 || page.Cursor != "" {
		t.Fatalf("LAYER3 list: %+v", page)
	}
	def := page.Results[0]
	if def.DisplayName != defaultL3SectionName || !def.IsDefault || def.SectionType != "LAYER3" || def.RuleCount != 1 {
		t.Fatalf("default section: %+v", def)
	}
	var rules listPage[nsxclient.FirewallRule]
	e.call("GET", sectionsPath+"/"+def.ID+"/rules", nil, http.StatusOK, &rules)
	r := rules.Results[0]
	if !r.IsDefault || r.Action != "ALLOW" || r.Direction != "IN_OUT" || r.SectionID != def.ID {
		t.Fatalf("default rule: %+v", r)
	}
	if got := e.sectionNames("LAYER2"); !slices.Equal(got, []string{defaultL2SectionName}) {
		t.Fatalf("LAYER2 sections: %v", got)
	}
	e.fails("GET", sectionsPath+"?type=L3", nil, 400, nsxclient.ErrCodeFieldValidation)
	e.fails("DELETE", sectionsPath+"/"+def.ID+"?cascade=true", nil, 400, 0)
	e.fails("POST", sectionsPath+"/"+def.ID+"?action=revise", map[string]any{"section_type": "LAYER3", "stateful": true, "_revision": def.Revision}, 400, 0)
}

func TestSectionPositions(t *testing.T) {
	e := newEnv(t)
	a := e.section("a", "")                                // [a, default]
	b := e.section("b", "?operation=insert_bottom")        // [a, b, default]: bottom is above the default
	c := e.section("c", "")                                // insert_top by default: [c, a, b, default]
	e.section("d", "?operation=insert_before&id="+b.ID)    // [c, a, d, b, default]
	e.section("e", "?operation=insert_after&id="+a.ID)     // [c, a, e, d, b, default]
	def := e.getSection(e.sim.st.defaultSection["LAYER3"]) //
	e.section("f", "?operation=insert_before&id="+def.ID)  // just above the default
	want := []string{"c", "a", "e", "d", "b", "f", defaultL3SectionName}
	if got := e.sectionNames(""); !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	if got := e.getSection(c.ID).Priority; got != 1 {
		t.Fatalf("priority of the top section = %d", got)
	}
	body := map[string]any{"section_type": "LAYER3", "stateful": true}
	e.fails("POST", sectionsPath+"?operation=insert_after&id="+def.ID, body, 400, nsxclient.ErrCodeFieldValidation)
	e.fails("POST", sectionsPath+"?operation=insert_before", body, 400, nsxclient.ErrCodeFieldValidation)
	e.fails("POST", sectionsPath+"?operation=insert_before&id=nope", body, 400, nsxclient.ErrCodeFieldValidation)
	e.fails("POST", sectionsPath+"?operation=middle", body, 400, nsxclient.ErrCodeFieldValidation)

	// revise moves: default insert_top, then bottom, then after another section.
	revise := func(id, query string) {
		t.Helper()
		sec := e.getSection(id)
		in := map[string]any{"display_name": sec.DisplayName, "section_type": "LAYER3", "stateful": true, "_revision": sec.Revision}
		var out nsxclient.FirewallSection
		e.call("POST", sectionsPath+"/"+id+"?action=revise"+query, in, http.StatusOK, &out)
		if out.Revision != sec.Revision+1 {
			t.Fatalf("revise did not bump the revision: %d → %d", sec.Revision, out.Revision)
		}
	}
	revise(b.ID, "")
	revise(c.ID, "&operation=insert_bottom")
	revise(a.ID, "&operation=insert_after&id="+b.ID)
	want = []string{"b", "a", "e", "d", "f", "c", defaultL3SectionName}
	if got := e.sectionNames(""); !slices.Equal(got, want) {
		t.Fatalf("after revise %v, want %v", got, want)
	}
	stale := map[string]any{"section_type": "LAYER3", "stateful": true, "_revision": 0}
	e.fails("POST", sectionsPath+"/"+a.ID+"?action=revise", stale, 409, 0)
}

func TestSectionUpdateRevisionAndDelete(t *testing.T) {
	e := newEnv(t)
	sec := e.section("s", "")
	path := sectionsPath + "/" + sec.ID
	upd := map[string]any{"display_name": "renamed", "section_type": "LAYER3", "stateful": true, "_revision": sec.Revision,
		"tags": []map[string]string{{"scope": "owner", "tag": "microseg"}}}
	var out nsxclient.FirewallSection
	e.call("PUT", path, upd, http.StatusOK, &out)
	if out.DisplayName != "renamed" || out.Revision != 1 || len(out.Tags) != 1 || out.CreateUser != testUser {
		t.Fatalf("PUT result %+v", out)
	}
	e.fails("PUT", path, upd, 409, 0) // stale revision 0
	delete(upd, "_revision")
	e.fails("PUT", path, upd, 409, 0) // missing revision
	upd["_revision"], upd["stateful"] = 1, false
	e.fails("PUT", path, upd, 400, nsxclient.ErrCodeFieldValidation) // stateful is immutable
	e.fails("GET", sectionsPath+"/no-such-section", nil, 404, nsxclient.ErrCodeNotFound)

	e.rule(sec.ID, allowRule("r1"), "")
	if got := e.getSection(sec.ID); got.Revision != 2 || got.RuleCount != 1 {
		t.Fatalf("a rule create must bump the section revision and rule_count: %+v", got)
	}
	e.fails("DELETE", path, nil, 400, nsxclient.ErrCodeResourceInUse)
	e.call("DELETE", path+"?cascade=true", nil, http.StatusOK, nil)
	e.fails("GET", path, nil, 404, nsxclient.ErrCodeNotFound)
	empty := e.section("empty", "")
	e.call("DELETE", sectionsPath+"/"+empty.ID, nil, http.StatusOK, nil)
}

func TestSectionWithRules(t *testing.T) {
	e := newEnv(t)
	body := map[string]any{"display_name": "bulk", "section_type": "LAYER3", "stateful": true,
		"rules": []map[string]any{allowRule("r1"), allowRule("r2"), {"display_name": "r3", "action": "DROP"}}}
	var created nsxclient.FirewallSectionRuleList
	e.call("POST", sectionsPath+"?action=create_with_rules&operation=insert_bottom", body, http.StatusCreated, &created)
	if len(created.Rules) != 3 || created.ResourceType != "FirewallSectionRuleList" || created.RuleCount != 3 {
		t.Fatalf("create_with_rules: %+v", created)
	}
	path := sectionsPath + "/" + created.ID

	// update_with_rules: r2 kept (id sent), r1 and r3 dropped, a new rule added in front.
	kept := created.Rules[1]
	upd := map[string]any{"display_name": "bulk2", "section_type": "LAYER3", "stateful": true, "_revision": created.Revision,
		"rules": []map[string]any{{"display_name": "new", "action": "REJECT"}, {"id": kept.ID, "display_name": "r2b", "action": "DROP", "_revision": kept.Revision}}}
	var updated nsxclient.FirewallSectionRuleList
	e.call("POST", path+"?action=update_with_rules", upd, http.StatusOK, &updated)
	if len(updated.Rules) != 2 || updated.Rules[1].ID != kept.ID || updated.Rules[0].ID == created.Rules[0].ID ||
		updated.Rules[1].Action != "DROP" || updated.DisplayName != "bulk2" || updated.Revision != created.Revision+1 {
		t.Fatalf("update_with_rules: %+v", updated)
	}
	if updated.Rules[0].Priority != 1 || updated.Rules[1].Priority != 2 {
		t.Fatalf("priorities: %+v", updated.Rules)
	}
	e.fails("GET", apiPrefix+"/firewall/rules/"+created.Rules[0].ID, nil, 404, nsxclient.ErrCodeNotFound)
	e.fails("POST", path+"?action=update_with_rules", upd, 409, 0) // stale now

	// list_with_rules is a read.
	var listed nsxclient.FirewallSectionRuleList
	e.call("POST", path+"?action=list_with_rules", nil, http.StatusOK, &listed)
	if len(listed.Rules) != 2 || listed.Revision != updated.Revision {
		t.Fatalf("list_with_rules: %+v", listed)
	}

	// revise_with_rules also moves (default insert_top).
	other := e.section("other", "")
	upd["_revision"] = updated.Revision
	upd["rules"] = []map[string]any{}
	e.call("POST", path+"?action=revise_with_rules&operation=insert_before&id="+other.ID, upd, http.StatusOK, nil)
	if got := e.sectionNames(""); !slices.Equal(got, []string{"bulk2", "other", defaultL3SectionName}) {
		t.Fatalf("after revise_with_rules: %v", got)
	}
	if e.getSection(created.ID).RuleCount != 0 {
		t.Fatal("revise_with_rules with no rules must empty the section")
	}
}

func TestDefaultSectionUpdateWithRulesKeepsDefaultRuleLast(t *testing.T) {
	e := newEnv(t)
	defID := e.sim.st.defaultSection["LAYER3"]
	var cur nsxclient.FirewallSectionRuleList
	e.call("POST", sectionsPath+"/"+defID+"?action=list_with_rules", nil, http.StatusOK, &cur)
	defRule := cur.Rules[0]
	body := map[string]any{"display_name": cur.DisplayName, "section_type": "LAYER3", "stateful": true, "_revision": cur.Revision,
		"rules": []map[string]any{{"id": defRule.ID, "action": "DROP"}, allowRule("extra")}}
	e.fails("POST", sectionsPath+"/"+defID+"?action=update_with_rules", body, 400, errCodeDefaultRulePosition)
	body["rules"] = []map[string]any{allowRule("extra"), {"id": defRule.ID, "display_name": "Default Layer3 Rule", "action": "DROP"}}
	var out nsxclient.FirewallSectionRuleList
	e.call("POST", sectionsPath+"/"+defID+"?action=update_with_rules", body, http.StatusOK, &out)
	last := out.Rules[len(out.Rules)-1]
	if last.ID != defRule.ID || !last.IsDefault || last.Action != "DROP" {
		t.Fatalf("default rule after update: %+v", last)
	}
}
