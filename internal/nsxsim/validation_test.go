package nsxsim

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

// TestFieldValidation sends one over-limit or malformed field per case and expects NSX's
// field-level validation error: 400, error_code 255, "Field level validation errors: {...}".
func TestFieldValidation(t *testing.T) {
	e := newEnv(t)
	sec := e.section("s", "")
	ruleBody := func(mutate func(map[string]any)) map[string]any {
		b := map[string]any{"action": "ALLOW", "_revision": 0}
		mutate(b)
		return b
	}
	sectionBody := func(mutate func(map[string]any)) map[string]any {
		b := map[string]any{"section_type": "LAYER3", "stateful": true}
		mutate(b)
		return b
	}
	ips := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("10.%d.%d.1", i/250, i%250)
		}
		return out
	}
	tags := func(n int) []map[string]string { return repeat(n, map[string]string{"scope": "s", "tag": "t"}) }
	l4 := func(proto string, ports ...string) map[string]any {
		return map[string]any{"service": map[string]any{"resource_type": "L4PortSetNSService", "l4_protocol": proto, "destination_ports": ports}}
	}
	portBody := func(mutate func(map[string]any)) map[string]any {
		b := map[string]any{"logical_switch_id": "ls", "admin_state": "UP"}
		mutate(b)
		return b
	}
	rulePath := sectionsPath + "/" + sec.ID + "/rules"
	cases := []struct {
		name, path string
		body       any
		want       string
	}{
		{"tags maxItems", sectionsPath, sectionBody(func(b map[string]any) { b["tags"] = tags(31) }), "tags has exceeded maximum size 30"},
		{"tag scope maxLength", apiPrefix + "/ip-sets", map[string]any{"tags": []map[string]string{{"scope": strings.Repeat("s", 129)}}}, "tags.scope"},
		{"tag maxLength", apiPrefix + "/ip-sets", map[string]any{"tags": []map[string]string{{"tag": strings.Repeat("t", 257)}}}, "tags.tag"},
		{"display_name maxLength", sectionsPath, sectionBody(func(b map[string]any) { b["display_name"] = strings.Repeat("n", 256) }), "display_name"},
		{"description maxLength", sectionsPath, sectionBody(func(b map[string]any) { b["description"] = strings.Repeat("d", 1025) }), "description"},
		{"section_type required", sectionsPath, map[string]any{"stateful": true}, "section_type is a required field"},
		{"section_type enum", sectionsPath, sectionBody(func(b map[string]any) { b["section_type"] = "LAYER4" }), "section_type has invalid value"},
		{"stateful required", sectionsPath, map[string]any{"section_type": "LAYER3"}, "stateful is a required field"},
		{"section applied_tos maxItems", sectionsPath, sectionBody(func(b map[string]any) { b["applied_tos"] = repeat(129, ref("LogicalSwitch", "ls")) }), "applied_tos has exceeded maximum size 128"},
		{"action required", rulePath, ruleBody(func(b map[string]any) { delete(b, "action") }), "action is a required field"},
		{"action enum", rulePath, ruleBody(func(b map[string]any) { b["action"] = "PERMIT" }), "action has invalid value"},
		{"direction enum", rulePath, ruleBody(func(b map[string]any) { b["direction"] = "BOTH" }), "direction has invalid value"},
		{"ip_protocol enum", rulePath, ruleBody(func(b map[string]any) { b["ip_protocol"] = "IPV5" }), "ip_protocol has invalid value"},
		{"rule_tag maxLength", rulePath, ruleBody(func(b map[string]any) { b["rule_tag"] = strings.Repeat("x", 33) }), "rule_tag"},
		{"notes maxLength", rulePath, ruleBody(func(b map[string]any) { b["notes"] = strings.Repeat("x", 2049) }), "notes"},
		{"sources maxItems", rulePath, ruleBody(func(b map[string]any) { b["sources"] = repeat(129, ref("IPv4Address", "10.0.0.1")) }), "sources has exceeded maximum size 128"},
		{"destinations maxItems", rulePath, ruleBody(func(b map[string]any) { b["destinations"] = repeat(129, ref("IPv4Address", "10.0.0.1")) }), "destinations has exceeded maximum size 128"},
		{"services maxItems", rulePath, ruleBody(func(b map[string]any) { b["services"] = repeat(129, l4("TCP", "80")) }), "services has exceeded maximum size 128"},
		{"rule applied_tos maxItems", rulePath, ruleBody(func(b map[string]any) { b["applied_tos"] = repeat(129, ref("LogicalSwitch", "ls")) }), "applied_tos has exceeded maximum size 128"},
		{"target_id maxLength", rulePath, ruleBody(func(b map[string]any) { b["sources"] = []any{ref("LogicalSwitch", strings.Repeat("i", 65))} }), "target_id has exceeded maximum length 64"},
		{"target_type enum", rulePath, ruleBody(func(b map[string]any) { b["sources"] = []any{ref("VirtualMachine", "vm")} }), "target_type has invalid value"},
		{"missing NSGroup", rulePath, ruleBody(func(b map[string]any) { b["sources"] = []any{ref("NSGroup", "nope")} }), "NSGroup nope does not exist"},
		{"missing IPSet", rulePath, ruleBody(func(b map[string]any) { b["destinations"] = []any{ref("IPSet", "nope")} }), "IPSet nope does not exist"},
		{"missing applied_to port", rulePath, ruleBody(func(b map[string]any) { b["applied_tos"] = []any{ref("LogicalPort", "nope")} }), "LogicalPort nope does not exist"},
		{"bad IPv4 literal", rulePath, ruleBody(func(b map[string]any) { b["sources"] = []any{ref("IPv4Address", "fe80::1")} }), "not an IPv4Address"},
		{"l4_protocol enum", rulePath, ruleBody(func(b map[string]any) { b["services"] = []any{l4("ICMP", "80")} }), "l4_protocol has invalid value"},
		{"ports per L4 entry", rulePath, ruleBody(func(b map[string]any) { b["services"] = []any{l4("TCP", repeat(16, "80")...)} }), "destination_ports has exceeded maximum size 15"},
		{"empty port range", rulePath, ruleBody(func(b map[string]any) { b["services"] = []any{l4("TCP", "22-22")} }), "non-empty range"},
		{"NSService reference", rulePath, ruleBody(func(b map[string]any) { b["services"] = []any{ref("NSService", "svc")} }), "NSService svc does not exist"},
		{"ICMP type range", rulePath, ruleBody(func(b map[string]any) {
			b["services"] = []any{map[string]any{"service": map[string]any{"resource_type": "ICMPTypeNSService", "protocol": "ICMPv4", "icmp_type": 300}}}
		}), "icmp_type must be between 0 and 255"},
		{"unsupported service element", rulePath, ruleBody(func(b map[string]any) {
			b["services"] = []any{map[string]any{"service": map[string]any{"resource_type": "ALGTypeNSService"}}}
		}), "not supported by the simulator"},
		{"position operation enum", rulePath + "?operation=insert_middle", ruleBody(func(map[string]any) {}), "operation has invalid value"},
		{"group members maxItems", apiPrefix + "/ns-groups", map[string]any{"members": repeat(501, staticMember("LogicalSwitch", "ls"))}, "members has exceeded maximum size 500"},
		{"group criteria maxItems", apiPrefix + "/ns-groups", map[string]any{"membership_criteria": repeat(6, tagCriterion("a", "b"))}, "membership_criteria has exceeded maximum size 5"},
		{"complex too small", apiPrefix + "/ns-groups", map[string]any{"membership_criteria": []any{map[string]any{"resource_type": "NSGroupComplexExpression", "expressions": []any{tagCriterion("a", "b")}}}}, "between 2 and 5"},
		{"complex too big", apiPrefix + "/ns-groups", map[string]any{"membership_criteria": []any{map[string]any{"resource_type": "NSGroupComplexExpression", "expressions": repeat(6, tagCriterion("a", "b"))}}}, "between 2 and 5"},
		{"tag_op on LogicalPort", apiPrefix + "/ns-groups", map[string]any{"membership_criteria": []any{map[string]any{"resource_type": "NSGroupTagExpression", "target_type": "LogicalPort", "tag": "x", "tag_op": "CONTAINS"}}}, "only EQUALS"},
		{"tag expression target_type", apiPrefix + "/ns-groups", map[string]any{"membership_criteria": []any{map[string]any{"resource_type": "NSGroupTagExpression", "tag": "x"}}}, "target_type is a required field"},
		{"member must be simple", apiPrefix + "/ns-groups", map[string]any{"members": []any{tagCriterion("a", "b")}}, "members.resource_type must be NSGroupSimpleExpression"},
		{"missing static member", apiPrefix + "/ns-groups", map[string]any{"members": []any{staticMember("IPSet", "nope")}}, "IPSet nope does not exist"},
		{"ipset entries maxItems", apiPrefix + "/ip-sets", map[string]any{"ip_addresses": ips(4001)}, "ip_addresses has exceeded maximum size 4000"},
		{"ipset mixed families", apiPrefix + "/ip-sets", map[string]any{"ip_addresses": []string{"10.0.0.1", "fd00::1"}}, "either IPv4 or IPv6"},
		{"ipset bad entry", apiPrefix + "/ip-sets", map[string]any{"ip_addresses": []string{"10.0.0.300"}}, "not a valid IP address"},
		{"logical_switch_id required", apiPrefix + "/logical-ports", portBody(func(b map[string]any) { delete(b, "logical_switch_id") }), "logical_switch_id is a required field"},
		{"admin_state required", apiPrefix + "/logical-ports", portBody(func(b map[string]any) { delete(b, "admin_state") }), "admin_state is a required field"},
		{"admin_state enum", apiPrefix + "/logical-ports", portBody(func(b map[string]any) { b["admin_state"] = "ON" }), "admin_state has invalid value"},
		{"port tags maxItems", apiPrefix + "/logical-ports", portBody(func(b map[string]any) { b["tags"] = tags(31) }), "tags has exceeded maximum size 30"},
		{"malformed JSON", sectionsPath, "{", "not valid JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := e.fails("POST", tc.path, tc.body, http.StatusBadRequest, nsxclient.ErrCodeFieldValidation)
			if !strings.HasPrefix(body.ErrorMessage, fieldValidationIntro+"{") || !strings.Contains(body.ErrorMessage, tc.want) {
				t.Fatalf("message %q does not contain %q", body.ErrorMessage, tc.want)
			}
		})
	}
}

