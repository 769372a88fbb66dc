package nsxsim

import (
	"github.com/microseg/microseg/nsxclient"
	"net/http"
	"net/url"
	"strings"
)

const apiPrefix = "/api/v1"

// route is one NSX endpoint: a method, a path pattern with {params}, and the ?action= value it
// requires ("" for none). Its name ("POST /api/v1/firewall/sections/{section-id}?action=revise")
// keys the statistics and can target faults.
type route struct {
	method  string
	pattern string
	action  string
	write   bool // counts as an NSX write in Stats
	public  bool // served without authentication (session create)
	handle  func(*call) reply
	segs    []string
	name    string
}

// call is one API request as a handler sees it.
type call struct {
	r      *http.Request
	user   string
	params map[string]string
	query  url.Values
	body   []byte

	// Filled by handlers for the cost model (cost.go).
	rulesWritten int // rules carried in a write body
	rulesBulk    int // rules returned by list_with_rules-style calls
	rulesPaged   int // rules returned by GET …/rules pages (and embedded in a Policy GET)
	// policyWritten and policyRead count the Policy objects a write carried and a hierarchical
	// read returned.
	policyWritten int
	policyRead    int
	// reads lists the objects this call showed the client, for the concurrent-editor fault.
	reads []objectRef
}

// objectRef names one stored object.
type objectRef struct {
	kind string // one of the Kind* constants
	id   string
}

// Object kinds, as used by the concurrent-editor fault.
const (
	KindSection     = "FirewallSection"
	KindRule        = "FirewallRule"
	KindNSGroup     = "NSGroup"
	KindIPSet       = "IPSet"
	KindLogicalPort = "LogicalPort"

	// Policy API kinds are the resource types; their ids are paths.
	KindDomain         = nsxclient.ResourceDomain
	KindPolicyGroup    = nsxclient.ResourceGroup
	KindSecurityPolicy = nsxclient.ResourceSecurityPolicy
	KindPolicyRule     = nsxclient.ResourceRule
	KindSegment        = nsxclient.ResourceSegment
	KindSegmentPort    = nsxclient.ResourceSegmentPort
)

func (c *call) param(name string) string { return c.params[name] }

func (c *call) read(kind, id string) { c.reads = append(c.reads, objectRef{kind, id}) }

// reply is what a handler returns: a status and a JSON body (an *apiError for failures).
type reply struct {
	status  int
	body    any
	header  http.Header
	encoded []byte
}

func ok(body any) reply      { return reply{status: http.StatusOK, body: body} }
func created(body any) reply { return reply{status: http.StatusCreated, body: body} }
func fail(e *apiError) reply { return reply{status: e.status, body: e} }

