package policyspec

import (
	"net/url"
	"strings"
	"testing"
)

func mustSpec(t *testing.T) interface {
	ValidateRequest(method, urlPath string, query url.Values, body []byte) error
	ValidateResponse(method, urlPath string, query url.Values, status int, body []byte) error
} {
	t.Helper()
	s, err := Spec()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestTableAcceptsWhatNSXSends and TestTableRejects check the table against bodies shaped like
// the examples of the vendor's reference and the reference clients, and against mistakes it
// exists to catch.
func TestTableAcceptsWhatNSXSends(t *testing.T) {
	s := mustSpec(t)
	const hapi = `{"resource_type":"Infra","children":[
 {"resource_type":"ChildResourceReference","id":"default","target_type":"Domain","children":[
  {"resource_type":"ChildGroup","id":"web","marked_for_delete":false,
   "Group":{"resource_type":"Group","id":"web","expression":[
     {"resource_type":"Condition","member_type":"SegmentPort","key":"Tag","operator":"EQUALS","value":"app|web"}]}},
  {"resource_type":"ChildSecurityPolicy","id":"sec-tier","marked_for_delete":false,
   "SecurityPolicy":{"resource_type":"SecurityPolicy","id":"sec-tier","category":"Environment","sequence_number":100,
     "stateful":true,"scope":["ANY"],"children":[
      {"resource_type":"ChildRule","id":"r1","marked_for_delete":false,
       "Rule":{"resource_type":"Rule","id":"r1","sequence_number":1,"action":"ALLOW","direction":"IN",
        "source_groups":["ANY"],"destination_groups":["/infra/domains/default/groups/web"],
        "services":["ANY"],"scope":["/infra/domains/default/groups/web"]}},
      {"resource_type":"ChildRule","id":"gone","marked_for_delete":true,"Rule":{"resource_type":"Rule","id":"gone"}}]}}]}]}`
	if err := s.ValidateRequest("PATCH", BasePath+"/infra", url.Values{"enforce_revision_check": {"false"}}, []byte(hapi)); err != nil {
		t.Errorf("H-API example: %v", err)
	}
	const nested = `{"id":"g","expression":[{"resource_type":"NestedExpression","expressions":[
		{"resource_type":"Condition","member_type":"Segment","key":"Tag","value":"ncp/cluster|c1"},
		{"resource_type":"ConjunctionOperator","conjunction_operator":"AND"},
		{"resource_type":"Condition","member_type":"SegmentPort","key":"Tag","scope_operator":"NOTEQUALS","value":"tier|"}]},
		{"resource_type":"ConjunctionOperator","conjunction_operator":"OR"},
		{"resource_type":"IPAddressExpression","ip_addresses":["10.0.0.0/24","10.1.0.1-10.1.0.9"]},
		{"resource_type":"ConjunctionOperator","conjunction_operator":"OR"},
		{"resource_type":"PathExpression","paths":["/infra/domains/default/groups/other"]}]}`
	if err := s.ValidateRequest("PATCH", BasePath+"/infra/domains/default/groups/g", nil, []byte(nested)); err != nil {
		t.Errorf("group: %v", err)
	}
	if err := s.ValidateResponse("GET", BasePath+"/infra/domains/default/groups", nil, 200,
		[]byte(`{"results":[{"id":"g","path":"/infra/domains/default/groups/g","_revision":0,"_protection":"NOT_PROTECTED","state":"SUCCESS"}],"result_count":1}`)); err != nil {
		t.Errorf("group list: %v", err)
	}
	if err := s.ValidateResponse("DELETE", BasePath+"/infra/domains/default/groups/g", nil, 400,
		[]byte(`{"httpStatus":"BAD_REQUEST","error_code":500030,"error_message":"in use","module_name":"Policy","related_errors":[{"httpStatus":"BAD_REQUEST","error_code":1}]}`)); err != nil {
		t.Errorf("error body: %v", err)
	}
}

func TestTableRejects(t *testing.T) {
	s := mustSpec(t)
	for name, tc := range map[string]struct {
		method, path string
		query        url.Values
		body         string
		want         string
	}{
		"unknown action":       {"PATCH", "/infra/domains/d/security-policies/p/rules/r", nil, `{"action":"PASS","source_groups":["ANY"],"destination_groups":["ANY"],"services":["ANY"]}`, "not in enum"},
		"misspelt field":       {"PATCH", "/infra/domains/d/security-policies/p/rules/r", nil, `{"action":"ALLOW","source_group":["ANY"]}`, "source_group"},
		"sequence too large":   {"PATCH", "/infra/domains/d/security-policies/p", nil, `{"sequence_number":1000000}`, "sequence_number"},
		"unknown category":     {"PATCH", "/infra/domains/d/security-policies/p", nil, `{"category":"Baseline"}`, "not in enum"},
		"condition w/o value":  {"PATCH", "/infra/domains/d/groups/g", nil, `{"expression":[{"resource_type":"Condition","member_type":"SegmentPort","key":"Tag"}]}`, "value"},
		"unknown expression":   {"PATCH", "/infra/domains/d/groups/g", nil, `{"expression":[{"resource_type":"Tagged"}]}`, "unknown discriminator"},
		"empty ip expression":  {"PATCH", "/infra/domains/d/groups/g", nil, `{"expression":[{"resource_type":"IPAddressExpression","ip_addresses":[]}]}`, "ip_addresses"},
		"16 ports":             {"PATCH", "/infra/domains/d/security-policies/p/rules/r", nil, `{"service_entries":[{"resource_type":"L4PortSetServiceEntry","l4_protocol":"TCP","destination_ports":["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16"]}]}`, "destination_ports"},
		"SCTP ports":           {"PATCH", "/infra/domains/d/security-policies/p/rules/r", nil, `{"service_entries":[{"resource_type":"L4PortSetServiceEntry","l4_protocol":"SCTP"}]}`, "not in enum"},
		"child without object": {"PATCH", "/infra", nil, `{"resource_type":"Infra","children":[{"resource_type":"ChildGroup","id":"g"}]}`, "Group"},
		"unknown query":        {"GET", "/infra/domains/d/groups", url.Values{"pagesize": {"5"}}, "", "pagesize"},
		"page size too large":  {"GET", "/infra/domains/d/groups", url.Values{"page_size": {"5000"}}, "", "page_size"},
		"missing intent path":  {"GET", "/infra/realized-state/status", nil, "", "intent_path"},
		"unknown endpoint":     {"GET", "/infra/services", nil, "", "no path template"},
		"POST where none":      {"POST", "/infra/domains/d/groups/g", nil, `{}`, "no POST operation"},
	} {
		err := s.ValidateRequest(tc.method, BasePath+tc.path, tc.query, []byte(tc.body))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", name, err, tc.want)
		}
	}
	if err := s.ValidateResponse("GET", BasePath+"/infra/domains/d/groups/g", nil, 200, []byte(`{"id":"g","state":"DONE"}`)); err == nil {
		t.Error("a response with an unknown group state passed")
	}
	if err := s.ValidateResponse("PATCH", BasePath+"/infra/domains/d/groups/g", nil, 201, nil); err == nil {
		t.Error("PATCH answering 201 passed")
	}
}

// TestEndpointsAreUnique: every row names a distinct operation.
func TestEndpointsAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range Endpoints() {
		if seen[e] {
			t.Errorf("%s twice", e)
		}
		seen[e] = true
	}
	if len(seen) < 30 {
		t.Errorf("only %d endpoints", len(seen))
	}
}
