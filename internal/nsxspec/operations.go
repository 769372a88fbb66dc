package nsxspec

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// The NSX spec gives operations that share a path and method but differ in the "action" query
// parameter path keys of their own: "/firewall/sections/{section-id}?action=revise" next to
// "/firewall/sections/{section-id}". A few keys fix other parameters too ("?format=csv",
// "?action=refresh_node_configuration&resource_type=EdgeNode"). A route therefore groups every
// path key of one template, and an operation carries the query values its key fixes.

// route is one path template with its operations, plain and query-specific.
type route struct {
	template string
	segments []string // literal text, or "" for a {parameter} segment
	params   []string // parameter name of each segment, "" for literals
	ops      map[string][]*operation
}

// operation is one method on one path key.
type operation struct {
	method      string
	key         string     // the spec's path key, for messages
	fixed       url.Values // query values the key fixes ("action=revise")
	query       map[string]*parameter
	path        map[string]*parameter
	body        *parameter
	formData    bool
	responses   map[string]*response
	operationID string // for messages
}

type parameter struct {
	name     string
	in       string
	required bool
	schema   *schema
}

// response is a declared status; schema is nil when the spec declares no body for it.
type response struct {
	schema *schema
}

var httpMethods = []string{"get", "put", "post", "delete", "patch", "head", "options"}

func (c *compiled) compileRoutes(paths, sharedResponses map[string]map[string]any) error {
	c.routes = map[int][]*route{}
	byTemplate := map[string]*route{}
	for _, key := range slices.Sorted(maps.Keys(paths)) {
		template, rawQuery, _ := strings.Cut(key, "?")
		fixed, err := url.ParseQuery(rawQuery)
		if err != nil {
			return fmt.Errorf("paths[%q]: %w", key, err)
		}
		r := byTemplate[template]
		if r == nil {
			r = newRoute(template)
			byTemplate[template] = r
			c.routes[len(r.segments)] = append(c.routes[len(r.segments)], r)
		}
		for _, method := range httpMethods {
			rawOp, ok := paths[key][method].(map[string]any)
			if !ok {
				continue
			}
			op, err := c.compileOperation(rawOp, sharedResponses, fmt.Sprintf("paths[%q].%s", key, method))
			if err != nil {
				return err
			}
			op.method, op.key, op.fixed = strings.ToUpper(method), key, fixed
			r.ops[op.method] = append(r.ops[op.method], op)
		}
	}
	return nil
}

func newRoute(template string) *route {
	r := &route{template: template, ops: map[string][]*operation{}}
	for _, seg := range strings.Split(strings.TrimPrefix(template, "/"), "/") {
		if name, isParam := strings.CutPrefix(seg, "{"); isParam && strings.HasSuffix(name, "}") {
			r.segments = append(r.segments, "")
			r.params = append(r.params, strings.TrimSuffix(name, "}"))
		} else {
			r.segments = append(r.segments, seg)
			r.params = append(r.params, "")
		}
	}
	return r
}

func (c *compiled) compileOperation(raw map[string]any, sharedResponses map[string]map[string]any, where string) (*operation, error) {
	op := &operation{
		query:     map[string]*parameter{},
		path:      map[string]*parameter{},
		responses: map[string]*response{},
	}
	op.operationID, _ = raw["operationId"].(string)
	for i, rp := range asSlice(raw["parameters"]) {
		pm, ok := rp.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s.parameters[%d] is not an object", where, i)
		}
		p := &parameter{}
		p.name, _ = pm["name"].(string)
		p.in, _ = pm["in"].(string)
		p.required, _ = pm["required"].(bool)
		pw := fmt.Sprintf("%s.parameters[%s]", where, p.name)
		schemaSource := pm // a non-body parameter carries its schema keywords itself
		if p.in == "body" {
			if schemaSource, ok = pm["schema"].(map[string]any); !ok {
				return nil, fmt.Errorf("%s: body parameter without schema", pw)
			}
		}
		var err error
		if p.schema, err = compileSchema(schemaSource, &c.notes, pw); err != nil {
			return nil, err
		}
		if err := c.checkRefs(p.schema, pw); err != nil {
			return nil, err
		}
		switch p.in {
		case "body":
			op.body = p
		case "query":
			op.query[p.name] = p
		case "path":
			op.path[p.name] = p
		case "formData":
			op.formData = true
		}
	}
	rawResponses, _ := raw["responses"].(map[string]any)
	for status, rr := range rawResponses {
		rm, _ := rr.(map[string]any)
		if ref, ok := rm["$ref"].(string); ok {
			name, _ := strings.CutPrefix(ref, "#/responses/")
			if rm, ok = sharedResponses[name]; !ok {
				return nil, fmt.Errorf("%s.responses[%s]: undefined $ref %q", where, status, ref)
			}
		}
		resp := &response{}
		if rs, ok := rm["schema"].(map[string]any); ok {
			rw := fmt.Sprintf("%s.responses[%s]", where, status)
			var err error
			if resp.schema, err = compileSchema(rs, &c.notes, rw); err != nil {
				return nil, err
			}
			if err := c.checkRefs(resp.schema, rw); err != nil {
				return nil, err
			}
		}
		op.responses[status] = resp
	}
	return op, nil
}

