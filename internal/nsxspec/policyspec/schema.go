package policyspec

// Helpers that keep the table readable: each returns a Swagger 2.0 schema fragment.

type schema = map[string]any

func str() schema { return schema{"type": "string"} }

func strMax(n int) schema { return schema{"type": "string", "maxLength": n} }

func enum(values ...string) schema { return schema{"type": "string", "enum": values} }

func integer() schema { return schema{"type": "integer", "format": "int64"} }

// intUpTo is an integer from 0 to hi.
func intUpTo(hi int64) schema {
	return schema{"type": "integer", "format": "int64", "minimum": 0, "maximum": hi}
}

func boolean() schema { return schema{"type": "boolean"} }

func object() schema { return schema{"type": "object"} }

func array(items schema) schema { return schema{"type": "array", "items": items} }

func arrayMax(items schema, maxItems int) schema {
	return schema{"type": "array", "items": items, "maxItems": maxItems}
}

func arrayRange(items schema, minItems, maxItems int) schema {
	return schema{"type": "array", "items": items, "minItems": minItems, "maxItems": maxItems}
}

func ref(name string) schema { return schema{"$ref": "#/definitions/" + name} }

// readOnly marks a field NSX fills in: accepted (and ignored) in requests.
func readOnly(s schema) schema {
	out := schema{"readOnly": true}
	for k, v := range s {
		out[k] = v
	}
	return out
}

// field is one property of a definition.
type field struct {
	name     string
	schema   schema
	required bool
}

func opt(name string, s schema) field { return field{name: name, schema: s} }

func req(name string, s schema) field { return field{name: name, schema: s, required: true} }

// definition is one object type. base names the type it extends (fields are inherited, as
// NSX's Java classes are); discriminator names the property whose value selects the subtype.
type definition struct {
	name          string
	base          string
	discriminator string
	fields        []field
}

func (d definition) swagger() schema {
	props := schema{}
	var required []string
	for _, f := range d.fields {
		props[f.name] = f.schema
		if f.required {
			required = append(required, f.name)
		}
	}
	own := schema{"type": "object", "properties": props}
	if len(required) > 0 {
		own["required"] = required
	}
	if d.discriminator != "" {
		own["discriminator"] = d.discriminator
	}
	if d.base == "" {
		return own
	}
	return schema{"allOf": []any{ref(d.base), own}}
}
