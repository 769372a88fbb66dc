package nsxsim

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/microseg/microseg/nsxclient"
)

func TestPolicyDefaultsAndReadOnlyFields(t *testing.T) {
	e := newEnv(t)
	var d nsxclient.PolicyDomain
	e.pget("/infra/domains/default", &d)
	if !d.SystemOwned || d.Path != "/infra/domains/default" || d.Revision == nil {
		t.Errorf("default domain = %+v", d)
	}
	var sp nsxclient.SecurityPolicy
	e.pget(ppath("default-layer3-section"), &sp)
	if !sp.IsDefault || sp.Category != "Application" || len(sp.Rules) != 1 || !sp.Rules[0].IsDefault || sp.Rules[0].Action != "ALLOW" {
		t.Errorf("default policy = %+v", sp)
	}
	e.pfails("DELETE", ppath("default-layer3-section"), nil, 400, nsxclient.ErrCodeFieldValidation)
	e.pfails("DELETE", "/infra/domains/default", nil, 400, 0)
}

func TestPolicyPatchMergesGroupsAndReplacesPolicies(t *testing.T) {
	e := newEnv(t)
	g := pgroupBody("web", nsxclient.TagEquals("SegmentPort", "app", "web"))
	g.DisplayName, g.Tags = "Web", []nsxclient.Tag{tag("owner", "microseg")}
	e.ppatch(gpath("web"), g)
	var got nsxclient.PolicyGroup
	e.pget(gpath("web"), &got)
	if *got.Revision != 0 || got.Path != gpath("web") || got.UniqueID == "" || got.State != "SUCCESS" || got.Protection != "NOT_PROTECTED" {
		t.Fatalf("created group = %+v", got)
	}
	// A PATCH with only a description keeps the rest (merge) and bumps the revision.
	e.ppatch(gpath("web"), map[string]any{"description": "web tier"})
	e.pget(gpath("web"), &got)
	if got.DisplayName != "Web" || got.Description != "web tier" || len(got.Expression) != 1 || *got.Revision != 1 {
		t.Errorf("merged group = %+v", got)
	}

	e.ppatch(ppath("p"), policyBody("p", "Application", 10, allowTo("r1", 1, "web", "80"), allowTo("r2", 2, "web", "443")))
	// A PATCH without rules replaces the policy's attributes (defaults come back) but keeps the
	// rules; with rules, it replaces the rule set.
	e.ppatch(ppath("p"), map[string]any{"category": "Application", "sequence_number": 20, "display_name": "renamed"})
	var sp nsxclient.SecurityPolicy
	e.pget(ppath("p"), &sp)
	if sp.SequenceNumber != 20 || sp.DisplayName != "renamed" || len(sp.Rules) != 2 || !*sp.Stateful || !*sp.TCPStrict {
		t.Fatalf("policy after attribute PATCH = %+v", sp)
	}
	e.ppatch(ppath("p"), policyBody("p", "Application", 20, allowTo("r2", 1, "web", "8443")))
	e.pget(ppath("p"), &sp)
	if len(sp.Rules) != 1 || sp.Rules[0].ID != "r2" || sp.Rules[0].ServiceEntries[0].DestinationPorts[0] != "8443" || sp.Rules[0].RuleID == 0 {
		t.Fatalf("rules after PATCH with rules = %+v", sp.Rules)
	}
	e.pfails("GET", rpath("p", "r1"), nil, 404, 0)
}

func TestPolicyPatchCanKeepOmittedRules(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PolicyPatchKeepsOmittedRules = true })
	e.ppatch(gpath("web"), pgroupBody("web", nsxclient.TagEquals("SegmentPort", "app", "web")))
	e.ppatch(ppath("p"), policyBody("p", "Application", 10, allowTo("r1", 1, "web", "80")))
	e.ppatch(ppath("p"), policyBody("p", "Application", 10, allowTo("r2", 2, "web", "443")))
	var sp nsxclient.SecurityPolicy
	e.pget(ppath("p"), &sp)
	if len(sp.Rules) != 2 {
		t.Errorf("rules = %d, want both kept", len(sp.Rules))
	}
}

func TestPolicyRevisions(t *testing.T) {
	e := newEnv(t)
	e.ppatch(gpath("web"), pgroupBody("web", nsxclient.TagEquals("SegmentPort", "app", "web")))
	// PUT of an existing object needs the current revision: none or a stale one is 412.
	e.pfails("PUT", gpath("web"), pgroupBody("web", nsxclient.IPAddresses("10.0.0.1")), 412, 0)
	stale := pgroupBody("web", nsxclient.IPAddresses("10.0.0.1"))
	stale.Revision = nsxclient.RevisionOf(7)
	e.pfails("PUT", gpath("web"), stale, 412, 0)
	// A PATCH carrying a stale revision is refused too (strict); one without is not checked.
	e.pfails("PATCH", gpath("web"), stale, 412, 0)
	current := pgroupBody("web", nsxclient.IPAddresses("10.0.0.1"))
	current.Revision = nsxclient.RevisionOf(0)
	var got nsxclient.PolicyGroup
	e.call("PUT", policyPrefix+gpath("web"), current, 200, &got)
	if *got.Revision != 1 || got.Expression[0].ResourceType != "IPAddressExpression" {
		t.Errorf("PUT answered %+v", got)
	}
	// A rule change bumps its policy, so a PUT of the policy built on the old rules is stale.
	e.ppatch(gpath("app"), pgroupBody("app", nsxclient.TagEquals("SegmentPort", "app", "x")))
	e.ppatch(ppath("p"), policyBody("p", "Application", 1, allowTo("r1", 1, "app", "80")))
	var sp nsxclient.SecurityPolicy
	e.pget(ppath("p"), &sp)
	e.ppatch(rpath("p", "r2"), allowTo("r2", 2, "app", "81"))
	sp.Rules = nil
	e.pfails("PUT", ppath("p"), sp, 412, 0)
}

