package nsxclient

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestPolicyMethodsSendTheDocumentedRequests checks, for every Policy API method, the HTTP method,
// path, query and body it sends, and that it decodes NSX's answer.
func TestPolicyMethodsSendTheDocumentedRequests(t *testing.T) {
	tru := true
	group := PolicyGroup{PolicyResource: PolicyResource{ID: "web", DisplayName: "web"}, Expression: []PolicyExpression{
		AllOf(TagEquals(MemberSegment, "ncp/cluster", "c1"), TagEquals(MemberSegmentPort, "app", "web")),
		Conjunction(ConjunctionOr),
		IPAddresses("10.0.0.0/24"),
	}}
	groupJSON := `{"id":"web","display_name":"web","expression":[
		{"resource_type":"NestedExpression","expressions":[
			{"resource_type":"Condition","member_type":"Segment","key":"Tag","operator":"EQUALS","value":"ncp/cluster|c1"},
			{"resource_type":"ConjunctionOperator","conjunction_operator":"AND"},
			{"resource_type":"Condition","member_type":"SegmentPort","key":"Tag","operator":"EQUALS","value":"app|web"}]},
		{"resource_type":"ConjunctionOperator","conjunction_operator":"OR"},
		{"resource_type":"IPAddressExpression","ip_addresses":["10.0.0.0/24"]}]}`
	storedGroupJSON := `{"id":"web","display_name":"web","path":"/infra/domains/default/groups/web","_revision":2,"expression":[]}`
	storedGroup := PolicyGroup{PolicyResource: PolicyResource{ID: "web", DisplayName: "web", Path: "/infra/domains/default/groups/web", Revision: RevisionOf(2)}, Expression: []PolicyExpression{}}
	rule := PolicyRule{PolicyResource: PolicyResource{ID: "r1"}, Action: ActionJumpToApplication, SourceGroups: []string{AnyPath},
		DestinationGroups: []string{GroupPath("default", "web")}, Services: []string{AnyPath},
		ServiceEntries: []ServiceEntry{L4PortSetEntry(L4ProtocolTCP, "8080")}, Direction: DirectionIn, SequenceNumber: 1}
	ruleJSON := `{"id":"r1","action":"JUMP_TO_APPLICATION","source_groups":["ANY"],"destination_groups":["/infra/domains/default/groups/web"],
		"services":["ANY"],"service_entries":[{"resource_type":"L4PortSetServiceEntry","l4_protocol":"TCP","destination_ports":["8080"]}],
		"direction":"IN","sequence_number":1}`
	policy := SecurityPolicy{PolicyResource: PolicyResource{ID: "sec", Revision: RevisionOf(4)}, Category: CategoryEnvironment, SequenceNumber: 100,
		Stateful: &tru, Scope: []string{AnyPath}, Rules: []PolicyRule{rule}}
	policyJSON := `{"id":"sec","_revision":4,"category":"Environment","sequence_number":100,"stateful":true,"scope":["ANY"],"rules":[` + ruleJSON + `]}`
	port := SegmentPort{PolicyResource: PolicyResource{ID: "p1", Tags: []Tag{{Scope: "app", Tag: "web"}}},
		Attachment:      &PortAttachment{ID: "vif-1", Type: AttachmentChild, ContextID: "node-vif", TrafficTag: 12},
		AddressBindings: []PortAddressBindingEntry{{IPAddress: "10.0.0.5"}}}
	portJSON := `{"id":"p1","tags":[{"scope":"app","tag":"web"}],"attachment":{"id":"vif-1","type":"CHILD","context_id":"node-vif","traffic_tag":12},
		"address_bindings":[{"ip_address":"10.0.0.5"}]}`
	list := func(items string) string { return `{"results":[` + items + `],"result_count":1}` }
	const base = "/policy/api/v1"

	tests := []methodCase{
		{name: "ListDomains", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Policy().ListDomains(ctx, PolicyListOptions{PageSize: 5})
		},
			method: "GET", path: base + "/infra/domains", query: "page_size=5", status: 200, resp: list(`{"id":"default"}`),
			want: []PolicyDomain{{PolicyResource: PolicyResource{ID: "default"}}}},
		{name: "GetDomain", call: func(ctx context.Context, c *Client) (any, error) { return c.Policy().GetDomain(ctx, "default") },
			method: "GET", path: base + "/infra/domains/default", status: 200, resp: `{"id":"default"}`},
		{name: "PatchDomain", call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Policy().PatchDomain(ctx, PolicyDomain{PolicyResource: PolicyResource{ID: "c1"}})
		}, method: "PATCH", path: base + "/infra/domains/c1", body: `{"id":"c1"}`, status: 204},
		{name: "DeleteDomain", call: func(ctx context.Context, c *Client) (any, error) { return nil, c.Policy().DeleteDomain(ctx, "c1") },
			method: "DELETE", path: base + "/infra/domains/c1", status: 200},
		{name: "ListGroups with member types and deleted objects", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Policy().ListGroups(ctx, "default", ListGroupsOptions{MemberTypes: []string{"SegmentPort", "IPAddress"},
				PolicyListOptions: PolicyListOptions{IncludeMarkedForDelete: true}})
		}, method: "GET", path: base + "/infra/domains/default/groups", query: "member_types=SegmentPort,IPAddress&include_mark_for_delete_objects=true",
			status: 200, resp: list(storedGroupJSON), want: []PolicyGroup{storedGroup}},
		{name: "GetGroup escapes ids", call: func(ctx context.Context, c *Client) (any, error) { return c.Policy().GetGroup(ctx, "default", "a b/c") },
			method: "GET", path: base + "/infra/domains/default/groups/a%20b%2Fc", status: 200, resp: storedGroupJSON, want: &storedGroup},
		{name: "PatchGroup", call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Policy().PatchGroup(ctx, "default", group)
		},
			method: "PATCH", path: base + "/infra/domains/default/groups/web", body: groupJSON, status: 200},
		{name: "PutGroup", call: func(ctx context.Context, c *Client) (any, error) { return c.Policy().PutGroup(ctx, "default", group) },
			method: "PUT", path: base + "/infra/domains/default/groups/web", body: groupJSON, status: 200, resp: storedGroupJSON, want: &storedGroup},
		{name: "DeleteGroup", call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Policy().DeleteGroup(ctx, "default", "web")
		},
			method: "DELETE", path: base + "/infra/domains/default/groups/web", status: 200},
		{name: "GroupSegmentPortMembers", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Policy().GroupSegmentPortMembers(ctx, "default", "web")
		}, method: "GET", path: base + "/infra/domains/default/groups/web/members/segment-ports", status: 200, resp: list(`{"id":"p1"}`),
			want: []SegmentPort{{PolicyResource: PolicyResource{ID: "p1"}}}},
		{name: "GroupIPAddressMembers", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Policy().GroupIPAddressMembers(ctx, "default", "web")
		}, method: "GET", path: base + "/infra/domains/default/groups/web/members/ip-addresses", status: 200, resp: list(`"10.0.0.5"`),
			want: []string{"10.0.0.5"}},
		{name: "ListSecurityPolicies", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Policy().ListSecurityPolicies(ctx, "default", ListSecurityPoliciesOptions{IncludeRuleCount: true})
		}, method: "GET", path: base + "/infra/domains/default/security-policies", query: "include_rule_count=true", status: 200, resp: list(`{"id":"sec","sequence_number":3}`),
			want: []SecurityPolicy{{PolicyResource: PolicyResource{ID: "sec"}, SequenceNumber: 3}}},
		{name: "GetSecurityPolicy", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Policy().GetSecurityPolicy(ctx, "default", "sec")
		},
			method: "GET", path: base + "/infra/domains/default/security-policies/sec", status: 200, resp: policyJSON, want: &policy},
		{name: "PatchSecurityPolicy", call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Policy().PatchSecurityPolicy(ctx, "default", policy)
		}, method: "PATCH", path: base + "/infra/domains/default/security-policies/sec", body: policyJSON, status: 200},
		{name: "PutSecurityPolicy", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Policy().PutSecurityPolicy(ctx, "default", policy)
		}, method: "PUT", path: base + "/infra/domains/default/security-policies/sec", body: policyJSON, status: 200, resp: policyJSON, want: &policy},
		{name: "DeleteSecurityPolicy", call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Policy().DeleteSecurityPolicy(ctx, "default", "sec")
		}, method: "DELETE", path: base + "/infra/domains/default/security-policies/sec", status: 200},
		{name: "ListRules", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Policy().ListRules(ctx, "default", "sec", PolicyListOptions{})
		}, method: "GET", path: base + "/infra/domains/default/security-policies/sec/rules", status: 200, resp: list(ruleJSON), want: []PolicyRule{rule}},
		{name: "GetRule", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Policy().GetRule(ctx, "default", "sec", "r1")
		},
			method: "GET", path: base + "/infra/domains/default/security-policies/sec/rules/r1", status: 200, resp: ruleJSON, want: &rule},
		{name: "PatchRule", call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Policy().PatchRule(ctx, "default", "sec", rule)
		},
			method: "PATCH", path: base + "/infra/domains/default/security-policies/sec/rules/r1", body: ruleJSON, status: 204},
		{name: "PutRule", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Policy().PutRule(ctx, "default", "sec", rule)
		},
			method: "PUT", path: base + "/infra/domains/default/security-policies/sec/rules/r1", body: ruleJSON, status: 200, resp: ruleJSON, want: &rule},
		{name: "DeleteRule", call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Policy().DeleteRule(ctx, "default", "sec", "r1")
		},
			method: "DELETE", path: base + "/infra/domains/default/security-policies/sec/rules/r1", status: 200},
		{name: "PatchInfra", call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Policy().PatchInfra(ctx, NewInfra(DomainRef("default", ChildGroup(PolicyGroup{PolicyResource: PolicyResource{ID: "g"}}),
				DeleteRuleNode("old"))), PatchInfraOptions{EnforceRevisionCheck: true})
		}, method: "PATCH", path: base + "/infra", query: "enforce_revision_check=true", status: 200,
			body: `{"resource_type":"Infra","children":[{"resource_type":"ChildResourceReference","id":"default","target_type":"Domain","children":[
				{"resource_type":"ChildGroup","id":"g","Group":{"id":"g","resource_type":"Group"}},
				{"resource_type":"ChildRule","id":"old","marked_for_delete":true,"Rule":{"id":"old","resource_type":"Rule"}}]}]}`},
		{name: "ReadInfra", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Policy().ReadInfra(ctx, ReadInfraOptions{Types: []string{"Domain", "Group"}, BasePath: "/infra/domains/default"})
		}, method: "GET", path: base + "/infra", query: "filter=Type-Domain%7CGroup&base_path=/infra/domains/default", status: 200,
			resp: `{"resource_type":"Infra","id":"infra","children":[]}`, want: &Infra{ResourceType: "Infra", ID: "infra", Children: []ChildNode{}}},
		{name: "RealizedEntities", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Policy().RealizedEntities(ctx, "/infra/domains/default/security-policies/sec")
		}, method: "GET", path: base + "/infra/realized-state/realized-entities", query: "intent_path=/infra/domains/default/security-policies/sec",
			status: 200, resp: list(`{"state":"REALIZED","entity_type":"RealizedFirewallSection"}`),
			want: []RealizedEntity{{State: StateRealized, EntityType: "RealizedFirewallSection"}}},
		{name: "RealizationStatus", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Policy().RealizationStatus(ctx, "/infra/domains/default/groups/web")
		}, method: "GET", path: base + "/infra/realized-state/status", query: "intent_path=/infra/domains/default/groups/web",
			status: 200, resp: `{"publish_status":"REALIZED","consolidated_status":{"consolidated_status":"SUCCESS"}}`,
			want: &ConsolidatedRealizedStatus{PublishStatus: "REALIZED", ConsolidatedStatus: &ConsolidatedStatus{ConsolidatedStatus: "SUCCESS"}}},
		{name: "ListSegments", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Policy().ListSegments(ctx, PolicyListOptions{})
		},
			method: "GET", path: base + "/infra/segments", status: 200, resp: list(`{"id":"s1"}`), want: []Segment{{PolicyResource: PolicyResource{ID: "s1"}}}},
		{name: "GetSegment", call: func(ctx context.Context, c *Client) (any, error) { return c.Policy().GetSegment(ctx, "s1") },
			method: "GET", path: base + "/infra/segments/s1", status: 200, resp: `{"id":"s1"}`},
		{name: "PatchSegment", call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Policy().PatchSegment(ctx, Segment{PolicyResource: PolicyResource{ID: "s1", Tags: []Tag{{Scope: "ncp/cluster", Tag: "c1"}}}})
		}, method: "PATCH", path: base + "/infra/segments/s1", body: `{"id":"s1","tags":[{"scope":"ncp/cluster","tag":"c1"}]}`, status: 200},
		{name: "DeleteSegment", call: func(ctx context.Context, c *Client) (any, error) { return nil, c.Policy().DeleteSegment(ctx, "s1") },
			method: "DELETE", path: base + "/infra/segments/s1", status: 200},
		{name: "ListSegmentPorts", call: func(ctx context.Context, c *Client) (any, error) {
			return c.Policy().ListSegmentPorts(ctx, "s1", PolicyListOptions{PageSize: 2})
		}, method: "GET", path: base + "/infra/segments/s1/ports", query: "page_size=2", status: 200, resp: list(portJSON), want: []SegmentPort{port}},
		{name: "GetSegmentPort", call: func(ctx context.Context, c *Client) (any, error) { return c.Policy().GetSegmentPort(ctx, "s1", "p1") },
			method: "GET", path: base + "/infra/segments/s1/ports/p1", status: 200, resp: portJSON, want: &port},
		{name: "PatchSegmentPort", call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Policy().PatchSegmentPort(ctx, "s1", port)
		}, method: "PATCH", path: base + "/infra/segments/s1/ports/p1", body: portJSON, status: 200},
		{name: "PutSegmentPort", call: func(ctx context.Context, c *Client) (any, error) { return c.Policy().PutSegmentPort(ctx, "s1", port) },
			method: "PUT", path: base + "/infra/segments/s1/ports/p1", body: portJSON, status: 200, resp: portJSON, want: &port},
		{name: "DeleteSegmentPort", call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.Policy().DeleteSegmentPort(ctx, "s1", "p1")
		},
			method: "DELETE", path: base + "/infra/segments/s1/ports/p1", status: 200},
		{name: "Policy Ping", call: func(ctx context.Context, c *Client) (any, error) { return nil, c.Policy().Ping(ctx) },
			method: "GET", path: base + "/infra/domains", query: "page_size=1", status: 200, resp: list("")},
	}
	runMethodCases(t, tests)
}

