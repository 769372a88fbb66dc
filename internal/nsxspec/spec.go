package nsxspec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
)

// Spec is a parsed NSX API spec plus the options validation runs with. The parsed part is
// immutable and shared, so a Spec is safe for concurrent use and WithOptions is cheap.
type Spec struct {
	c    *compiled
	opts Options
}

// Options tune how strictly bodies are judged.
type Options struct {
	// Strict reports object properties and query parameters the spec does not declare. Swagger
	// allows undeclared properties by default, but a test wants to catch invented or misspelt
	// field names, which NSX silently ignores.
	Strict bool
	// AllowedExtraProperties maps a definition name to properties real NSX sends although the
	// spec does not declare them; Strict mode accepts them on that definition and its subtypes.
	AllowedExtraProperties map[string][]string
}

// DefaultOptions is what Load and LoadForTest use: Strict, and allowing the httpStatus field
// ("NOT_FOUND", "BAD_REQUEST", ...) that NSX Managers put in every error body and its related
// errors, although ApiError and RelatedApiError do not declare it.
func DefaultOptions() Options {
	return Options{
		Strict: true,
		AllowedExtraProperties: map[string][]string{
			"RelatedApiError": {"httpStatus"}, // ApiError inherits it through allOf
		},
	}
}

// compiled is the option-independent result of parsing the spec.
type compiled struct {
	path     string
	basePath string
	// definitions holds each definition as written; flat holds it with allOf merged.
	definitions map[string]*schema
	flat        map[string]*schema
	// parents and children record allOf inheritance between definitions, which is how
	// Swagger 2.0 finds the subtypes a discriminator value may name.
	parents  map[string][]string
	children map[string][]string
	routes   map[int][]*route // by number of path segments
	notes    []string
}

// Load parses the spec at path. It takes a few hundred milliseconds for the NSX spec; tests
// should share one Spec (LoadForTest does).
func Load(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read NSX API spec: %w", err) // *PathError already names the path
	}
	c, err := compile(data)
	if err != nil {
		return nil, fmt.Errorf("NSX API spec %s: %w", path, err)
	}
	c.path = path
	return &Spec{c: c, opts: DefaultOptions()}, nil
}

// Parse compiles a spec held in memory: a Swagger 2.0 document with the same features Load
// accepts. name identifies it in messages (Path). Use it for API descriptions the project writes
// itself, such as the Policy API table in package policyspec, where no vendor spec is at hand.
func Parse(name string, document []byte) (*Spec, error) {
	c, err := compile(document)
	if err != nil {
		return nil, fmt.Errorf("API description %s: %w", name, err)
	}
	c.path = name
	return &Spec{c: c, opts: DefaultOptions()}, nil
}

// WithOptions returns a Spec sharing the parsed spec but validating with opts.
func (s *Spec) WithOptions(opts Options) *Spec {
	return &Spec{c: s.c, opts: opts}
}

// Options returns the options s validates with.
func (s *Spec) Options() Options { return s.opts }

// Path is the file the spec was loaded from.
func (s *Spec) Path() string { return s.c.path }

// HasDefinition reports whether the spec defines name.
func (s *Spec) HasDefinition(name string) bool {
	_, ok := s.c.definitions[name]
	return ok
}

// Notes lists parts of the spec that are not enforced, such as patterns Go's regexp cannot
// compile (NSX uses look-ahead in hostname patterns).
func (s *Spec) Notes() []string { return slices.Clone(s.c.notes) }

type rawSpec struct {
	Swagger     string                    `json:"swagger"`
	BasePath    string                    `json:"basePath"`
	Definitions map[string]map[string]any `json:"definitions"`
	Responses   map[string]map[string]any `json:"responses"`
	Paths       map[string]map[string]any `json:"paths"`
}

func compile(data []byte) (*compiled, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // keep numeric bounds and enum values exact
	var raw rawSpec
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if raw.Swagger != "2.0" {
		return nil, fmt.Errorf("swagger version %q, want 2.0", raw.Swagger)
	}
	c := &compiled{
		basePath:    raw.BasePath,
		definitions: make(map[string]*schema, len(raw.Definitions)),
		flat:        make(map[string]*schema, len(raw.Definitions)),
		parents:     map[string][]string{},
		children:    map[string][]string{},
	}
	for _, name := range slices.Sorted(maps.Keys(raw.Definitions)) {
		s, err := compileSchema(raw.Definitions[name], &c.notes, "definitions."+name)
		if err != nil {
			return nil, err
		}
		s.defName = name
		c.definitions[name] = s
		for _, part := range s.allOf {
			if part.ref != "" {
				c.parents[name] = append(c.parents[name], part.ref)
				c.children[part.ref] = append(c.children[part.ref], name)
			}
		}
	}
	for name, s := range c.definitions {
		if err := c.checkRefs(s, "definitions."+name); err != nil {
			return nil, err
		}
	}
	inProgress := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(c.definitions)) {
		if _, err := c.flatDefinition(name, inProgress); err != nil {
			return nil, err
		}
	}
	if err := c.compileRoutes(raw.Paths, raw.Responses); err != nil {
		return nil, err
	}
	return c, nil
}

// checkRefs makes a dangling $ref a load error instead of a puzzling validation result later.
func (c *compiled) checkRefs(s *schema, where string) error {
	if s == nil {
		return nil
	}
	if s.ref != "" {
		if _, ok := c.definitions[s.ref]; !ok {
			return fmt.Errorf("%s: $ref to undefined definition %q", where, s.ref)
		}
		return nil
	}
	for name, p := range s.properties {
		if err := c.checkRefs(p, where+"."+name); err != nil {
			return err
		}
	}
	for i, p := range s.allOf {
		if err := c.checkRefs(p, fmt.Sprintf("%s.allOf[%d]", where, i)); err != nil {
			return err
		}
	}
	if err := c.checkRefs(s.items, where+"[]"); err != nil {
		return err
	}
	return c.checkRefs(s.extra, where+".additionalProperties")
}
