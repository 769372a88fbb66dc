package nsxspec

import (
	"fmt"
	"maps"
	"slices"
)

// NSX models Java class inheritance with allOf: FirewallSectionRuleList → FirewallSection →
// DSSection → ManagedResource → RevisionedResource → Resource, each level a $ref to the base
// plus an inline part with the level's own properties. Validating each allOf part separately
// would be correct JSON Schema but useless for Strict mode (the base part would call every
// derived property unknown), and a derived level sometimes narrows a base property
// (FirewallSectionListResult.results: FirewallSection instead of DSSection). So allOf is
// flattened into one object schema in which later parts override earlier ones, as Java fields
// would.

// flatDefinition returns the flattened schema of a definition, computing it on first use.
func (c *compiled) flatDefinition(name string, inProgress map[string]bool) (*schema, error) {
	if f, ok := c.flat[name]; ok {
		return f, nil
	}
	if inProgress[name] {
		return nil, fmt.Errorf("definitions.%s: allOf inheritance cycle", name)
	}
	inProgress[name] = true
	defer delete(inProgress, name)
	f, err := c.flatten(c.definitions[name], inProgress)
	if err != nil {
		return nil, err
	}
	c.flat[name] = f
	return f, nil
}

// flatten merges s's allOf parts and its own keywords into one schema. A schema without allOf
// is returned as is.
func (c *compiled) flatten(s *schema, inProgress map[string]bool) (*schema, error) {
	if len(s.allOf) == 0 {
		return s, nil
	}
	out := &schema{defName: s.defName, properties: map[string]*schema{}}
	for _, part := range s.allOf {
		var p *schema
		var err error
		if part.ref != "" {
			p, err = c.flatDefinition(part.ref, inProgress)
		} else {
			p, err = c.flatten(part, inProgress)
		}
		if err != nil {
			return nil, err
		}
		mergeSchema(out, p)
	}
	own := *s
	own.allOf = nil
	mergeSchema(out, &own)
	return out, nil
}

// mergeSchema folds src into dst; what src specifies wins, except that required lists add up
// and the first discriminator found (the base's) is kept.
func mergeSchema(dst, src *schema) {
	maps.Copy(dst.properties, src.properties)
	for _, r := range src.required {
		if !slices.Contains(dst.required, r) {
			dst.required = append(dst.required, r)
		}
	}
	if dst.discriminator == "" {
		dst.discriminator = src.discriminator
	}
	if src.typ != "" {
		dst.typ = src.typ
	}
	if src.format != "" {
		dst.format = src.format
	}
	if src.enum != nil {
		dst.enum = src.enum
	}
	if src.additional != additionalUnspecified {
		dst.additional, dst.extra = src.additional, src.extra
	}
	if src.items != nil {
		dst.items = src.items
	}
	dst.readOnly = dst.readOnly || src.readOnly
	dst.uniqueItems = dst.uniqueItems || src.uniqueItems
	if src.minItems != nil {
		dst.minItems = src.minItems
	}
	if src.maxItems != nil {
		dst.maxItems = src.maxItems
	}
	if src.minLength != nil {
		dst.minLength = src.minLength
	}
	if src.maxLength != nil {
		dst.maxLength = src.maxLength
	}
	if src.pattern != nil {
		dst.pattern = src.pattern
	}
	if src.minimum != nil {
		dst.minimum, dst.exclusiveMinimum = src.minimum, src.exclusiveMinimum
	}
	if src.maximum != nil {
		dst.maximum, dst.exclusiveMaximum = src.maximum, src.exclusiveMaximum
	}
}

// resolve follows a $ref and returns the flattened schema to validate against. Definitions
// were flattened at load; an inline allOf (the NSX spec has none) is flattened on the spot.
func (c *compiled) resolve(s *schema) *schema {
	if s.ref != "" {
		return c.flat[s.ref]
	}
	if len(s.allOf) == 0 {
		return s
	}
	f, err := c.flatten(s, map[string]bool{})
	if err != nil { // cannot happen: every definition flattened without error at load
		panic(err)
	}
	return f
}

// inherits reports whether definition name is base or derives from it through allOf.
func (c *compiled) inherits(name, base string) bool {
	if name == base {
		return true
	}
	for _, p := range c.parents[name] {
		if c.inherits(p, base) {
			return true
		}
	}
	return false
}

// descendants lists, sorted, every definition deriving from name through allOf.
func (c *compiled) descendants(name string) []string {
	var out []string
	var walk func(string)
	walk = func(n string) {
		for _, child := range c.children[n] {
			if !slices.Contains(out, child) {
				out = append(out, child)
				walk(child)
			}
		}
	}
	walk(name)
	slices.Sort(out)
	return out
}