// TestPolicyEndpointsAreNamedInFull: metrics and errors name Policy endpoints from
// /policy/api/v1 and Manager endpoints from /api/v1 as before.
func TestPolicyEndpointsAreNamedInFull(t *testing.T) {
	f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeNSXError(w, 404, ErrCodeNotFound, "gone") })
	var obs observerLog
	c := f.client(func(c *Config) { c.Observer = obs.observe })
	ctx := context.Background()
	_, perr := c.Policy().GetGroup(ctx, "default", "web")
	_, merr := c.GetNSGroup(ctx, "web")
	calls := obs.all()
	if len(calls) != 2 {
		t.Fatalf("%d calls observed", len(calls))
	}
	if calls[0].Endpoint != "GET /policy/api/v1/infra/domains/{domain}/groups/{group}" {
		t.Errorf("Policy endpoint = %q", calls[0].Endpoint)
	}
	if calls[1].Endpoint != "GET /ns-groups/{id}" {
		t.Errorf("Manager endpoint = %q", calls[1].Endpoint)
	}
	if !strings.Contains(perr.Error(), "GET /policy/api/v1/infra/domains/default/groups/web: HTTP 404") || !IsNotFound(perr) {
		t.Errorf("Policy error = %v", perr)
	}
	if !strings.Contains(merr.Error(), "GET /ns-groups/web: HTTP 404") {
		t.Errorf("Manager error = %v", merr)
	}
}

