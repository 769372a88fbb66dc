package nsxspec

import (
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strings"
)

// schema is one compiled Swagger schema object. Definitions are compiled once at Load; a $ref
// is kept by name and resolved through Spec.definitions when validating, which keeps recursive
// definitions (NSGroupComplexExpression.expressions → NSGroupExpression) trivially finite.
type schema struct {
	defName string // set on top-level definitions; names the type in messages and discriminators
	ref     string // "$ref" target definition name; Swagger ignores the siblings except readOnly

	readOnly bool
	typ      string
	format   string
	enum     []any

	properties map[string]*schema
	required   []string
	additional additionalRule
	extra      *schema // additionalProperties schema, when additional == additionalSchema

	items       *schema
	minItems    *int
	maxItems    *int
	uniqueItems bool

	minLength *int
	maxLength *int
	pattern   *regexp.Regexp

	minimum          *big.Rat
	maximum          *big.Rat
	exclusiveMinimum bool
	exclusiveMaximum bool

	discriminator string
	allOf         []*schema
}

// additionalRule is what a schema says about properties it does not declare.
type additionalRule int

const (
	additionalUnspecified additionalRule = iota // Swagger default: allowed; Strict mode reports them
	additionalAllowed                           // explicitly true: allowed even in Strict mode
	additionalForbidden                         // explicitly false: always reported
	additionalSchema                            // values must match schema.extra
)

// compileSchema converts a raw schema object (decoded with json.Number) into a schema.
// Keywords the NSX spec does not use are ignored; notes records the ones we could not honour.
func compileSchema(raw map[string]any, notes *[]string, where string) (*schema, error) {
	s := &schema{}
	if ref, ok := raw["$ref"].(string); ok {
		name, found := strings.CutPrefix(ref, "#/definitions/")
		if !found {
			return nil, fmt.Errorf("%s: unsupported $ref %q", where, ref)
		}
		s.ref = name
		s.readOnly, _ = raw["readOnly"].(bool)
		return s, nil
	}
	s.readOnly, _ = raw["readOnly"].(bool)
	s.typ, _ = raw["type"].(string)
	s.format, _ = raw["format"].(string)
	s.discriminator, _ = raw["discriminator"].(string)
	s.uniqueItems, _ = raw["uniqueItems"].(bool)
	s.exclusiveMinimum, _ = raw["exclusiveMinimum"].(bool)
	s.exclusiveMaximum, _ = raw["exclusiveMaximum"].(bool)
	if e, ok := raw["enum"].([]any); ok {
		s.enum = e
	}
	for _, r := range asSlice(raw["required"]) {
		if name, ok := r.(string); ok {
			s.required = append(s.required, name)
		}
	}

	var err error
	if s.minItems, err = intKeyword(raw, "minItems", where); err != nil {
		return nil, err
	}
	if s.maxItems, err = intKeyword(raw, "maxItems", where); err != nil {
		return nil, err
	}
	if s.minLength, err = intKeyword(raw, "minLength", where); err != nil {
		return nil, err
	}
	if s.maxLength, err = intKeyword(raw, "maxLength", where); err != nil {
		return nil, err
	}
	if s.minimum, err = ratKeyword(raw, "minimum", where); err != nil {
		return nil, err
	}
	if s.maximum, err = ratKeyword(raw, "maximum", where); err != nil {
		return nil, err
	}
	if p, ok := raw["pattern"].(string); ok {
		s.pattern = compilePattern(p, notes, where)
	}

	if props, ok := raw["properties"].(map[string]any); ok {
		s.properties = make(map[string]*schema, len(props))
		for name, p := range props {
			pm, ok := p.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s.%s: property schema is not an object", where, name)
			}
			if s.properties[name], err = compileSchema(pm, notes, where+"."+name); err != nil {
				return nil, err
			}
		}
	}
	switch ap := raw["additionalProperties"].(type) {
	case bool:
		s.additional = additionalForbidden
		if ap {
			s.additional = additionalAllowed
		}
	case map[string]any:
		s.additional = additionalSchema
		if s.extra, err = compileSchema(ap, notes, where+".additionalProperties"); err != nil {
			return nil, err
		}
	}
	if items, ok := raw["items"].(map[string]any); ok {
		if s.items, err = compileSchema(items, notes, where+"[]"); err != nil {
			return nil, err
		}
	}
	for i, part := range asSlice(raw["allOf"]) {
		pm, ok := part.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s.allOf[%d] is not an object", where, i)
		}
		ps, err := compileSchema(pm, notes, fmt.Sprintf("%s.allOf[%d]", where, i))
		if err != nil {
			return nil, err
		}
		s.allOf = append(s.allOf, ps)
	}
	return s, nil
}

// compilePattern compiles a Swagger pattern. NSX writes patterns JavaScript-style between
// slashes ("/^...$/"), and a few use look-ahead, which Go's RE2 cannot express; those are noted
// and not enforced rather than failing the whole spec.
func compilePattern(p string, notes *[]string, where string) *regexp.Regexp {
	if len(p) >= 2 && strings.HasPrefix(p, "/") && strings.HasSuffix(p, "/") {
		p = p[1 : len(p)-1]
	}
	re, err := regexp.Compile(p)
	if err != nil {
		*notes = append(*notes, fmt.Sprintf("%s: pattern not enforced (%v)", where, err))
		return nil
	}
	return re
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func intKeyword(raw map[string]any, key, where string) (*int, error) {
	v, ok := raw[key]
	if !ok {
		return nil, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return nil, fmt.Errorf("%s: %s is not a number", where, key)
	}
	i, err := n.Int64()
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", where, key, err)
	}
	x := int(i)
	return &x, nil
}

func ratKeyword(raw map[string]any, key, where string) (*big.Rat, error) {
	v, ok := raw[key]
	if !ok {
		return nil, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return nil, fmt.Errorf("%s: %s is not a number", where, key)
	}
	r, ok := new(big.Rat).SetString(n.String())
	if !ok {
		return nil, fmt.Errorf("%s: %s: bad number %q", where, key, n)
	}
	return r, nil
}
