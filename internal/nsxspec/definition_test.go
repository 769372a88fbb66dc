package nsxspec

import (
	"strings"
	"testing"
)

func TestValidDefinitionsPass(t *testing.T) {
	spec := LoadForTest(t)
	for _, tc := range []struct{ name, definition, body string }{
		{"section", "FirewallSection", firewallSectionBody},
		{"rule with inline L4 service", "FirewallRule", firewallRuleBody},
		{"group with simple, tag and complex expressions", "NSGroup", nsGroupBody},
		{"IP set", "IPSet", ipSetBody},
		{"logical port with VIF context", "LogicalPort", logicalPortBody},
		{"section with rules", "FirewallSectionRuleList", sectionRuleListBody},
		{"error with httpStatus", "ApiError", apiErrorBody},
		// allOf overrides: results are FirewallSections here, not the base's DSSections, so
		// FirewallSection-only properties (tcp_strict, enforced_on) are declared.
		{"section list", "FirewallSectionListResult", `{"result_count": 1, "results": [` + firewallSectionBody + `]}`},
		{"group list", "NSGroupListResult", `{"result_count": 1, "cursor": "0042", "results": [` + nsGroupBody + `]}`},
		{"null means not set", "FirewallRule", `{"action": "DROP", "sources": null, "services": null}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantValid(t, spec.ValidateDefinition(tc.definition, []byte(tc.body)))
		})
	}
}

func TestViolationsAreReported(t *testing.T) {
	spec := LoadForTest(t)
	for _, tc := range []struct {
		name, definition, body string
		want                   []string
	}{
		{"wrong type", "FirewallSection", `{"section_type": "LAYER3", "stateful": "yes"}`,
			[]string{`stateful: expected boolean, got string "yes"`}},
		{"object where array expected", "FirewallRule", `{"action": "ALLOW", "sources": {"target_id": "x"}}`,
			[]string{`sources: expected array, got object`}},
		{"enum deep in a section", "FirewallSectionRuleList",
			strings.Replace(sectionRuleListBody, `"TCP"`, `"SCTP"`, 1),
			[]string{`rules[0].services[0].service.l4_protocol: value "SCTP" not in enum [TCP UDP]`}},
		{"maxItems", "FirewallRule",
			`{"action": "ALLOW", "sources": ` + jsonList(`{"target_id": "g", "target_type": "NSGroup"}`, 129) + `}`,
			[]string{`sources: 129 items exceed maxItems 128`}},
		{"minItems", "NSGroupComplexExpression",
			`{"resource_type": "NSGroupComplexExpression", "expressions": [{"resource_type": "NSGroupTagExpression", "target_type": "LogicalPort"}]}`,
			[]string{`expressions: 1 items are fewer than minItems 2`}},
		{"maxLength", "FirewallRule", `{"action": "ALLOW", "rule_tag": "` + strings.Repeat("x", 33) + `"}`,
			[]string{`rule_tag: string length 33 exceeds maxLength 32`}},
		{"missing required", "FirewallSection", `{"display_name": "s", "stateful": true}`,
			[]string{`section_type: required property is missing`}},
		{"null required", "FirewallRule", `{"action": null}`,
			[]string{`action: required property is null`}},
		{"required in the chosen subtype", "NSGroup",
			`{"membership_criteria": [{"resource_type": "NSGroupTagExpression", "tag": "t"}]}`,
			[]string{`membership_criteria[0].target_type: required property is missing`}},
		{"unknown discriminator", "NSGroup",
			`{"membership_criteria": [{"resource_type": "NSGroupLabelExpression", "target_type": "LogicalPort"}]}`,
			[]string{`membership_criteria[0].resource_type: unknown discriminator value "NSGroupLabelExpression" for NSGroupExpression; want one of [NSGroupComplexExpression NSGroupSimpleExpression NSGroupTagExpression]`}},
		{"sibling subtype where one subtype is required", "NSGroup",
			`{"members": [{"resource_type": "NSGroupTagExpression", "target_type": "LogicalPort", "tag": "t"}]}`,
			[]string{`members[0].resource_type: unknown discriminator value "NSGroupTagExpression" for NSGroupSimpleExpression`}},
		{"unknown service element", "FirewallRule",
			`{"action": "ALLOW", "services": [{"service": {"resource_type": "L7PortSetNSService", "l4_protocol": "TCP"}}]}`,
			[]string{`services[0].service.resource_type: unknown discriminator value "L7PortSetNSService" for NSServiceElement`}},
		{"property of another subtype", "FirewallRule",
			`{"action": "ALLOW", "services": [{"service": {"resource_type": "L4PortSetNSService", "l4_protocol": "TCP", "icmp_type": 8}}]}`,
			[]string{`services[0].service.icmp_type: property not declared by L4PortSetNSService`}},
		{"unknown property", "FirewallSection", `{"section_type": "LAYER3", "stateful": true, "sectionType": "LAYER3"}`,
			[]string{`sectionType: property not declared by FirewallSection`}},
		{"unknown property in a nested reference", "FirewallRule",
			`{"action": "ALLOW", "sources": [{"target_id": "g", "targetType": "NSGroup"}]}`,
			[]string{`sources[0].targetType: property not declared by ResourceReference`}},
		{"httpStatus is allowed, a typo of it is not", "ApiError", `{"httpstatus": "BAD_REQUEST", "error_code": 1}`,
			[]string{`httpstatus: property not declared by ApiError`}},
		{"int32 overflow", "FirewallRule", `{"action": "ALLOW", "_revision": 2147483648}`,
			[]string{`_revision: value 2147483648 out of int32 range`}},
		{"int64 overflow", "FirewallSection", `{"section_type": "LAYER3", "stateful": true, "_create_time": 9223372036854775808}`,
			[]string{`_create_time: value 9223372036854775808 out of int64 range`}},
		{"non-integer literal", "FirewallRule", `{"action": "ALLOW", "_revision": 1.0}`,
			[]string{`_revision: expected integer, got number 1.0`}},
		{"string format", "IPSet", `{"ip_addresses": ["10.0.0.300", "10.0.0.9-10.0.0.1", "10.0.0.0/8"]}`,
			[]string{`ip_addresses[0]: value "10.0.0.300" is not a valid address-or-block-or-range`,
				`ip_addresses[1]: value "10.0.0.9-10.0.0.1" is not a valid address-or-block-or-range`}},
		{"port format", "L4PortSetNSService", `{"resource_type": "L4PortSetNSService", "l4_protocol": "UDP", "destination_ports": ["53", "65536", "90-80"]}`,
			[]string{`destination_ports[1]: value "65536" is not a valid port-or-range`,
				`destination_ports[2]: value "90-80" is not a valid port-or-range`}},
		{"pattern", "PacketAddressClassifier", `{"mac_address": "02-50-56"}`,
			[]string{`mac_address: value "02-50-56" does not match pattern`}},
		{"not JSON", "FirewallRule", `{"action": "ALLOW",}`,
			[]string{`body is not valid JSON`}},
		{"trailing data", "FirewallRule", `{"action": "ALLOW"} {}`,
			[]string{`trailing data after the JSON value`}},
		{"null document", "FirewallRule", `null`,
			[]string{`expected object, got null`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantProblems(t, spec.ValidateDefinition(tc.definition, []byte(tc.body)), tc.want...)
		})
	}
}

func TestEveryProblemIsListed(t *testing.T) {
	spec := LoadForTest(t)
	err := spec.ValidateDefinition("FirewallRule", []byte(`{"direction": "UP", "rule_tag": 7, "logged": "no"}`))
	wantProblems(t, err,
		"FirewallRule does not conform to the NSX API spec (4 problems)",
		`action: required property is missing`,
		`direction: value "UP" not in enum [IN OUT IN_OUT]`,
		`rule_tag: expected string, got number 7`,
		`logged: expected boolean, got string "no"`)
	var verr *ValidationError
	if !asValidationError(err, &verr) || len(verr.Problems) != 4 {
		t.Errorf("want a *ValidationError with 4 problems, got %#v", err)
	}
}

func TestStrictCanBeTurnedOff(t *testing.T) {
	spec := LoadForTest(t)
	lenient := spec.WithOptions(Options{})
	body := []byte(`{"action": "ALLOW", "invented": true}`)
	wantValid(t, lenient.ValidateDefinition("FirewallRule", body))
	wantProblems(t, spec.ValidateDefinition("FirewallRule", body), "invented: property not declared by FirewallRule")
	// Without the default allowance, NSX's httpStatus is as unknown as any invented field.
	strictNoExtras := spec.WithOptions(Options{Strict: true})
	wantProblems(t, strictNoExtras.ValidateDefinition("ApiError", []byte(apiErrorBody)),
		"httpStatus: property not declared by ApiError",
		"related_errors[0].httpStatus: property not declared by RelatedApiError")
}

func TestUnknownDefinition(t *testing.T) {
	spec := LoadForTest(t)
	wantProblems(t, spec.ValidateDefinition("FireWallRule", []byte(`{}`)), `no definition "FireWallRule"`)
	if !spec.HasDefinition("FirewallRule") || spec.HasDefinition("FireWallRule") {
		t.Error("HasDefinition disagrees with the spec")
	}
}

func TestUnsupportedPatternsAreNoted(t *testing.T) {
	spec := LoadForTest(t)
	notes := strings.Join(spec.Notes(), "\n")
	if !strings.Contains(notes, "redirect_host: pattern not enforced") {
		t.Errorf("want the look-ahead hostname patterns noted as unenforced, got:\n%s", notes)
	}
}
