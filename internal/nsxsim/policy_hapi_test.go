package nsxsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

// TestHierarchicalPatchResolvesDependenciesInTheTree: a policy may come before the groups it
// uses; all land in one call.
func TestHierarchicalPatchResolvesDependenciesInTheTree(t *testing.T) {
	e := newEnv(t)
	body := nsxclient.NewInfra(nsxclient.DomainRef("default",
		nsxclient.ChildPolicy(policyBody("sec", "Environment", 100), allowTo("r1", 1, "web", "80")),
		nsxclient.ChildGroup(pgroupBody("web", nsxclient.TagEquals("SegmentPort", "app", "web"))),
	))
	if r := e.hapi(body, ""); r.status != http.StatusOK || len(r.body) != 0 {
		t.Fatalf("H-API PATCH: %s", r)
	}
	var sp nsxclient.SecurityPolicy
	e.pget(ppath("sec"), &sp)
	if len(sp.Rules) != 1 || sp.Rules[0].DestinationGroups[0] != gpath("web") {
		t.Fatalf("policy = %+v", sp)
	}
	if got := e.sim.Stats().Endpoints["PATCH /policy/api/v1/infra"]; got.Calls != 1 ||
		got.SimulatedTime != e.sim.opts.Cost.PerCall+3*e.sim.opts.Cost.PerPolicyObjectWritten {
		t.Errorf("stats = %+v: want one call charged for 3 objects", got)
	}
}

// TestHierarchicalPatchIsAllOrNothing: the last node of a body fails, and nothing of the body
// was applied.
func TestHierarchicalPatchIsAllOrNothing(t *testing.T) {
	e := newEnv(t)
	e.ppatch(gpath("keep"), pgroupBody("keep", nsxclient.TagEquals("SegmentPort", "app", "keep")))
	body := nsxclient.NewInfra(nsxclient.DomainRef("default",
		nsxclient.ChildGroup(pgroupBody("new", nsxclient.TagEquals("SegmentPort", "app", "new"))),
		nsxclient.ChildGroup(pgroupBody("keep", nsxclient.IPAddresses("10.0.0.1"))),
		nsxclient.DeleteGroupNode("keep"),
		nsxclient.ChildPolicy(policyBody("sec", "Application", 1), allowTo("r1", 1, "missing", "80")),
	))
	r := e.hapi(body, "")
	errBody := expectError(t, r, 400, nsxclient.ErrCodeFieldValidation)
	if !strings.Contains(errBody.ErrorMessage, gpath("missing")) {
		t.Errorf("error does not name the missing group: %s", errBody.ErrorMessage)
	}
	e.pfails("GET", gpath("new"), nil, 404, 0)
	e.pfails("GET", ppath("sec"), nil, 404, 0)
	var keep nsxclient.PolicyGroup
	e.pget(gpath("keep"), &keep)
	if *keep.Revision != 0 || keep.Expression[0].ResourceType != "Condition" {
		t.Errorf("keep changed: %+v", keep)
	}
}

func TestHierarchicalDeleteCascadesAndChecksReferences(t *testing.T) {
	e := newEnv(t)
	e.hapi(nsxclient.NewInfra(nsxclient.DomainRef("default",
		nsxclient.ChildGroup(pgroupBody("web", nsxclient.TagEquals("SegmentPort", "app", "web"))),
		nsxclient.ChildGroup(pgroupBody("db", nsxclient.TagEquals("SegmentPort", "app", "db"))),
		nsxclient.ChildPolicy(policyBody("p", "Application", 1), allowTo("r1", 1, "web", "80"), allowTo("r2", 2, "db", "5432")),
	)), "")
	// Deleting a group still used by a rule that stays: the whole call fails with 500030.
	r := e.hapi(nsxclient.NewInfra(nsxclient.DomainRef("default", nsxclient.DeleteGroupNode("db"))), "")
	expectError(t, r, 400, nsxclient.ErrCodeResourceInUse)
	// Deleting the rule in the same call makes it fine: dependencies are resolved in the tree.
	r = e.hapi(nsxclient.NewInfra(nsxclient.DomainRef("default", nsxclient.DeleteGroupNode("db"),
		nsxclient.ChildNode{ResourceType: "ChildResourceReference", ID: "p", TargetType: "SecurityPolicy",
			Children: []nsxclient.ChildNode{nsxclient.DeleteRuleNode("r2")}})), "")
	if r.status != 200 {
		t.Fatalf("delete rule and group: %s", r)
	}
	// A policy marked for delete takes its rules with it.
	if r := e.hapi(nsxclient.NewInfra(nsxclient.DomainRef("default", nsxclient.DeletePolicyNode("p"))), ""); r.status != 200 {
		t.Fatalf("delete policy: %s", r)
	}
	e.pfails("GET", rpath("p", "r1"), nil, 404, 0)
	// A ChildResourceReference must name an existing object.
	r = e.hapi(nsxclient.NewInfra(nsxclient.DomainRef("nope", nsxclient.ChildGroup(pgroupBody("x")))), "")
	expectError(t, r, 404, 0)
}

