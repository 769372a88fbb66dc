package nsxclient

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// TestMethodsSendTheDocumentedRequests checks, for every API method, the HTTP method, path,
// query and body it sends, and that it decodes NSX's answer.
func TestMethodsSendTheDocumentedRequests(t *testing.T) {
	yes := true
	section := FirewallSection{ManagedResource: ManagedResource{ID: "sec-1", DisplayName: "s", Revision: 3}, SectionType: SectionLayer3, Stateful: true}
	sectionJSON := `{"id":"sec-1","display_name":"s","_revision":3,"section_type":"LAYER3","stateful":true}`
	newSection := FirewallSection{ManagedResource: ManagedResource{DisplayName: "s"}, SectionType: SectionLayer3, Stateful: true}
	newSectionJSON := `{"display_name":"s","_revision":0,"section_type":"LAYER3","stateful":true}`
	rule := FirewallRule{ID: "1001", DisplayName: "r", Revision: 7, Action: ActionAllow, Services: []FirewallService{L4PortSet(L4ProtocolTCP, "443")}}
	ruleJSON := `{"id":"1001","display_name":"r","_revision":7,"action":"ALLOW","services":[{"service":{"resource_type":"L4PortSetNSService","l4_protocol":"TCP","destination_ports":["443"]}}]}`
	newRule := FirewallRule{DisplayName: "r", Revision: 3, Action: ActionDrop}
	newRuleJSON := `{"display_name":"r","_revision":3,"action":"DROP"}`
	withRules := FirewallSectionRuleList{FirewallSection: section, Rules: []FirewallRule{newRule}}
	withRulesJSON := `{"id":"sec-1","display_name":"s","_revision":3,"section_type":"LAYER3","stateful":true,"rules":[` + newRuleJSON + `]}`
	group := NSGroup{ManagedResource: ManagedResource{ID: "g-1", DisplayName: "g", Revision: 2}, MembershipCriteria: []NSGroupExpression{{ResourceType: ExprTag, TargetType: TargetLogicalPort, Scope: "ncp/project", Tag: "ns"}}}
	groupJSON := `{"id":"g-1","display_name":"g","_revision":2,"membership_criteria":[{"resource_type":"NSGroupTagExpression","target_type":"LogicalPort","scope":"ncp/project","tag":"ns"}]}`
	member := StaticMember(TargetIPSet, "ips-1")
	membersJSON := `{"members":[{"resource_type":"NSGroupSimpleExpression","target_type":"IPSet","target_property":"id","op":"EQUALS","value":"ips-1"}]}`
	ipset := IPSet{ManagedResource: ManagedResource{ID: "ips-1", Revision: 1}, IPAddresses: []string{"10.0.0.0/24"}}
	ipsetJSON := `{"id":"ips-1","_revision":1,"ip_addresses":["10.0.0.0/24"]}`
	port := LogicalPort{ManagedResource: ManagedResource{ID: "lp-1", Revision: 4, Tags: []Tag{{Scope: "ncp/pod", Tag: "web-0"}}}, LogicalSwitchID: "ls-1", AdminState: "UP"}
	portJSON := `{"id":"lp-1","_revision":4,"tags":[{"scope":"ncp/pod","tag":"web-0"}],"logical_switch_id":"ls-1","admin_state":"UP"}`
	list := func(items string) string { return `{"results":[` + items + `],"result_count":1}` }

	tests := []methodCase{
		{
			name:   "ListSections defaults to LAYER3",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.ListSections(ctx, ListSectionsOptions{}) },
			method: "GET", path: "/api/v1/firewall/sections", query: "type=LAYER3",
			status: 200, resp: list(sectionJSON), want: []FirewallSection{section},
		},
		{
			name: "ListSections with filters",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ListSections(ctx, ListSectionsOptions{Type: SectionLayer2, AppliedTos: []string{"a", "b"}, Sources: []string{"s"}, Destinations: []string{"d"}, Services: []string{"svc"}, Locked: &yes, PageSize: 10})
			},
			method: "GET", path: "/api/v1/firewall/sections",
			query:  "type=LAYER2&applied_tos=a,b&sources=s&destinations=d&services=svc&locked=true&page_size=10",
			status: 200, resp: list(""), want: []FirewallSection(nil),
		},
		{
			name:   "GetSection",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.GetSection(ctx, "sec-1") },
			method: "GET", path: "/api/v1/firewall/sections/sec-1",
			status: 200, resp: sectionJSON, want: &section,
		},
		{
			name:   "GetSection escapes the id",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.GetSection(ctx, "a/b c") },
			method: "GET", path: "/api/v1/firewall/sections/a%2Fb%20c",
			status: 200, resp: sectionJSON,
		},
		{
			name:   "CreateSection at the bottom",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.CreateSection(ctx, newSection, Bottom()) },
			method: "POST", path: "/api/v1/firewall/sections", query: "operation=insert_bottom", body: newSectionJSON,
			status: 201, resp: sectionJSON, want: &section,
		},
		{
			name:   "CreateSection with the default position sends none",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.CreateSection(ctx, newSection, Position{}) },
			method: "POST", path: "/api/v1/firewall/sections", body: newSectionJSON,
			status: 201, resp: sectionJSON,
		},
		{
			name: "CreateSectionWithRules after a section",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.CreateSectionWithRules(ctx, withRules, After("sec-0"))
			},
			method: "POST", path: "/api/v1/firewall/sections", query: "action=create_with_rules&operation=insert_after&id=sec-0", body: withRulesJSON,
			status: 201, resp: withRulesJSON, want: &withRules,
		},
		{
			name:   "UpdateSection",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.UpdateSection(ctx, section) },
			method: "PUT", path: "/api/v1/firewall/sections/sec-1", body: sectionJSON,
			status: 200, resp: sectionJSON, want: &section,
		},
		{
			name: "ReviseSection before another",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ReviseSection(ctx, section, Before("sec-9"))
			},
			method: "POST", path: "/api/v1/firewall/sections/sec-1", query: "action=revise&operation=insert_before&id=sec-9", body: sectionJSON,
			status: 200, resp: sectionJSON, want: &section,
		},
		{
			name:   "UpdateSectionWithRules",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.UpdateSectionWithRules(ctx, withRules) },
			method: "POST", path: "/api/v1/firewall/sections/sec-1", query: "action=update_with_rules", body: withRulesJSON,
			status: 200, resp: withRulesJSON, want: &withRules,
		},
		{
			name: "ReviseSectionWithRules to the top",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ReviseSectionWithRules(ctx, withRules, Top())
			},
			method: "POST", path: "/api/v1/firewall/sections/sec-1", query: "action=revise_with_rules&operation=insert_top", body: withRulesJSON,
			status: 200, resp: withRulesJSON, want: &withRules,
		},
		{
			name:   "ListSectionWithRules",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.ListSectionWithRules(ctx, "sec-1") },
			method: "POST", path: "/api/v1/firewall/sections/sec-1", query: "action=list_with_rules",
			status: 200, resp: withRulesJSON, want: &withRules,
		},
		{
			name:   "DeleteSection with cascade",
			call:   func(ctx context.Context, c *Client) (any, error) { return nil, c.DeleteSection(ctx, "sec-1", true) },
			method: "DELETE", path: "/api/v1/firewall/sections/sec-1", query: "cascade=true",
			status: 200,
		},
		{
			name:   "ListRules",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.ListRules(ctx, "sec-1") },
			method: "GET", path: "/api/v1/firewall/sections/sec-1/rules",
			status: 200, resp: list(ruleJSON), want: []FirewallRule{rule},
		},
		{
			name:   "GetRule",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.GetRule(ctx, "sec-1", "1001") },
			method: "GET", path: "/api/v1/firewall/sections/sec-1/rules/1001",
			status: 200, resp: ruleJSON, want: &rule,
		},
		{
			name: "CreateRule after another rule",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.CreateRule(ctx, "sec-1", newRule, After("1000"))
			},
			method: "POST", path: "/api/v1/firewall/sections/sec-1/rules", query: "operation=insert_after&id=1000", body: newRuleJSON,
			status: 200, resp: ruleJSON, want: &rule,
		},
		{
			name: "CreateRules at the bottom",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.CreateRules(ctx, "sec-1", []FirewallRule{newRule, newRule}, Bottom())
			},
			method: "POST", path: "/api/v1/firewall/sections/sec-1/rules", query: "action=create_multiple&operation=insert_bottom",
			body:   `{"rules":[` + newRuleJSON + `,` + newRuleJSON + `]}`,
			status: 200, resp: `{"rules":[` + ruleJSON + `]}`, want: []FirewallRule{rule},
		},
		{
			name:   "UpdateRule",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.UpdateRule(ctx, "sec-1", rule) },
			method: "PUT", path: "/api/v1/firewall/sections/sec-1/rules/1001", body: ruleJSON,
			status: 200, resp: ruleJSON, want: &rule,
		},
		{
			name: "ReviseRule before another rule",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ReviseRule(ctx, "sec-1", rule, Before("1000"))
			},
			method: "POST", path: "/api/v1/firewall/sections/sec-1/rules/1001", query: "action=revise&operation=insert_before&id=1000", body: ruleJSON,
			status: 200, resp: ruleJSON, want: &rule,
		},
		{
			name:   "DeleteRule",
			call:   func(ctx context.Context, c *Client) (any, error) { return nil, c.DeleteRule(ctx, "sec-1", "1001") },
			method: "DELETE", path: "/api/v1/firewall/sections/sec-1/rules/1001",
			status: 200,
		},
		{
			name: "ListNSGroups",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ListNSGroups(ctx, ListNSGroupsOptions{MemberTypes: []string{"LogicalPort", "IPSet"}})
			},
			method: "GET", path: "/api/v1/ns-groups", query: "member_types=LogicalPort,IPSet&populate_references=false",
			status: 200, resp: list(groupJSON), want: []NSGroup{group},
		},
		{
			name:   "GetNSGroup",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.GetNSGroup(ctx, "g-1") },
			method: "GET", path: "/api/v1/ns-groups/g-1",
			status: 200, resp: groupJSON, want: &group,
		},
		{
			name:   "CreateNSGroup",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.CreateNSGroup(ctx, group) },
			method: "POST", path: "/api/v1/ns-groups", body: groupJSON,
			status: 201, resp: groupJSON, want: &group,
		},
		{
			name:   "UpdateNSGroup",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.UpdateNSGroup(ctx, group) },
			method: "PUT", path: "/api/v1/ns-groups/g-1", body: groupJSON,
			status: 200, resp: groupJSON, want: &group,
		},
		{
			name:   "DeleteNSGroup with force",
			call:   func(ctx context.Context, c *Client) (any, error) { return nil, c.DeleteNSGroup(ctx, "g-1", true) },
			method: "DELETE", path: "/api/v1/ns-groups/g-1", query: "force=true",
			status: 200,
		},
		{
			name: "AddNSGroupMembers uses the upper-case action",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.AddNSGroupMembers(ctx, "g-1", []NSGroupExpression{member})
			},
			method: "POST", path: "/api/v1/ns-groups/g-1", query: "action=ADD_MEMBERS", body: membersJSON,
			status: 200, resp: groupJSON, want: &group,
		},
		{
			name: "RemoveNSGroupMembers",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.RemoveNSGroupMembers(ctx, "g-1", []NSGroupExpression{member})
			},
			method: "POST", path: "/api/v1/ns-groups/g-1", query: "action=REMOVE_MEMBERS", body: membersJSON,
			status: 200, resp: groupJSON, want: &group,
		},
		{
			name: "ListNSGroupEffectiveIPAddressMembers",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ListNSGroupEffectiveIPAddressMembers(ctx, "g-1")
			},
			method: "GET", path: "/api/v1/ns-groups/g-1/effective-ip-address-members",
			status: 200, resp: list(`"10.0.0.1","10.0.1.0/24"`), want: []string{"10.0.0.1", "10.0.1.0/24"},
		},
		{
			name: "ListNSGroupEffectiveLogicalPortMembers",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ListNSGroupEffectiveLogicalPortMembers(ctx, "g-1")
			},
			method: "GET", path: "/api/v1/ns-groups/g-1/effective-logical-port-members",
			status: 200, resp: list(`{"target_id":"lp-1","target_type":"LogicalPort"}`),
			want: []ResourceReference{{TargetID: "lp-1", TargetType: TargetLogicalPort}},
		},
		{
			name:   "ListIPSets",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.ListIPSets(ctx) },
			method: "GET", path: "/api/v1/ip-sets",
			status: 200, resp: list(ipsetJSON), want: []IPSet{ipset},
		},
		{
			name:   "GetIPSet",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.GetIPSet(ctx, "ips-1") },
			method: "GET", path: "/api/v1/ip-sets/ips-1",
			status: 200, resp: ipsetJSON, want: &ipset,
		},
		{
			name:   "CreateIPSet",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.CreateIPSet(ctx, ipset) },
			method: "POST", path: "/api/v1/ip-sets", body: ipsetJSON,
			status: 201, resp: ipsetJSON, want: &ipset,
		},
		{
			name:   "UpdateIPSet",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.UpdateIPSet(ctx, ipset) },
			method: "PUT", path: "/api/v1/ip-sets/ips-1", body: ipsetJSON,
			status: 200, resp: ipsetJSON, want: &ipset,
		},
		{
			name:   "DeleteIPSet without force",
			call:   func(ctx context.Context, c *Client) (any, error) { return nil, c.DeleteIPSet(ctx, "ips-1", false) },
			method: "DELETE", path: "/api/v1/ip-sets/ips-1", query: "force=false",
			status: 200,
		},
		{
			name: "AddIPSetAddress uses the lower-case action",
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.AddIPSetAddress(ctx, "ips-1", "10.0.0.7")
			},
			method: "POST", path: "/api/v1/ip-sets/ips-1", query: "action=add_ip", body: `{"ip_address":"10.0.0.7"}`,
			status: 201, resp: `{"ip_address":"10.0.0.7"}`,
		},
		{
			name: "RemoveIPSetAddress",
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.RemoveIPSetAddress(ctx, "ips-1", "10.0.0.7")
			},
			method: "POST", path: "/api/v1/ip-sets/ips-1", query: "action=remove_ip", body: `{"ip_address":"10.0.0.7"}`,
			status: 201, resp: `{"ip_address":"10.0.0.7"}`,
		},
		{
			name: "ListLogicalPorts with filters",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ListLogicalPorts(ctx, ListLogicalPortsOptions{LogicalSwitchID: "ls-1", AttachmentType: "VIF", AttachmentID: "att", ParentVIFID: "pv", ContainerPortsOnly: true, PageSize: 100})
			},
			method: "GET", path: "/api/v1/logical-ports",
			query:  "logical_switch_id=ls-1&attachment_type=VIF&attachment_id=att&parent_vif_id=pv&container_ports_only=true&page_size=100",
			status: 200, resp: list(portJSON), want: []LogicalPort{port},
		},
		{
			name:   "GetLogicalPort",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.GetLogicalPort(ctx, "lp-1") },
			method: "GET", path: "/api/v1/logical-ports/lp-1",
			status: 200, resp: portJSON, want: &port,
		},
		{
			name:   "CreateLogicalPort",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.CreateLogicalPort(ctx, port) },
			method: "POST", path: "/api/v1/logical-ports", body: portJSON,
			status: 201, resp: portJSON, want: &port,
		},
		{
			name:   "UpdateLogicalPort",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.UpdateLogicalPort(ctx, port) },
			method: "PUT", path: "/api/v1/logical-ports/lp-1", body: portJSON,
			status: 200, resp: portJSON, want: &port,
		},
		{
			name:   "DeleteLogicalPort with detach",
			call:   func(ctx context.Context, c *Client) (any, error) { return nil, c.DeleteLogicalPort(ctx, "lp-1", true) },
			method: "DELETE", path: "/api/v1/logical-ports/lp-1", query: "detach=true",
			status: 200,
		},
		{
			name:   "Ping lists one section",
			call:   func(ctx context.Context, c *Client) (any, error) { return nil, c.Ping(ctx) },
			method: "GET", path: "/api/v1/firewall/sections", query: "page_size=1",
			status: 200, resp: list(""),
		},
	}
	runMethodCases(t, tests)
}