// TestPatchInfraRefusesOversizedBodies: NSX takes at most 5000 objects per hierarchical call;
// the client says so before sending anything.
func TestPatchInfraRefusesOversizedBodies(t *testing.T) {
	f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { w.WriteHeader(200) })
	var rules []PolicyRule
	for i := range MaxHierarchicalObjects {
		rules = append(rules, PolicyRule{PolicyResource: PolicyResource{ID: "r" + strings.Repeat("x", i%3)}})
	}
	// One policy plus 5000 rules: 5001 objects. The domain reference does not count.
	body := NewInfra(DomainRef("default", ChildPolicy(SecurityPolicy{PolicyResource: PolicyResource{ID: "p"}}, rules...)))
	if n := CountHierarchicalObjects(body.Children); n != MaxHierarchicalObjects+1 {
		t.Fatalf("counted %d objects", n)
	}
	err := f.client().Policy().PatchInfra(context.Background(), body, PatchInfraOptions{})
	if err == nil || !strings.Contains(err.Error(), "split the change") {
		t.Fatalf("err = %v", err)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
	_, err = f.client().Policy().ReadInfra(context.Background(), ReadInfraOptions{})
	if err == nil || !strings.Contains(err.Error(), "Types is empty") {
		t.Errorf("ReadInfra without types: %v", err)
	}
}

