package nsxspec

import (
	"errors"
	"net/url"
	"testing"
)

func TestOperationsAreFoundByTemplateAndAction(t *testing.T) {
	spec := LoadForTest(t)
	for _, tc := range []struct {
		method, path, query string
		wantKey             string
	}{
		{"GET", "/api/v1/firewall/sections", "", "/firewall/sections"},
		{"POST", "/api/v1/firewall/sections", "operation=insert_top", "/firewall/sections"},
		{"POST", "/api/v1/firewall/sections", "action=create_with_rules&operation=insert_bottom", "/firewall/sections?action=create_with_rules"},
		{"PUT", "/api/v1/firewall/sections/4b7a", "", "/firewall/sections/{section-id}"},
		{"POST", "/api/v1/firewall/sections/4b7a", "action=update_with_rules", "/firewall/sections/{section-id}?action=update_with_rules"},
		{"POST", "/api/v1/firewall/sections/4b7a", "action=revise&operation=insert_after&id=77", "/firewall/sections/{section-id}?action=revise"},
		{"POST", "/api/v1/firewall/sections/4b7a", "action=list_with_rules", "/firewall/sections/{section-id}?action=list_with_rules"},
		// A literal segment beats a parameter: "summary" is not a section id.
		{"GET", "/api/v1/firewall/sections/summary", "", "/firewall/sections/summary"},
		{"POST", "/api/v1/firewall/sections/4b7a/rules", "action=create_multiple", "/firewall/sections/{section-id}/rules?action=create_multiple"},
		{"DELETE", "/api/v1/firewall/sections/4b7a/rules/1027", "", "/firewall/sections/{section-id}/rules/{rule-id}"},
		// Here the spec declares action as an ordinary enum parameter of one operation.
		{"POST", "/api/v1/ns-groups/9c1d", "action=ADD_MEMBERS", "/ns-groups/{ns-group-id}"},
		{"GET", "/api/v1/logical-ports/5d0c/mac-table", "format=csv", "/logical-ports/{lport-id}/mac-table?format=csv"},
		{"GET", "/api/v1/logical-ports/5d0c/mac-table", "", "/logical-ports/{lport-id}/mac-table"},
		// An escaped id is still one segment.
		{"GET", "/api/v1/ip-sets/a%2Fb", "", "/ip-sets/{ip-set-id}"},
	} {
		t.Run(tc.method+" "+tc.path+"?"+tc.query, func(t *testing.T) {
			query, _ := url.ParseQuery(tc.query)
			op, _, _, err := spec.c.findOperation(tc.method, tc.path, query)
			if err != nil {
				t.Fatal(err)
			}
			if op.key != tc.wantKey {
				t.Errorf("matched %s, want %s", op.key, tc.wantKey)
			}
		})
	}
}

func TestUnknownOperations(t *testing.T) {
	spec := LoadForTest(t)
	for _, tc := range []struct {
		method, path, query, want string
	}{
		{"GET", "/api/v1/firewall/chapters", "", "no path template matches /firewall/chapters"},
		{"GET", "/firewall/sections", "", "outside the spec's basePath /api/v1"},
		{"PATCH", "/api/v1/firewall/sections/4b7a", "", "/firewall/sections/{section-id} has no PATCH operation (it has DELETE, GET, POST, PUT)"},
		{"POST", "/api/v1/firewall/sections/4b7a", "", "POST /firewall/sections/{section-id} needs the query of one of"},
		{"GET", "/api/v1/firewall/sections//rules", "", "no path template matches /firewall/sections//rules"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			query, _ := url.ParseQuery(tc.query)
			err := spec.ValidateRequest(tc.method, tc.path, query, nil)
			if !errors.Is(err, ErrUnknownOperation) {
				t.Fatalf("want ErrUnknownOperation, got %v", err)
			}
			wantProblems(t, err, tc.want)
			wantProblems(t, spec.ValidateResponse(tc.method, tc.path, query, 200, nil), tc.want)
		})
	}
}