func (s *Server) buildRoutes() []*route {
	const (
		sections = apiPrefix + "/firewall/sections"
		section  = sections + "/{section-id}"
		rules    = section + "/rules"
		rule     = rules + "/{rule-id}"
		groups   = apiPrefix + "/ns-groups"
		group    = groups + "/{ns-group-id}"
		ipsets   = apiPrefix + "/ip-sets"
		ipset    = ipsets + "/{ip-set-id}"
		ports    = apiPrefix + "/logical-ports"
		port     = ports + "/{lport-id}"
	)
	rs := []*route{
		{method: "POST", pattern: "/api/session/create", public: true, handle: s.handleSessionCreate},
		{method: "POST", pattern: "/api/session/destroy", handle: s.handleSessionDestroy},

		{method: "GET", pattern: apiPrefix + "/node/version", handle: s.handleNodeVersion},

		{method: "GET", pattern: sections, handle: s.handleListSections},
		{method: "POST", pattern: sections, write: true, handle: s.handleCreateSection},
		{method: "POST", pattern: sections, action: "create_with_rules", write: true, handle: s.handleCreateSectionWithRules},
		{method: "GET", pattern: section, handle: s.handleGetSection},
		{method: "PUT", pattern: section, write: true, handle: s.handleUpdateSection},
		{method: "DELETE", pattern: section, write: true, handle: s.handleDeleteSection},
		{method: "POST", pattern: section, action: "revise", write: true, handle: s.handleReviseSection},
		{method: "POST", pattern: section, action: "update_with_rules", write: true, handle: s.handleUpdateWithRules},
		{method: "POST", pattern: section, action: "revise_with_rules", write: true, handle: s.handleReviseWithRules},
		{method: "POST", pattern: section, action: "list_with_rules", handle: s.handleListWithRules},

		{method: "GET", pattern: rules, handle: s.handleListRules},
		{method: "POST", pattern: rules, write: true, handle: s.handleCreateRule},
		{method: "POST", pattern: rules, action: "create_multiple", write: true, handle: s.handleCreateMultipleRules},
		{method: "GET", pattern: rule, handle: s.handleGetRule},
		{method: "PUT", pattern: rule, write: true, handle: s.handleUpdateRule},
		{method: "DELETE", pattern: rule, write: true, handle: s.handleDeleteRule},
		{method: "POST", pattern: rule, action: "revise", write: true, handle: s.handleReviseRule},
		{method: "GET", pattern: apiPrefix + "/firewall/rules/{rule-id}", handle: s.handleGetRuleByID},

		{method: "GET", pattern: groups, handle: s.handleListGroups},
		{method: "POST", pattern: groups, write: true, handle: s.handleCreateGroup},
		{method: "GET", pattern: group, handle: s.handleGetGroup},
		{method: "PUT", pattern: group, write: true, handle: s.handleUpdateGroup},
		{method: "DELETE", pattern: group, write: true, handle: s.handleDeleteGroup},
		{method: "POST", pattern: group, action: "ADD_MEMBERS", write: true, handle: s.handleAddMembers},
		{method: "POST", pattern: group, action: "REMOVE_MEMBERS", write: true, handle: s.handleRemoveMembers},
		{method: "GET", pattern: group + "/effective-ip-address-members", handle: s.handleEffectiveIPs},
		{method: "GET", pattern: group + "/effective-logical-port-members", handle: s.handleEffectivePorts},

		{method: "GET", pattern: ipsets, handle: s.handleListIPSets},
		{method: "POST", pattern: ipsets, write: true, handle: s.handleCreateIPSet},
		{method: "GET", pattern: ipset, handle: s.handleGetIPSet},
		{method: "PUT", pattern: ipset, write: true, handle: s.handleUpdateIPSet},
		{method: "DELETE", pattern: ipset, write: true, handle: s.handleDeleteIPSet},
		{method: "POST", pattern: ipset, action: "add_ip", write: true, handle: s.handleAddIP},
		{method: "POST", pattern: ipset, action: "remove_ip", write: true, handle: s.handleRemoveIP},
		{method: "GET", pattern: ipset + "/members", handle: s.handleIPSetMembers},

		{method: "GET", pattern: ports, handle: s.handleListPorts},
		{method: "POST", pattern: ports, write: true, handle: s.handleCreatePort},
		{method: "GET", pattern: port, handle: s.handleGetPort},
		{method: "PUT", pattern: port, write: true, handle: s.handleUpdatePort},
		{method: "DELETE", pattern: port, write: true, handle: s.handleDeletePort},
	}
	rs = append(rs, s.policyRoutes()...)
	rs = append(rs, s.traceflowRoutes()...)
	for _, r := range rs {
		r.segs = splitPath(r.pattern)
		r.name = r.method + " " + r.pattern
		if r.action != "" {
			r.name += "?action=" + r.action
		}
	}
	return rs
}

func splitPath(p string) []string { return strings.Split(strings.Trim(p, "/"), "/") }

// match finds the route for a request. A known path with an unsupported method or action is a 400
// (NSX error 269); an unknown path is a 404 with the same code.
func (s *Server) match(method, path, action string) (*route, map[string]string, *apiError) {
	segs := splitPath(path)
	pathKnown := false
	for _, rt := range s.routes {
		params, ok := matchSegs(rt.segs, segs)
		if !ok {
			continue
		}
		pathKnown = true
		if rt.method == method && rt.action == action {
			return rt, params, nil
		}
	}
	if pathKnown {
		return nil, nil, errUnprocessable(method, path)
	}
	e := errUnprocessable(method, path)
	e.status, e.body.HTTPStatus = http.StatusNotFound, httpStatusName(http.StatusNotFound)
	return nil, nil, e
}

func matchSegs(pattern, segs []string) (map[string]string, bool) {
	if len(pattern) != len(segs) {
		return nil, false
	}
	var params map[string]string
	for i, p := range pattern {
		if strings.HasPrefix(p, "{") {
			if segs[i] == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[strings.Trim(p, "{}")] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// simulatedVersion is the NSX-T release whose Manager API spec the simulator follows.
const simulatedVersion = "2.5.1.0.0"

// handleNodeVersion is GET /node/version, a cheap authenticated call for health checks.
func (s *Server) handleNodeVersion(*call) reply {
	return ok(map[string]string{"product_version": simulatedVersion, "node_version": simulatedVersion})
}
