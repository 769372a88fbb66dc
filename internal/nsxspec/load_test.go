package nsxspec

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// These tests need no vendor spec: they run everywhere.

func TestLoadMissingFileNamesThePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nsx_api.json")
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("want a not-exist error naming %s, got %v", path, err)
	}
	skip, reason := skipReason(path, err)
	if !skip || !strings.Contains(reason, "NSX API spec not found at "+path) || !strings.Contains(reason, "skipping spec conformance") {
		t.Errorf("a missing spec should skip with a clear reason, got %v %q", skip, reason)
	}
	if skip, _ := skipReason(path, errors.New("parse: unexpected EOF")); skip {
		t.Error("a corrupt spec must fail the test, not skip it")
	}
}

func TestFindProjectRoot(t *testing.T) {
	root, err := findProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	if !declaresModule(filepath.Join(root, "go.mod"), ModulePath) {
		t.Errorf("%s is not the root of %s", root, ModulePath)
	}
	wd, _ := os.Getwd()
	if rel, err := filepath.Rel(root, wd); err != nil || rel != filepath.Join("internal", "nsxspec") {
		t.Errorf("root %s is not two levels above %s", root, wd)
	}
}

func TestLoadRejectsBrokenSpecs(t *testing.T) {
	for _, tc := range []struct{ name, spec, want string }{
		{"not JSON", `{"swagger": `, "parse"},
		{"OpenAPI 3", `{"openapi": "3.0.0"}`, `swagger version "", want 2.0`},
		{"dangling $ref", `{"swagger": "2.0", "definitions": {"A": {"properties": {"b": {"$ref": "#/definitions/B"}}}}}`,
			`definitions.A.b: $ref to undefined definition "B"`},
		{"inheritance cycle", `{"swagger": "2.0", "definitions": {"A": {"allOf": [{"$ref": "#/definitions/B"}]}, "B": {"allOf": [{"$ref": "#/definitions/A"}]}}}`,
			"allOf inheritance cycle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "spec.json")
			if err := os.WriteFile(path, []byte(tc.spec), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			wantProblems(t, err, tc.want, path)
		})
	}
}

// syntheticSpec uses the keywords the NSX spec uses only rarely, so they are tested even where
// the vendor spec is absent.
const syntheticSpec = `{
  "swagger": "2.0",
  "basePath": "/api/v1",
  "definitions": {
    "Closed":   {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string", "minLength": 2}}},
    "Open":     {"type": "object", "additionalProperties": true, "properties": {"a": {"type": "string"}}},
    "Map":      {"type": "object", "additionalProperties": {"type": "integer", "format": "int32"}},
    "Free":     {"type": "object"},
    "Numbers":  {"type": "object", "properties": {
                   "p": {"type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 1},
                   "days": {"type": "array", "uniqueItems": true, "items": {"type": "string"}},
                   "mac": {"type": "string", "pattern": "/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/"}}},
    "Shape":    {"type": "object", "discriminator": "kind", "required": ["kind"],
                 "properties": {"kind": {"type": "string", "enum": ["Circle", "Square", "Hexagon"]}}},
    "Circle":   {"allOf": [{"$ref": "#/definitions/Shape"}, {"type": "object", "required": ["radius"], "properties": {"radius": {"type": "integer"}}}]},
    "Square":   {"allOf": [{"$ref": "#/definitions/Shape"}, {"type": "object", "properties": {"side": {"type": "integer"}}}]},
    "Drawing":  {"type": "object", "properties": {"shapes": {"type": "array", "items": {"$ref": "#/definitions/Shape"}}}},
    "Stamped":  {"allOf": [{"$ref": "#/definitions/Free"}, {"type": "object", "required": ["stamp"], "properties": {"stamp": {"type": "integer", "readOnly": true}}}]}
  },
  "paths": {
    "/stamps": {"post": {"parameters": [{"in": "body", "name": "s", "required": true, "schema": {"$ref": "#/definitions/Stamped"}}],
                         "responses": {"200": {"description": "OK", "schema": {"$ref": "#/definitions/Stamped"}}}}}
  }
}`

