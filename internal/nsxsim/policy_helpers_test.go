package nsxsim

import (
	"net/http"

	"github.com/microseg/microseg/nsxclient"
)

// Helpers of the Policy API tests: raw requests with nsxclient's types as bodies.

func (e *env) ppatch(path string, body any) {
	e.t.Helper()
	e.call("PATCH", policyPrefix+path, body, http.StatusNoContent, nil)
}

func (e *env) pget(path string, out any) {
	e.t.Helper()
	e.call("GET", policyPrefix+path, nil, http.StatusOK, out)
}

func (e *env) pfails(method, path string, body any, status int, code int64) nsxclient.APIErrorBody {
	e.t.Helper()
	return e.fails(method, policyPrefix+path, body, status, code)
}

func (e *env) hapi(body nsxclient.Infra, query string) resp {
	e.t.Helper()
	return e.request("PATCH", policyPrefix+"/infra"+query, body)
}

func pgroupBody(id string, exprs ...nsxclient.PolicyExpression) nsxclient.PolicyGroup {
	return nsxclient.PolicyGroup{PolicyResource: nsxclient.PolicyResource{ID: id}, Expression: exprs}
}

func gpath(id string) string { return nsxclient.GroupPath("default", id) }

func ppath(id string) string { return nsxclient.SecurityPolicyPath("default", id) }

func rpath(policy, id string) string { return nsxclient.RulePath("default", policy, id) }

// allowTo is an ALLOW rule from anywhere to a group on TCP ports.
func allowTo(id string, seq int64, group string, ports ...string) nsxclient.PolicyRule {
	return nsxclient.PolicyRule{PolicyResource: nsxclient.PolicyResource{ID: id}, Action: nsxclient.ActionAllow,
		SourceGroups: []string{nsxclient.AnyPath}, DestinationGroups: []string{gpath(group)},
		Services: []string{nsxclient.AnyPath}, ServiceEntries: []nsxclient.ServiceEntry{nsxclient.L4PortSetEntry("TCP", ports...)},
		SequenceNumber: seq}
}

func policyBody(id, category string, seq int64, rules ...nsxclient.PolicyRule) nsxclient.SecurityPolicy {
	return nsxclient.SecurityPolicy{PolicyResource: nsxclient.PolicyResource{ID: id}, Category: category, SequenceNumber: seq, Rules: rules}
}

// segmentPort creates a segment (if needed) and a tagged port on it with one address.
func (e *env) segmentPort(segment, id, ip string, tags ...nsxclient.Tag) nsxclient.SegmentPort {
	e.t.Helper()
	e.ppatch("/infra/segments/"+segment, nsxclient.Segment{})
	e.ppatch("/infra/segments/"+segment+"/ports/"+id, nsxclient.SegmentPort{PolicyResource: nsxclient.PolicyResource{Tags: tags},
		AddressBindings: []nsxclient.PortAddressBindingEntry{{IPAddress: ip}},
		Attachment:      &nsxclient.PortAttachment{ID: "vif-" + id, Type: "CHILD", ContextID: "node-vif", TrafficTag: 7}})
	var p nsxclient.SegmentPort
	e.pget("/infra/segments/"+segment+"/ports/"+id, &p)
	return p
}

func tag(scope, value string) nsxclient.Tag { return nsxclient.Tag{Scope: scope, Tag: value} }
