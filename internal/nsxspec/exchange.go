package nsxspec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// ValidateRequest checks a request against the operation the spec defines for method and
// urlPath (which must start with the basePath /api/v1): query and path parameters, and the body
// against the body parameter's schema. A request matching no operation yields an error wrapping
// ErrUnknownOperation.
func (s *Spec) ValidateRequest(method, urlPath string, query url.Values, body []byte) error {
	subject := "request " + describeCall(method, urlPath, query)
	op, r, pathValues, err := s.c.findOperation(method, urlPath, query)
	if err != nil {
		return fmt.Errorf("%s: %w: %w", subject, ErrUnknownOperation, err)
	}
	var ps problems
	s.checkPathParameters(&ps, op, pathValues)
	s.checkQuery(&ps, op, r, query)
	switch {
	case op.formData:
		// Multipart uploads are not JSON; nothing to check in the body.
	case op.body == nil:
		if s.opts.Strict && !isEmpty(body) {
			ps.add("", "%s declares no request body, but one was sent", op.key)
		}
	case isEmpty(body):
		if op.body.required {
			ps.add("", "missing required request body (%s)", schemaName(op.body.schema))
		}
	default:
		s.validateBody(&ps, asRequest, op.body.schema, body)
	}
	return ps.asError(subject)
}

// ValidateResponse checks a response body against the schema the operation declares for
// status. A declared status without a schema accepts any body, except that an error status
// (4xx, 5xx) with a body must carry an ApiError, as NSX's always do even where the spec
// forgets to say so (many 404s, and the 409 that concurrent updates get). A success status the
// operation does not declare is a problem.
func (s *Spec) ValidateResponse(method, urlPath string, query url.Values, status int, body []byte) error {
	subject := fmt.Sprintf("response %d to %s", status, describeCall(method, urlPath, query))
	op, _, _, err := s.c.findOperation(method, urlPath, query)
	if err != nil {
		return fmt.Errorf("%s: %w: %w", subject, ErrUnknownOperation, err)
	}
	var ps problems
	resp, declared := op.responses[strconv.Itoa(status)]
	if !declared {
		resp, declared = op.responses["default"]
	}
	var sch *schema
	if declared {
		sch = resp.schema
	}
	switch {
	case sch == nil && status >= 400:
		if apiError, ok := s.c.definitions["ApiError"]; ok && !isEmpty(body) {
			s.validateBody(&ps, asResponse, apiError, body)
		}
	case !declared:
		ps.add("", "status %d is not declared by %s %s (declared: %s)", status, op.method, op.key,
			strings.Join(slices.Sorted(maps.Keys(op.responses)), ", "))
	case sch == nil:
		// Declared without a body schema (DELETE's 200 OK): anything goes.
	case isEmpty(body):
		ps.add("", "empty body, but the spec declares %s for status %d", schemaName(sch), status)
	default:
		s.validateBody(&ps, asResponse, sch, body)
	}
	return ps.asError(subject)
}

// checkQuery validates the query parameters the operation declares, reports required ones
// that are missing, reports values of a selecting parameter ("action") that select no
// operation, and in Strict mode reports parameters the operation does not declare.
func (s *Spec) checkQuery(ps *problems, op *operation, r *route, query url.Values) {
	variants := r.variantKeys(op.method)
	for _, name := range slices.Sorted(maps.Keys(query)) {
		path := "?" + name
		if p, declared := op.query[name]; declared {
			for _, raw := range query[name] {
				s.checkParameterValue(ps, path, p, raw)
			}
			continue
		}
		if _, fixed := op.fixed[name]; fixed {
			continue
		}
		if known, selects := variants[name]; selects {
			ps.add(path, "%q selects no %s operation on %s (known: %v)", query.Get(name), op.method, r.template, known)
			continue
		}
		if s.opts.Strict {
			ps.add(path, "query parameter not declared by %s %s", op.method, op.key)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(op.query)) {
		if op.query[name].required && !query.Has(name) {
			ps.add("?"+name, "required query parameter is missing")
		}
	}
}

func (s *Spec) checkPathParameters(ps *problems, op *operation, values map[string]string) {
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if p, declared := op.path[name]; declared {
			s.checkParameterValue(ps, "{"+name+"}", p, values[name])
		}
	}
}

// checkParameterValue converts a parameter's text to the JSON value its type implies and
// validates that against the parameter's schema keywords (enum, maxLength, minimum, ...).
func (s *Spec) checkParameterValue(ps *problems, path string, p *parameter, raw string) {
	var val any = raw
	switch p.schema.typ {
	case "boolean":
		if raw != "true" && raw != "false" { // Java's parser takes nothing else
			ps.add(path, "expected true or false, got %q", raw)
			return
		}
		val = raw == "true"
	case "integer", "number":
		if _, err := strconv.ParseFloat(raw, 64); err != nil {
			ps.add(path, "expected %s, got %q", p.schema.typ, raw)
			return
		}
		val = json.Number(raw)
	}
	v := validator{c: s.c, opts: &s.opts, dir: asRequest, problems: ps}
	v.value(path, p.schema, val)
}

func describeCall(method, urlPath string, query url.Values) string {
	if len(query) == 0 {
		return method + " " + urlPath
	}
	return method + " " + urlPath + "?" + query.Encode()
}

func schemaName(s *schema) string {
	if s.ref != "" {
		return s.ref
	}
	if s.typ != "" {
		return s.typ
	}
	return "a body"
}

func isEmpty(body []byte) bool {
	return len(bytes.TrimSpace(body)) == 0
}