func TestHierarchicalRevisionCheck(t *testing.T) {
	e := newEnv(t)
	e.ppatch(gpath("web"), pgroupBody("web", nsxclient.TagEquals("SegmentPort", "app", "web")))
	stale := pgroupBody("web", nsxclient.TagEquals("SegmentPort", "app", "www"))
	stale.Revision = nsxclient.RevisionOf(5)
	body := nsxclient.NewInfra(nsxclient.DomainRef("default", nsxclient.ChildGroup(stale)))
	expectError(t, e.hapi(body, "?enforce_revision_check=true"), 412, 0)
	if r := e.hapi(body, "?enforce_revision_check=false"); r.status != 200 {
		t.Fatalf("without the check a stale revision is ignored: %s", r)
	}
	var g nsxclient.PolicyGroup
	e.pget(gpath("web"), &g)
	if g.Expression[0].Value != "app|www" || *g.Revision != 1 {
		t.Errorf("group = %+v", g)
	}
}

func TestHierarchicalLimitsAndShape(t *testing.T) {
	e := newEnv(t)
	var rules []nsxclient.PolicyRule
	for i := range 5000 {
		r := allowTo(fmt.Sprintf("r%d", i), int64(i), "web", "80")
		rules = append(rules, r)
	}
	big := nsxclient.NewInfra(nsxclient.DomainRef("default", nsxclient.ChildPolicy(policyBody("p", "Application", 1), rules...)))
	body := expectError(t, e.hapi(big, ""), 400, nsxclient.ErrCodeFieldValidation)
	if !strings.Contains(body.ErrorMessage, "5001 objects") {
		t.Errorf("message = %s", body.ErrorMessage)
	}
	for name, raw := range map[string]string{
		"not Infra":            `{"resource_type":"Domain","children":[]}`,
		"rule under a domain":  `{"resource_type":"Infra","children":[{"resource_type":"ChildResourceReference","id":"default","target_type":"Domain","children":[{"resource_type":"ChildRule","id":"r","Rule":{"id":"r"}}]}]}`,
		"wrapper without id":   `{"resource_type":"Infra","children":[{"resource_type":"ChildResourceReference","id":"default","target_type":"Domain","children":[{"resource_type":"ChildGroup","Group":{"id":"g"}}]}]}`,
		"wrapper without body": `{"resource_type":"Infra","children":[{"resource_type":"ChildDomain","id":"d"}]}`,
		"ids disagree":         `{"resource_type":"Infra","children":[{"resource_type":"ChildDomain","id":"d","Domain":{"id":"e"}}]}`,
	} {
		r := e.request("PATCH", policyPrefix+"/infra", json.RawMessage(raw))
		if r.status != 400 {
			t.Errorf("%s: %s", name, r)
		}
	}
}

func TestHierarchicalRead(t *testing.T) {
	e := newEnv(t)
	e.hapi(nsxclient.NewInfra(nsxclient.DomainRef("default",
		nsxclient.ChildGroup(pgroupBody("web", nsxclient.TagEquals("SegmentPort", "app", "web"))),
		nsxclient.ChildPolicy(policyBody("p", "Application", 1), allowTo("r1", 1, "web", "80")),
	)), "")
	var infra nsxclient.Infra
	e.pget("/infra", &infra)
	if infra.ID != "infra" || len(infra.Children) != 0 {
		t.Errorf("plain GET /infra = %+v", infra)
	}
	e.pget("/infra?filter=Type-Domain%7CGroup%7CSecurityPolicy%7CRule&base_path=/infra/domains/default", &infra)
	if len(infra.Children) != 1 || infra.Children[0].ResourceType != "ChildDomain" || infra.Children[0].Domain == nil {
		t.Fatalf("GET /infra subtree = %+v", infra)
	}
	var groups, policies, rules int
	for _, ch := range infra.Children[0].Domain.Children {
		switch ch.ResourceType {
		case "ChildGroup":
			groups++
		case "ChildSecurityPolicy":
			policies++
			for _, rc := range ch.SecurityPolicy.Children {
				if rc.Rule != nil {
					rules++
				}
			}
		}
	}
	if groups != 1 || policies != 2 || rules != 2 { // with NSX's default policy and rule
		t.Errorf("groups %d, policies %d, rules %d", groups, policies, rules)
	}
	// Only rules asked for: their ancestors appear as references.
	e.pget("/infra?filter=Type-Rule", &infra)
	if infra.Children[0].ResourceType != "ChildResourceReference" || infra.Children[0].Children[0].ResourceType != "ChildResourceReference" {
		t.Errorf("rules-only read = %+v", infra.Children[0])
	}
	e.pfails("GET", "/infra?filter=Type-Service", nil, 400, 0)
	e.pfails("GET", "/infra?filter=Group", nil, 400, 0)
}