// methodCase is one client method and the exchange it must produce.
type methodCase struct {
	name   string
	call   func(ctx context.Context, c *Client) (any, error)
	method string
	path   string
	query  string // raw query, compared as url.Values
	body   string // JSON; "" means no body
	status int
	resp   string
	want   any // decoded result, compared with reflect.DeepEqual (nil: not checked)
}

// runMethodCases calls each method against a fake NSX answering tt.status and tt.resp, and
// checks the one request it sent and the result it decoded.
func runMethodCases(t *testing.T, tests []methodCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeNSX(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.resp))
			})
			got, err := tt.call(context.Background(), f.client())
			if err != nil {
				t.Fatalf("call failed: %v", err)
			}
			reqs := f.requests()
			if len(reqs) != 1 {
				t.Fatalf("got %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != tt.method || r.EscapedPath != tt.path {
				t.Errorf("request = %s %s, want %s %s", r.Method, r.EscapedPath, tt.method, tt.path)
			}
			wantQuery, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatalf("bad test query: %v", err)
			}
			if len(wantQuery) == 0 {
				wantQuery = url.Values{}
			}
			if !reflect.DeepEqual(r.Query, wantQuery) {
				t.Errorf("query = %v, want %v", r.Query, wantQuery)
			}
			if tt.body == "" {
				if len(r.Body) != 0 {
					t.Errorf("unexpected body %s", r.Body)
				}
				if ct := r.Header.Get("Content-Type"); ct != "" {
					t.Errorf("Content-Type %q on a request without body", ct)
				}
			} else {
				if !jsonEqual(t, r.Body, tt.body) {
					t.Errorf("body = %s\nwant   %s", r.Body, tt.body)
				}
				if ct := r.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q, want application/json", ct)
				}
			}
			if a := r.Header.Get("Accept"); a != "application/json" {
				t.Errorf("Accept = %q", a)
			}
			if ua := r.Header.Get("User-Agent"); ua != DefaultUserAgent {
				t.Errorf("User-Agent = %q", ua)
			}
			if u, p, ok := (&http.Request{Header: r.Header}).BasicAuth(); !ok || u != testUser || p != testPassword {
				t.Errorf("Basic auth = %q/%q/%v", u, p, ok)
			}
			if tt.want != nil && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("result = %#v\nwant     %#v", got, tt.want)
			}
		})
	}
}