func loadSynthetic(t *testing.T) *Spec {
	t.Helper()
	path := filepath.Join(t.TempDir(), "spec.json")
	if err := os.WriteFile(path, []byte(syntheticSpec), 0o600); err != nil {
		t.Fatal(err)
	}
	spec, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func TestRarelyUsedKeywords(t *testing.T) {
	spec := loadSynthetic(t)
	lenient := spec.WithOptions(Options{})
	for _, tc := range []struct {
		name, definition, body string
		want                   []string // nil: conforming
	}{
		{"additionalProperties false holds without Strict", "Closed", `{"a": "xy", "b": 1}`,
			[]string{"b: property not allowed (additionalProperties is false)"}},
		{"minLength", "Closed", `{"a": "x"}`, []string{"a: string length 1 is below minLength 2"}},
		{"additionalProperties true holds even in Strict", "Open", `{"a": "x", "b": 1}`, nil},
		{"additionalProperties schema", "Map", `{"x": 1, "y": 2147483648, "z": "3"}`,
			[]string{"y: value 2147483648 out of int32 range", `z: expected integer, got string "3"`}},
		{"free-form object", "Free", `{"anything": {"at": ["all"]}}`, nil},
		{"exclusive minimum", "Numbers", `{"p": 0}`, []string{"p: value 0 below minimum 0 (exclusive)"}},
		{"maximum", "Numbers", `{"p": 1.5}`, []string{"p: value 1.5 above maximum 1"}},
		{"number in range", "Numbers", `{"p": 0.25}`, nil},
		{"uniqueItems", "Numbers", `{"days": ["MON", "TUE", "MON"]}`, []string{"days[2]: duplicate of item 0 (uniqueItems)"}},
		{"slash-delimited pattern", "Numbers", `{"mac": "02:50:56:00:00:0g"}`, []string{`mac: value "02:50:56:00:00:0g" does not match pattern`}},
		{"slash-delimited pattern matches", "Numbers", `{"mac": "02:50:56:00:00:0a"}`, nil},
		{"discriminated subtype", "Drawing", `{"shapes": [{"kind": "Circle", "radius": 2}, {"kind": "Square", "side": 1}]}`, nil},
		{"subtype required", "Drawing", `{"shapes": [{"kind": "Circle"}]}`, []string{"shapes[0].radius: required property is missing"}},
		{"subtype properties are not mixed", "Drawing", `{"shapes": [{"kind": "Square", "radius": 2}]}`,
			[]string{"shapes[0].radius: property not declared by Square"}},
		{"abstract base is not in the enum", "Drawing", `{"shapes": [{"kind": "Shape"}]}`,
			[]string{`shapes[0].kind: value "Shape" not in enum [Circle Square Hexagon]`}},
		// Hexagon is allowed by the enum but has no definition: what the base declares is
		// checked, the rest cannot be.
		{"enum value without a definition", "Drawing", `{"shapes": [{"kind": "Hexagon", "edges": 6}]}`, nil},
		{"unknown discriminator", "Drawing", `{"shapes": [{"kind": "Oval"}]}`,
			[]string{`shapes[0].kind: unknown discriminator value "Oval" for Shape; want one of [Circle Square]`}},
		{"no discriminator", "Drawing", `{"shapes": [{}]}`, []string{"shapes[0].kind: required property is missing"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := spec.ValidateDefinition(tc.definition, []byte(tc.body))
			if tc.want == nil {
				wantValid(t, err)
				return
			}
			wantProblems(t, err, tc.want...)
			if strings.Contains(tc.name, "without Strict") {
				wantProblems(t, lenient.ValidateDefinition(tc.definition, []byte(tc.body)), tc.want...)
			}
		})
	}
}

func TestReadOnlyRequiredOnlyInResponses(t *testing.T) {
	spec := loadSynthetic(t)
	wantValid(t, spec.ValidateRequest("POST", "/api/v1/stamps", nil, []byte(`{}`)))
	wantProblems(t, spec.ValidateResponse("POST", "/api/v1/stamps", nil, 200, []byte(`{}`)),
		"stamp: required property is missing")
	wantValid(t, spec.ValidateResponse("POST", "/api/v1/stamps", nil, 200, []byte(`{"stamp": 7}`)))
}

func TestManyProblemsAreCapped(t *testing.T) {
	spec := loadSynthetic(t)
	wantProblems(t, spec.ValidateDefinition("Map", []byte(`{"k": "v"}`)), "(1 problem)")
	var body strings.Builder
	body.WriteString("{")
	for i := range 60 {
		if i > 0 {
			body.WriteString(",")
		}
		body.WriteString(`"k` + strings.Repeat("x", i) + `": "v"`)
	}
	body.WriteString("}")
	wantProblems(t, spec.ValidateDefinition("Map", []byte(body.String())), "(60 problems)", "... and 10 more")
}