func TestPolicyDeletionLifecycle(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PolicyDeleteDelay = 10 * time.Second })
	e.ppatch(gpath("web"), pgroupBody("web", nsxclient.TagEquals("SegmentPort", "app", "web")))
	e.ppatch(ppath("p"), policyBody("p", "Application", 1, allowTo("r1", 1, "web", "80")))
	// In use by a rule: 500030, naming the rule.
	body := e.pfails("DELETE", gpath("web"), nil, 400, nsxclient.ErrCodeResourceInUse)
	if !strings.Contains(body.ErrorMessage, rpath("p", "r1")) {
		t.Errorf("in-use message does not name the rule: %s", body.ErrorMessage)
	}
	e.call("DELETE", policyPrefix+ppath("p"), nil, http.StatusNoContent, nil)
	e.call("DELETE", policyPrefix+gpath("web"), nil, http.StatusNoContent, nil)
	// Marked for delete: hidden from GET and plain lists, listed on request, path blocked.
	e.pfails("GET", gpath("web"), nil, 404, 0)
	e.pfails("DELETE", gpath("web"), nil, 404, 0)
	var list nsxclient.ListResult[nsxclient.PolicyGroup]
	e.pget("/infra/domains/default/groups", &list)
	if len(list.Results) != 0 {
		t.Errorf("plain list shows %d groups", len(list.Results))
	}
	e.pget("/infra/domains/default/groups?include_mark_for_delete_objects=true", &list)
	if len(list.Results) != 1 || !list.Results[0].MarkedForDelete {
		t.Errorf("list with deleted objects = %+v", list.Results)
	}
	e.pfails("PATCH", gpath("web"), pgroupBody("web"), 400, nsxclient.ErrCodePendingDelete)
	e.pfails("PATCH", rpath("p", "r1"), allowTo("r1", 1, "web"), 400, nsxclient.ErrCodePendingDelete)
	e.clock.Advance(10 * time.Second)
	e.ppatch(gpath("web"), pgroupBody("web"))
}

func TestPolicyLists(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.DefaultPageSize = 2 })
	for _, id := range []string{"c", "a", "b", "e", "d"} {
		e.ppatch(gpath(id), pgroupBody(id, nsxclient.TagEquals("SegmentPort", "app", id)))
	}
	e.ppatch(gpath("ips"), pgroupBody("ips", nsxclient.IPAddresses("10.0.0.0/8")))
	var page nsxclient.ListResult[nsxclient.PolicyGroup]
	e.pget("/infra/domains/default/groups", &page)
	if len(page.Results) != 2 || page.Results[0].ID != "a" || page.Cursor == "" || page.ResultCount != 6 {
		t.Fatalf("first page = %+v", page)
	}
	var second nsxclient.ListResult[nsxclient.PolicyGroup]
	e.pget("/infra/domains/default/groups?cursor="+page.Cursor, &second)
	if second.Results[0].ID != "c" || second.ResultCount != 0 || second.Results[0].DisplayName != "c" {
		t.Errorf("second page = %+v", second)
	}
	e.pget("/infra/domains/default/groups?page_size=10&member_types=IPAddress", &page)
	if len(page.Results) != 1 || page.Results[0].ID != "ips" {
		t.Errorf("member_types=IPAddress = %+v", page.Results)
	}
	e.pfails("GET", "/infra/domains/default/groups?page_size=1001", nil, 400, 0)
	e.pfails("GET", "/infra/domains/nope/groups", nil, 404, 0)
}

func TestPolicyProtectedPrincipals(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.Users["ncp"] = "ncp-pass"
		o.ProtectedPrincipals = []string{"ncp"}
	})
	asNCP := func(r *http.Request) { r.SetBasicAuth("ncp", "ncp-pass") }
	r := e.request("PATCH", policyPrefix+gpath("ncp-owned"), pgroupBody("ncp-owned", nsxclient.TagEquals("SegmentPort", "app", "x")), asNCP)
	if r.status != http.StatusNoContent {
		t.Fatalf("NCP's own write: %s", r)
	}
	var g nsxclient.PolicyGroup
	e.pget(gpath("ncp-owned"), &g)
	if g.Protection != "REQUIRE_OVERRIDE" {
		t.Errorf("_protection seen by another user = %q", g.Protection)
	}
	e.pfails("PATCH", gpath("ncp-owned"), map[string]any{"description": "mine now"}, 400, nsxclient.ErrCodeNotOwner)
	e.pfails("DELETE", gpath("ncp-owned"), nil, 400, nsxclient.ErrCodeNotOwner)
	r = e.request("PATCH", policyPrefix+gpath("ncp-owned"), map[string]any{"description": "override"}, func(r *http.Request) {
		r.Header.Set("X-Allow-Overwrite", "true")
	})
	if r.status != http.StatusNoContent {
		t.Errorf("override: %s", r)
	}
}