// TestInvalidArgumentsSendNothing: an empty id must never reach NSX, where "PUT /ns-groups/" or
// "POST /firewall/sections/" would mean something else entirely.
func TestInvalidArgumentsSendNothing(t *testing.T) {
	f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 200, map[string]any{}) })
	c := f.client()
	ctx := context.Background()
	calls := map[string]func() error{
		"UpdateSection without id":       func() error { _, err := c.UpdateSection(ctx, FirewallSection{}); return err },
		"UpdateSectionWithRules no id":   func() error { _, err := c.UpdateSectionWithRules(ctx, FirewallSectionRuleList{}); return err },
		"ListSectionWithRules empty id":  func() error { _, err := c.ListSectionWithRules(ctx, ""); return err },
		"CreateRule without section":     func() error { _, err := c.CreateRule(ctx, "", FirewallRule{}, Top()); return err },
		"UpdateRule without rule id":     func() error { _, err := c.UpdateRule(ctx, "sec-1", FirewallRule{}); return err },
		"DeleteRule blank rule id":       func() error { return c.DeleteRule(ctx, "sec-1", " ") },
		"UpdateNSGroup without id":       func() error { _, err := c.UpdateNSGroup(ctx, NSGroup{}); return err },
		"AddIPSetAddress without id":     func() error { return c.AddIPSetAddress(ctx, "", "10.0.0.1") },
		"DeleteLogicalPort without id":   func() error { return c.DeleteLogicalPort(ctx, "", false) },
		"CreateSection Before no anchor": func() error { _, err := c.CreateSection(ctx, FirewallSection{}, Before("")); return err },
		"ReviseRule After no anchor": func() error {
			_, err := c.ReviseRule(ctx, "sec-1", FirewallRule{ID: "1"}, After(""))
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			if err == nil {
				t.Fatal("expected an error")
			}
			if !strings.Contains(err.Error(), "empty") && !strings.Contains(err.Error(), "anchor") {
				t.Errorf("error does not say what is wrong: %v", err)
			}
		})
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests reached NSX", n)
	}
}