// findOperation maps a request to its operation. urlPath must include the spec's basePath
// (/api/v1); it may be escaped (URL.EscapedPath). The error explains why nothing matched.
func (c *compiled) findOperation(method, urlPath string, query url.Values) (*operation, *route, map[string]string, error) {
	rest, ok := strings.CutPrefix(urlPath, c.basePath+"/")
	if !ok {
		return nil, nil, nil, fmt.Errorf("path is outside the spec's basePath %s", c.basePath)
	}
	segments := strings.Split(rest, "/")
	for i, seg := range segments {
		if unescaped, err := url.PathUnescape(seg); err == nil {
			segments[i] = unescaped
		}
	}
	var best *route
	for _, r := range c.routes[len(segments)] {
		if r.matches(segments) && (best == nil || r.moreSpecificThan(best)) {
			best = r
		}
	}
	if best == nil {
		return nil, nil, nil, fmt.Errorf("no path template matches /%s", rest)
	}
	op, err := best.operationFor(strings.ToUpper(method), query)
	if err != nil {
		return nil, nil, nil, err
	}
	values := map[string]string{}
	for i, name := range best.params {
		if name != "" {
			values[name] = segments[i]
		}
	}
	return op, best, values, nil
}

func (r *route) matches(segments []string) bool {
	for i, seg := range segments {
		if r.params[i] != "" {
			if seg == "" {
				return false // "sections//rules": an empty id is a client bug, not an id
			}
		} else if seg != r.segments[i] {
			return false
		}
	}
	return true
}

// moreSpecificThan prefers a literal segment over a parameter at the first place two matching
// templates differ, so /firewall/sections/summary beats /firewall/sections/{section-id}.
func (r *route) moreSpecificThan(other *route) bool {
	for i := range r.params {
		if (r.params[i] == "") != (other.params[i] == "") {
			return r.params[i] == ""
		}
	}
	return false
}

// operationFor picks, among the operations of method on this route, the one whose fixed query
// values the request carries, preferring the most specific; a plain key fixes nothing.
func (r *route) operationFor(method string, query url.Values) (*operation, error) {
	candidates := r.ops[method]
	if len(candidates) == 0 {
		return nil, fmt.Errorf("%s has no %s operation (it has %s)", r.template, method, strings.Join(slices.Sorted(maps.Keys(r.ops)), ", "))
	}
	var best *operation
	for _, op := range candidates {
		if op.fixedBy(query) && (best == nil || len(op.fixed) > len(best.fixed)) {
			best = op
		}
	}
	if best == nil {
		var keys []string
		for _, op := range candidates {
			keys = append(keys, op.key)
		}
		return nil, fmt.Errorf("%s %s needs the query of one of %v", method, r.template, keys)
	}
	return best, nil
}

func (op *operation) fixedBy(query url.Values) bool {
	for k, vs := range op.fixed {
		for _, v := range vs {
			if !slices.Contains(query[k], v) {
				return false
			}
		}
	}
	return true
}

// variantKeys lists the query parameters that select among method's operations on this route
// ("action"), so an unknown value for them can be reported even outside Strict mode.
func (r *route) variantKeys(method string) map[string][]string {
	keys := map[string][]string{}
	for _, op := range r.ops[method] {
		for k, vs := range op.fixed {
			keys[k] = append(keys[k], vs...)
		}
	}
	return keys
}
