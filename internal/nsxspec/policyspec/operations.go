package policyspec

// The endpoints: method, path under /policy/api/v1, query parameters, body and answer. Every
// operation may also answer 400, 403, 404, 409, 412, 429, 500 and 503 with an ApiError body
// (the statuses the vendor declares on every Policy operation, plus the revision conflicts and
// throttling the reference clients handle). PATCH and DELETE succeed with 200 or 204 and no body.

// operation is one row of the endpoint table.
type operation struct {
	method, path string
	query        []param
	body         string // definition name of the request body; "" for none
	response     string // definition name of the 200 body; "" for none
}

// param is a query parameter.
type param struct {
	name     string
	schema   schema
	required bool
}

func q(name string, s schema) param { return param{name: name, schema: s} }

func qreq(name string, s schema) param { return param{name: name, schema: s, required: true} }

// listQuery are the parameters every Policy list takes.
var listQuery = []param{
	q("cursor", str()),
	q("page_size", intUpTo(1000)),
	q("include_mark_for_delete_objects", boolean()),
	q("included_fields", str()),
	q("sort_by", str()),
	q("sort_ascending", boolean()),
}

func withList(extra ...param) []param { return append(append([]param(nil), listQuery...), extra...) }

// object returns the GET, PATCH, PUT and DELETE rows of one object path.
func objectOps(path, def string, deleteQuery ...param) []operation {
	return []operation{
		{method: "GET", path: path, response: def},
		{method: "PATCH", path: path, body: def},
		{method: "PUT", path: path, body: def, response: def},
		{method: "DELETE", path: path, query: deleteQuery},
	}
}

const (
	domains  = "/infra/domains"
	domain   = domains + "/{domain-id}"
	groups   = domain + "/groups"
	group    = groups + "/{group-id}"
	policies = domain + "/security-policies"
	policy   = policies + "/{security-policy-id}"
	rules    = policy + "/rules"
	rule     = rules + "/{rule-id}"
	segments = "/infra/segments"
	segment  = segments + "/{segment-id}"
	ports    = segment + "/ports"
	port     = ports + "/{port-id}"
)

func operations() []operation {
	ops := []operation{
		{method: "GET", path: "/infra", query: []param{q("filter", str()), q("type_filter", str()), q("base_path", str())}, response: "Infra"},
		{method: "PATCH", path: "/infra", query: []param{q("enforce_revision_check", boolean())}, body: "Infra"},

		{method: "GET", path: domains, query: withList(), response: "DomainListResult"},
		{method: "GET", path: groups, query: withList(q("member_types", str())), response: "GroupListResult"},
		{method: "GET", path: group + "/members/segment-ports", query: withList(q("enforcement_point_path", str())), response: "SegmentPortListResult"},
		{method: "GET", path: group + "/members/ip-addresses", query: withList(q("enforcement_point_path", str())), response: "PolicyGroupIPMembersListResult"},
		{method: "GET", path: policies, query: withList(q("include_rule_count", boolean())), response: "SecurityPolicyListResult"},
		{method: "GET", path: rules, query: withList(), response: "RuleListResult"},
		{method: "GET", path: segments, query: withList(), response: "SegmentListResult"},
		{method: "GET", path: ports, query: withList(), response: "SegmentPortListResult"},

		{method: "GET", path: "/infra/realized-state/realized-entities",
			query: []param{qreq("intent_path", str()), q("site_path", str())}, response: "GenericPolicyRealizedResourceListResult"},
		{method: "GET", path: "/infra/realized-state/status",
			query: []param{qreq("intent_path", str()), q("include_enforced_status", boolean()), q("site_path", str())}, response: "ConsolidatedRealizedStatus"},
	}
	ops = append(ops, objectOps(domain, "Domain")...)
	// force is deprecated and ignored by NSX, but still accepted.
	ops = append(ops, objectOps(group, "Group", q("fail_if_subtree_exists", boolean()), q("force", boolean()))...)
	ops = append(ops, objectOps(policy, "SecurityPolicy")...)
	ops = append(ops, objectOps(rule, "Rule")...)
	ops = append(ops, objectOps(segment, "Segment")...)
	ops = append(ops, objectOps(port, "SegmentPort")...)
	ops = append(ops, traceflowOperations()...)
	return ops
}

// errorStatuses are declared on every operation; their bodies are checked as ApiError.
var errorStatuses = []string{"400", "403", "404", "409", "412", "429", "500", "503"}

func (op operation) swagger() schema {
	var params []any
	for _, seg := range splitTemplate(op.path) {
		params = append(params, schema{"name": seg, "in": "path", "required": true, "type": "string"})
	}
	for _, p := range op.query {
		s := schema{"name": p.name, "in": "query", "required": p.required}
		for k, v := range p.schema {
			s[k] = v
		}
		params = append(params, s)
	}
	if op.body != "" {
		params = append(params, schema{"name": "body", "in": "body", "required": true, "schema": ref(op.body)})
	}
	responses := schema{}
	switch op.method {
	case "PATCH", "DELETE":
		responses["200"], responses["204"] = schema{"description": "OK"}, schema{"description": "No Content"}
	default:
		ok := schema{"description": "OK"}
		if op.response != "" {
			ok["schema"] = ref(op.response)
		}
		responses["200"] = ok
	}
	for _, st := range errorStatuses {
		responses[st] = schema{"description": "error"}
	}
	return schema{"operationId": op.method + " " + op.path, "parameters": params, "responses": responses}
}

// splitTemplate returns the {parameter} names of a path template.
func splitTemplate(path string) []string {
	var names []string
	for i := 0; i < len(path); i++ {
		if path[i] != '{' {
			continue
		}
		j := i + 1
		for j < len(path) && path[j] != '}' {
			j++
		}
		names = append(names, path[i+1:j])
		i = j
	}
	return names
}