func TestPosition(t *testing.T) {
	tests := []struct {
		pos  Position
		want string
		str  string
	}{
		{Position{}, "", "default (insert_top)"},
		{Top(), "operation=insert_top", "insert_top"},
		{Bottom(), "operation=insert_bottom", "insert_bottom"},
		{Before("x"), "id=x&operation=insert_before", "insert_before x"},
		{After("y"), "id=y&operation=insert_after", "insert_after y"},
	}
	for _, tt := range tests {
		q := url.Values{}
		if err := tt.pos.addTo(q); err != nil {
			t.Fatalf("%v: %v", tt.pos, err)
		}
		if got := q.Encode(); got != tt.want {
			t.Errorf("%v: query %q, want %q", tt.pos, got, tt.want)
		}
		if got := tt.pos.String(); got != tt.str {
			t.Errorf("String() = %q, want %q", got, tt.str)
		}
	}
}

func TestOptionalHeaders(t *testing.T) {
	f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 200, map[string]any{}) })
	ctx := context.Background()
	if _, err := f.client().GetIPSet(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client(func(c *Config) { c.AllowOverwrite = true; c.UserAgent = "microseg/1.2.3" }).GetIPSet(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if h := reqs[0].Header.Get("X-Allow-Overwrite"); h != "" {
		t.Errorf("X-Allow-Overwrite sent without opt-in: %q", h)
	}
	if h := reqs[1].Header.Get("X-Allow-Overwrite"); h != "true" {
		t.Errorf("X-Allow-Overwrite = %q, want true", h)
	}
	if ua := reqs[1].Header.Get("User-Agent"); ua != "microseg/1.2.3" {
		t.Errorf("User-Agent = %q", ua)
	}
}