func TestRulesPerSectionLimit(t *testing.T) {
	e := newEnv(t)
	rules := repeat(1000, allowRule("r"))
	var sec nsxclient.FirewallSectionRuleList
	e.call("POST", sectionsPath+"?action=create_with_rules", map[string]any{"section_type": "LAYER3", "stateful": true, "rules": rules}, http.StatusCreated, &sec)
	body := allowRule("one-too-many")
	body["_revision"] = sec.Revision
	e.fails("POST", sectionsPath+"/"+sec.ID+"/rules", body, 400, nsxclient.ErrCodeFieldValidation)
	e.fails("POST", sectionsPath+"?action=create_with_rules", map[string]any{"section_type": "LAYER3", "stateful": true, "rules": repeat(1001, allowRule("r"))}, 400, nsxclient.ErrCodeFieldValidation)
}

func TestUnknownRoutes(t *testing.T) {
	e := newEnv(t)
	e.fails("GET", apiPrefix+"/no-such-collection", nil, 404, errCodeBadRequestURI)
	e.fails("POST", sectionsPath+"?action=explode", map[string]any{}, 400, errCodeBadRequestURI)
	sec := e.section("s", "")
	e.fails("POST", apiPrefix+"/ns-groups/x?action=add_members", map[string]any{"members": []any{}}, 400, errCodeBadRequestURI)
	e.fails("PATCH", sectionsPath+"/"+sec.ID, map[string]any{}, 400, errCodeBadRequestURI)
}
