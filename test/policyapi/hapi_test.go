package policyapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/microseg/microseg/nsxclient"
)

// readAll is the whole DFW subtree as ReadInfra returns it, for before/after comparisons.
func readAll(t *testing.T, p *nsxclient.PolicyClient) string {
	t.Helper()
	infra := get[*nsxclient.Infra](t)(p.ReadInfra(t.Context(), nsxclient.ReadInfraOptions{
		Types: []string{"Domain", "Group", "SecurityPolicy", "Rule", "Segment", "SegmentPort"}}))
	b, err := json.Marshal(infra)
	must(t, err)
	return string(b)
}

// TestHierarchicalPatchIsAllOrNothing: a body whose last node is invalid changes nothing, even
// though its first nodes were valid creates, updates and deletes.
func TestHierarchicalPatchIsAllOrNothing(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	seedPolicy(ctx, t, h.p)
	before := readAll(t, h.p)
	err := h.p.PatchInfra(ctx, nsxclient.NewInfra(
		nsxclient.ChildSegment(nsxclient.Segment{PolicyResource: nsxclient.PolicyResource{ID: "node-9"}}),
		nsxclient.DomainRef(dom,
			nsxclient.ChildGroup(group("new", portTag("app", "new"))),
			nsxclient.ChildGroup(group("db", portTag("app", "changed"))),
			nsxclient.ChildNode{ResourceType: nsxclient.ChildResourceReference, ID: "app", TargetType: nsxclient.ResourceSecurityPolicy,
				Children: []nsxclient.ChildNode{nsxclient.DeleteRuleNode("r1")}},
			nsxclient.ChildPolicy(policy("broken", nsxclient.CategoryApplication, 50), rule("x", nsxclient.ActionDrop, 1, to(gpath("missing")))),
		)), nsxclient.PatchInfraOptions{})
	if !nsxclient.IsValidation(err) || !strings.Contains(err.Error(), gpath("missing")) {
		t.Fatalf("err = %v, want a validation error naming the missing group", err)
	}
	if after := readAll(t, h.p); after != before {
		t.Errorf("a failed hierarchical PATCH changed the tree:\nbefore %s\nafter  %s", before, after)
	}
	if _, err := h.p.GetSegment(ctx, "node-9"); !nsxclient.IsNotFound(err) {
		t.Errorf("segment of the failed body: %v", err)
	}
}

// TestHierarchicalPatchOrdersTheTree: objects may come in any order inside one body; deletes
// take their subtree; revisions are checked only on request.
func TestHierarchicalPatchOrdersTheTree(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	must(t, h.p.PatchInfra(ctx, nsxclient.NewInfra(nsxclient.DomainRef(dom,
		nsxclient.ChildPolicy(policy("p", nsxclient.CategoryApplication, 1),
			rule("r1", nsxclient.ActionAllow, 1, from(gpath("a")), to(gpath("b")), tcp("80")),
			rule("r2", nsxclient.ActionDrop, 2, to(gpath("b")), in())),
		nsxclient.ChildGroup(group("b", portTag("app", "b"))),
		nsxclient.ChildGroup(group("a", nsxclient.Paths(gpath("b")))),
	)), nsxclient.PatchInfraOptions{}))
	sp := get[*nsxclient.SecurityPolicy](t)(h.p.GetSecurityPolicy(ctx, dom, "p"))
	if len(sp.Rules) != 2 || sp.Rules[0].ID != "r1" {
		t.Fatalf("policy = %+v", sp.Rules)
	}
	// A stale revision is ignored without the check and refused with it.
	stale := group("b", portTag("app", "bb"))
	stale.Revision = nsxclient.RevisionOf(9)
	body := nsxclient.NewInfra(nsxclient.DomainRef(dom, nsxclient.ChildGroup(stale)))
	if err := h.p.PatchInfra(ctx, body, nsxclient.PatchInfraOptions{EnforceRevisionCheck: true}); !nsxclient.IsStaleRevision(err) {
		t.Errorf("with enforce_revision_check: %v", err)
	}
	must(t, h.p.PatchInfra(ctx, body, nsxclient.PatchInfraOptions{}))
	// Deleting the policy takes its rules; then its groups are free to go.
	must(t, h.p.PatchInfra(ctx, nsxclient.NewInfra(nsxclient.DomainRef(dom,
		nsxclient.DeleteGroupNode("a"), nsxclient.DeleteGroupNode("b"), nsxclient.DeletePolicyNode("p"))), nsxclient.PatchInfraOptions{}))
	if _, err := h.p.GetRule(ctx, dom, "p", "r1"); !nsxclient.IsNotFound(err) {
		t.Errorf("rule of the deleted policy: %v", err)
	}
}

// TestHierarchicalPatchSize: 5000 objects go in one call, charged per object by the cost
// model; 5001 are refused by the client before anything is sent.
func TestHierarchicalPatchSize(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	must(t, h.p.PatchGroup(ctx, dom, group("web", portTag("app", "web"))))
	var rules []nsxclient.PolicyRule
	for i := range nsxclient.MaxHierarchicalObjects - 1 {
		rules = append(rules, rule(fmt.Sprintf("r%04d", i), nsxclient.ActionAllow, int64(i), to(gpath("web")), tcp(fmt.Sprint(1024+i%60000))))
	}
	h.sim.ResetStats()
	must(t, h.p.PatchInfra(ctx, nsxclient.NewInfra(nsxclient.DomainRef(dom,
		nsxclient.ChildPolicy(policy("big", nsxclient.CategoryApplication, 1), rules...))), nsxclient.PatchInfraOptions{}))
	cost := h.sim.Stats().Endpoints["PATCH /policy/api/v1/infra"].SimulatedTime
	want := 20*time.Millisecond + nsxclient.MaxHierarchicalObjects*5*time.Millisecond
	if cost != want {
		t.Errorf("simulated time of a 5000-object PATCH = %s, want %s", cost, want)
	}
	rules = append(rules, rule("one-too-many", nsxclient.ActionAllow, 99999, to(gpath("web"))))
	h.sim.ResetStats()
	err := h.p.PatchInfra(ctx, nsxclient.NewInfra(nsxclient.DomainRef(dom,
		nsxclient.ChildPolicy(policy("bigger", nsxclient.CategoryApplication, 2), rules...))), nsxclient.PatchInfraOptions{})
	if err == nil || !strings.Contains(err.Error(), "split the change") || h.sim.Stats().Calls != 0 {
		t.Errorf("5001 objects: err %v, %d calls sent", err, h.sim.Stats().Calls)
	}
}