// TestPolicyInvalidArgumentsSendNothing: an empty id never reaches NSX.
func TestPolicyInvalidArgumentsSendNothing(t *testing.T) {
	f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 200, map[string]any{}) })
	p := f.client().Policy()
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"PatchGroup without id": func() error { return p.PatchGroup(ctx, "default", PolicyGroup{}) },
		"PatchRule without policy": func() error {
			return p.PatchRule(ctx, "default", "", PolicyRule{PolicyResource: PolicyResource{ID: "r"}})
		},
		"DeleteSecurityPolicy no id":    func() error { return p.DeleteSecurityPolicy(ctx, "default", " ") },
		"PatchSegmentPort no segment":   func() error { return p.PatchSegmentPort(ctx, "", SegmentPort{PolicyResource: PolicyResource{ID: "p"}}) },
		"GetGroup without domain":       func() error { _, err := p.GetGroup(ctx, "", "g"); return err },
		"PutSecurityPolicy without id":  func() error { _, err := p.PutSecurityPolicy(ctx, "default", SecurityPolicy{}); return err },
		"ListRules without policy name": func() error { _, err := p.ListRules(ctx, "default", "", PolicyListOptions{}); return err },
	} {
		if err := call(); err == nil || !strings.Contains(err.Error(), "empty") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests reached NSX", n)
	}
}
