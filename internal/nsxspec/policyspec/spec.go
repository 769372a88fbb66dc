package policyspec

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/microseg/microseg/internal/nsxspec"
)

// BasePath is where the Policy API lives on a manager.
const BasePath = "/policy/api/v1"

// Name identifies the table in validation messages.
const Name = "policy API table (internal/nsxspec/policyspec)"

var (
	once     sync.Once
	compiled *nsxspec.Spec
	err      error
)

// Spec returns the table compiled for nsxspec validation (Strict mode, NSX's httpStatus field
// allowed in error bodies). It is built once per process.
func Spec() (*nsxspec.Spec, error) {
	once.Do(func() {
		var doc []byte
		if doc, err = Document(); err == nil {
			compiled, err = nsxspec.Parse(Name, doc)
		}
	})
	return compiled, err
}

// Document renders the table as a Swagger 2.0 document.
func Document() ([]byte, error) {
	defs := map[string]any{}
	for _, group := range [][]definition{commonDefinitions, listDefinitions, dfwDefinitions, segmentDefinitions, realizationDefinitions, traceflowDefinitions} {
		for _, d := range group {
			if _, dup := defs[d.name]; dup {
				return nil, fmt.Errorf("policyspec: definition %s appears twice", d.name)
			}
			defs[d.name] = d.swagger()
		}
	}
	paths := map[string]map[string]any{}
	for _, op := range operations() {
		if paths[op.path] == nil {
			paths[op.path] = map[string]any{}
		}
		m := strings.ToLower(op.method)
		if _, dup := paths[op.path][m]; dup {
			return nil, fmt.Errorf("policyspec: %s %s appears twice", op.method, op.path)
		}
		paths[op.path][m] = op.swagger()
	}
	return json.Marshal(map[string]any{
		"swagger":     "2.0",
		"info":        map[string]any{"title": "NSX Policy API as microseg relies on it", "version": "1"},
		"basePath":    BasePath,
		"definitions": defs,
		"paths":       paths,
	})
}

// Endpoints lists the table's operations as "METHOD /policy/api/v1/path" with the table's
// {parameter} names, for coverage bookkeeping.
func Endpoints() []string {
	var out []string
	for _, op := range operations() {
		out = append(out, op.method+" "+BasePath+op.path)
	}
	return out
}