func TestRequests(t *testing.T) {
	spec := LoadForTest(t)
	for _, tc := range []struct {
		name, method, path, query, body string
		want                            []string // nil: conforming
	}{
		{"create section", "POST", "/api/v1/firewall/sections", "operation=insert_top",
			`{"display_name": "s", "section_type": "LAYER3", "stateful": true}`, nil},
		// NSX ignores read-only fields, and clients send back what they read.
		{"update section sent back as read", "PUT", "/api/v1/firewall/sections/4b7a", "", firewallSectionBody, nil},
		{"create with rules", "POST", "/api/v1/firewall/sections", "action=create_with_rules", sectionRuleListBody, nil},
		{"create with rules needs the rules", "POST", "/api/v1/firewall/sections", "action=create_with_rules",
			`{"section_type": "LAYER3", "stateful": true}`, []string{"rules: required property is missing"}},
		{"the action picks the body schema", "POST", "/api/v1/firewall/sections/4b7a", "action=update_with_rules",
			`{"section_type": "LAYER3", "stateful": true}`, []string{"rules: required property is missing"}},
		{"revise carries a plain section", "POST", "/api/v1/firewall/sections/4b7a", "action=revise&operation=insert_top",
			`{"section_type": "LAYER3", "stateful": true, "_revision": 3}`, nil},
		{"list_with_rules has no body", "POST", "/api/v1/firewall/sections/4b7a", "action=list_with_rules", "", nil},
		{"a body where none is declared", "POST", "/api/v1/firewall/sections/4b7a", "action=list_with_rules", `{}`,
			[]string{"declares no request body, but one was sent"}},
		{"missing body", "PUT", "/api/v1/firewall/sections/4b7a", "", "",
			[]string{"missing required request body (FirewallSection)"}},
		{"bad body", "POST", "/api/v1/firewall/sections/4b7a/rules", "",
			`{"action": "PERMIT"}`, []string{`action: value "PERMIT" not in enum`}},
		{"query enum", "POST", "/api/v1/firewall/sections", "operation=insert_middle",
			`{"section_type": "LAYER3", "stateful": true}`,
			[]string{`?operation: value "insert_middle" not in enum [insert_top insert_bottom insert_after insert_before]`}},
		{"unknown action", "POST", "/api/v1/firewall/sections", "action=create_with_ruels",
			`{"section_type": "LAYER3", "stateful": true}`,
			[]string{`?action: "create_with_ruels" selects no POST operation on /firewall/sections (known: [create_with_rules])`}},
		{"action as an enum parameter", "POST", "/api/v1/ns-groups/9c1d", "action=ADD_MEMBER",
			`{"members": []}`, []string{`?action: value "ADD_MEMBER" not in enum [ADD_MEMBERS REMOVE_MEMBERS]`}},
		{"required query parameter", "POST", "/api/v1/ns-groups/9c1d", "",
			`{"members": []}`, []string{`?action: required query parameter is missing`}},
		{"boolean query parameter", "DELETE", "/api/v1/firewall/sections/4b7a", "cascade=yes", "",
			[]string{`?cascade: expected true or false, got "yes"`}},
		{"integer query parameter", "GET", "/api/v1/firewall/sections", "page_size=lots", "",
			[]string{`?page_size: expected integer, got "lots"`}},
		{"query parameter bounds", "GET", "/api/v1/firewall/sections", "page_size=1001", "",
			[]string{`?page_size: value 1001 above maximum 1000`}},
		{"undeclared query parameter", "DELETE", "/api/v1/firewall/sections/4b7a", "recursive=true", "",
			[]string{`?recursive: query parameter not declared by DELETE /firewall/sections/{section-id}`}},
		{"list query", "GET", "/api/v1/firewall/sections", "page_size=1000&cursor=0042&type=LAYER3&included_fields=id", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			query, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			err = spec.ValidateRequest(tc.method, tc.path, query, []byte(tc.body))
			if tc.want == nil {
				wantValid(t, err)
				return
			}
			wantProblems(t, err, append(tc.want, "request "+tc.method+" "+tc.path)...)
		})
	}
}

func TestResponses(t *testing.T) {
	spec := LoadForTest(t)
	for _, tc := range []struct {
		name, method, path, query string
		status                    int
		body                      string
		want                      []string // nil: conforming
	}{
		{"created section", "POST", "/api/v1/firewall/sections", "", 201, firewallSectionBody, nil},
		{"created section with rules", "POST", "/api/v1/firewall/sections", "action=create_with_rules", 201, sectionRuleListBody, nil},
		{"section list", "GET", "/api/v1/firewall/sections", "", 200,
			`{"result_count": 1, "results": [` + firewallSectionBody + `]}`, nil},
		{"deleted", "DELETE", "/api/v1/firewall/sections/4b7a", "cascade=true", 200, "", nil},
		{"error as NSX sends it", "GET", "/api/v1/firewall/sections/4b7a", "", 404,
			`{"httpStatus": "NOT_FOUND", "error_code": 600, "module_name": "common-services", "error_message": "The requested object : 4b7a could not be found."}`, nil},
		// NSX answers a stale _revision with 409, which this operation does not declare.
		{"undeclared error status carries an ApiError", "PUT", "/api/v1/firewall/sections/4b7a", "", 409,
			`{"httpStatus": "CONFLICT", "error_code": 205, "error_message": "stale"}`, nil},
		{"error body that is not an ApiError", "PUT", "/api/v1/firewall/sections/4b7a", "", 409,
			`{"message": "stale", "code": 409}`,
			[]string{"message: property not declared by ApiError", "code: property not declared by ApiError"}},
		{"undeclared success status", "POST", "/api/v1/firewall/sections", "", 200, firewallSectionBody,
			[]string{"status 200 is not declared by POST /firewall/sections (declared: 201, 400, 403, 404, 412, 500, 503)"}},
		{"empty body where one is declared", "GET", "/api/v1/firewall/sections/4b7a", "", 200, "",
			[]string{"empty body, but the spec declares FirewallSection for status 200"}},
		{"invalid section", "GET", "/api/v1/firewall/sections/4b7a", "", 200,
			`{"id": "4b7a", "section_type": "LAYER7", "stateful": true, "rule_count": "2"}`,
			[]string{`section_type: value "LAYER7" not in enum [LAYER2 LAYER3 L3REDIRECT]`, `rule_count: expected integer, got string "2"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			query, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			err = spec.ValidateResponse(tc.method, tc.path, query, tc.status, []byte(tc.body))
			if tc.want == nil {
				wantValid(t, err)
				return
			}
			wantProblems(t, err, tc.want...)
		})
	}
}
