package nsxsim

import (
	"strings"
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

// TestPolicyValidation: each write is refused with 400 and a message naming the problem.
func TestPolicyValidation(t *testing.T) {
	e := newEnv(t)
	e.ppatch(gpath("web"), pgroupBody("web", nsxclient.TagEquals("SegmentPort", "app", "web")))
	e.ppatch(gpath("ips"), pgroupBody("ips", nsxclient.IPAddresses("10.0.0.0/8")))
	e.ppatch(ppath("app"), policyBody("app", "Application", 1))
	cond := nsxclient.TagEquals("SegmentPort", "app", "x")
	ipv4 := nsxclient.IPAddresses("10.0.0.1")
	or, and := nsxclient.Conjunction("OR"), nsxclient.Conjunction("AND")
	rule := func(edit func(r *nsxclient.PolicyRule)) nsxclient.PolicyRule {
		r := allowTo("r", 1, "web", "80")
		edit(&r)
		return r
	}
	many := func(n int, e nsxclient.PolicyExpression) []nsxclient.PolicyExpression {
		var out []nsxclient.PolicyExpression
		for range n {
			out = append(out, e)
		}
		return out
	}
	tests := []struct {
		name, path string
		body       any
		want       string
	}{
		{"even expression list", gpath("g"), pgroupBody("g", cond, or), "length is odd"},
		{"conjunction at an even index", gpath("g"), pgroupBody("g", or), "even index"},
		{"six criteria", gpath("g"), pgroupBody("g", nsxclient.Join("OR", many(6, cond)...)...), "6 criteria"},
		{"AND between an IP set and a condition", gpath("g"), pgroupBody("g", cond, and, ipv4), "AND between criteria"},
		{"OR inside a nested expression", gpath("g"), pgroupBody("g", nsxclient.PolicyExpression{ResourceType: "NestedExpression",
			Expressions: []nsxclient.PolicyExpression{cond, or, cond}}), "AND only"},
		{"six conditions of one type", gpath("g"), pgroupBody("g", nsxclient.AllOf(many(6, cond)...)), "at most 5"},
		{"sixteen mixed conditions", gpath("g"), pgroupBody("g", nsxclient.AllOf(append(many(8, cond),
			many(8, nsxclient.TagEquals("Segment", "ncp/cluster", "c"))...)...)), "at most 15"},
		{"mixed address families", gpath("g"), pgroupBody("g", nsxclient.IPAddresses("10.0.0.1", "fd00::1")), "mixes IPv4 and IPv6"},
		{"bad address", gpath("g"), pgroupBody("g", nsxclient.IPAddresses("10.0.0.300")), "not a valid IP"},
		{"LogicalPort member type", gpath("g"), pgroupBody("g", nsxclient.TagEquals("LogicalPort", "a", "b")), "no longer supported"},
		{"condition without operator on VMs", gpath("g"), pgroupBody("g", nsxclient.PolicyExpression{ResourceType: "Condition",
			MemberType: "VirtualMachine", Key: "Tag", Value: "a|b"}), "operator is a required"},
		{"empty tag value", gpath("g"), pgroupBody("g", nsxclient.TagEquals("SegmentPort", "", "")), "neither a scope nor a tag"},
		{"path expression to nothing", gpath("g"), pgroupBody("g", nsxclient.Paths(gpath("nope"))), "does not exist"},
		{"self-nesting", gpath("web"), pgroupBody("web", nsxclient.Paths(gpath("web"))), "cycle"},
		{"unknown category", ppath("p"), policyBody("p", "Baseline", 1), "category"},
		{"sequence out of range", ppath("p"), policyBody("p", "Application", 1000000), "sequence_number"},
		{"stateful Ethernet", ppath("p"), nsxclient.SecurityPolicy{PolicyResource: nsxclient.PolicyResource{ID: "p"}, Category: "Ethernet",
			Stateful: boolPtr(true)}, "stateless"},
		{"IP-only group as scope", ppath("p"), nsxclient.SecurityPolicy{PolicyResource: nsxclient.PolicyResource{ID: "p"},
			Scope: []string{gpath("ips")}}, "only IP addresses"},
		{"JUMP outside Environment", rpath("app", "r"), rule(func(r *nsxclient.PolicyRule) { r.Action = "JUMP_TO_APPLICATION" }), "only in rules of Environment"},
		{"unknown action", rpath("app", "r"), rule(func(r *nsxclient.PolicyRule) { r.Action = "PASS" }), "action"},
		{"ANY with others", rpath("app", "r"), rule(func(r *nsxclient.PolicyRule) { r.SourceGroups = []string{"ANY", gpath("web")} }), "ANY must be the only"},
		{"missing sources", rpath("app", "r"), rule(func(r *nsxclient.PolicyRule) { r.SourceGroups = nil }), "source_groups is a required"},
		{"all ANY", rpath("app", "r"), rule(func(r *nsxclient.PolicyRule) { r.DestinationGroups = []string{"ANY"} }), "all ANY"},
		{"service path", rpath("app", "r"), rule(func(r *nsxclient.PolicyRule) { r.Services = []string{"/infra/services/HTTP"} }), "no Service objects"},
		{"rule group missing", rpath("app", "r"), rule(func(r *nsxclient.PolicyRule) { r.DestinationGroups = []string{gpath("nope")} }), "does not exist"},
		{"SCTP ports", rpath("app", "r"), rule(func(r *nsxclient.PolicyRule) {
			r.ServiceEntries = []nsxclient.ServiceEntry{nsxclient.L4PortSetEntry("SCTP", "80")}
		}), "TCP or UDP"},
		{"16 port values", rpath("app", "r"), rule(func(r *nsxclient.PolicyRule) {
			r.ServiceEntries = []nsxclient.ServiceEntry{nsxclient.L4PortSetEntry("TCP", "1-2", "3-4", "5-6", "7-8", "9-10", "11-12", "13-14", "15-16")}
		}), "16 values"},
		{"empty port range", rpath("app", "r"), rule(func(r *nsxclient.PolicyRule) {
			r.ServiceEntries = []nsxclient.ServiceEntry{nsxclient.L4PortSetEntry("TCP", "22-22")}
		}), "non-empty range"},
		{"rule in the default policy", rpath("default-layer3-section", "r"), rule(func(*nsxclient.PolicyRule) {}), "only its default rule"},
		{"id with a space", gpath("a b"), pgroupBody("a b"), "space"},
		{"body id differs", gpath("g"), pgroupBody("h"), "differs"},
		{"resource_type differs", gpath("g"), nsxclient.PolicyGroup{PolicyResource: nsxclient.PolicyResource{ResourceType: "Rule"}}, "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := e.pfails("PATCH", tt.path, tt.body, 400, 0)
			if !strings.Contains(body.ErrorMessage, tt.want) {
				t.Errorf("message %q lacks %q", body.ErrorMessage, tt.want)
			}
		})
	}
	// Nothing of the refused writes was stored.
	var list nsxclient.ListResult[nsxclient.PolicyGroup]
	e.pget("/infra/domains/default/groups", &list)
	if len(list.Results) != 2 {
		t.Errorf("%d groups stored, want the 2 valid ones", len(list.Results))
	}
}

// TestJumpToApplicationInEnvironment: the one category where Pass is native.
func TestJumpToApplicationInEnvironment(t *testing.T) {
	e := newEnv(t)
	e.ppatch(gpath("web"), pgroupBody("web", nsxclient.TagEquals("SegmentPort", "app", "web")))
	r := allowTo("pass", 1, "web", "80")
	r.Action = "JUMP_TO_APPLICATION"
	e.ppatch(ppath("env"), policyBody("env", "Environment", 1, r))
	// Moving the policy out of Environment would strand its JUMP rule: refused.
	body := e.pfails("PATCH", ppath("env"), map[string]any{"category": "Application"}, 400, 0)
	if !strings.Contains(body.ErrorMessage, "Environment") {
		t.Errorf("message = %s", body.ErrorMessage)
	}
}
