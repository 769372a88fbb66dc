package nsxspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// direction says which side of an exchange a body comes from; readOnly matters only there.
type direction int

const (
	asDocument direction = iota // ValidateDefinition: judged like a response, the complete object
	asRequest
	asResponse
)

// ValidateDefinition validates a JSON document against the named definition and lists every
// problem found. Documents are judged as complete objects, as in a response.
func (s *Spec) ValidateDefinition(name string, body []byte) error {
	def, ok := s.c.definitions[name]
	if !ok {
		return fmt.Errorf("NSX API spec has no definition %q", name)
	}
	var ps problems
	s.validateBody(&ps, asDocument, def, body)
	return ps.asError(name)
}

// validateBody parses body and validates it against sch.
func (s *Spec) validateBody(ps *problems, dir direction, sch *schema, body []byte) {
	doc, err := decodeJSON(body)
	if err != nil {
		ps.add("", "body is not valid JSON: %v", err)
		return
	}
	v := validator{c: s.c, opts: &s.opts, dir: dir, problems: ps}
	v.value("", sch, doc)
}

// decodeJSON decodes exactly one JSON value, keeping numbers as json.Number so integer
// literals, int64 ranges and bounds are checked exactly.
func decodeJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after the JSON value")
	}
	return doc, nil
}

type validator struct {
	c        *compiled
	opts     *Options
	dir      direction
	problems *problems
}

func (v *validator) add(path, format string, args ...any) { v.problems.add(path, format, args...) }

// value validates one JSON value (as decoded by decodeJSON) against a schema.
func (v *validator) value(path string, sch *schema, val any) {
	sch = v.c.resolve(sch)
	if obj, ok := val.(map[string]any); ok && sch.discriminator != "" {
		if sch = v.selectSubtype(path, sch, obj); sch == nil {
			return
		}
	}
	if sch.typ != "" && !typeMatches(sch.typ, val) {
		v.add(path, "expected %s, got %s %s", sch.typ, kindOf(val), showValue(val))
		return
	}
	if len(sch.enum) > 0 && !inEnum(sch.enum, val) {
		v.add(path, "value %s not in enum %v", showValue(val), sch.enum)
	}
	switch x := val.(type) {
	case string:
		v.str(path, sch, x)
	case json.Number:
		v.number(path, sch, x)
	case []any:
		v.array(path, sch, x)
	case map[string]any:
		v.object(path, sch, x)
	}
}

// selectSubtype applies a Swagger 2.0 discriminator: the property's value names the definition
// to validate against, which must be the schema's own definition or one deriving from it.
// It returns nil, after reporting, when the value names no such definition.
func (v *validator) selectSubtype(path string, base *schema, obj map[string]any) *schema {
	name, isString := obj[base.discriminator].(string)
	if !isString || name == base.defName || base.defName == "" {
		return base // a missing or mistyped discriminator is reported by required and type checks
	}
	sub, defined := v.c.flat[name]
	if defined && v.c.inherits(name, base.defName) {
		return sub
	}
	if p := base.properties[base.discriminator]; !defined && p != nil && inEnum(v.c.resolve(p).enum, name) {
		// The spec allows the value but defines no such subtype (LbRuleAction's
		// LbSelectServerAction, Protocol's lowercase "http"), so the subtype's own properties
		// are unknown: validate what the base declares and accept the rest.
		relaxed := *base
		relaxed.additional = additionalAllowed
		return &relaxed
	}
	v.add(joinPath(path, base.discriminator), "unknown discriminator value %q for %s; want one of %v",
		name, base.defName, v.acceptedSubtypes(base))
	return nil
}

// acceptedSubtypes lists the discriminator values selectSubtype accepts for base: its own
// name and those of its descendants, less any the discriminator property's enum rules out
// (an abstract base is usually not in it).
func (v *validator) acceptedSubtypes(base *schema) []string {
	var enum []any
	if p := base.properties[base.discriminator]; p != nil {
		enum = v.c.resolve(p).enum
	}
	var out []string
	for _, name := range append([]string{base.defName}, v.c.descendants(base.defName)...) {
		if len(enum) == 0 || inEnum(enum, name) {
			out = append(out, name)
		}
	}
	return out
}

func (v *validator) str(path string, sch *schema, s string) {
	n := utf8.RuneCountInString(s)
	if sch.maxLength != nil && n > *sch.maxLength {
		v.add(path, "string length %d exceeds maxLength %d", n, *sch.maxLength)
	}
	if sch.minLength != nil && n < *sch.minLength {
		v.add(path, "string length %d is below minLength %d", n, *sch.minLength)
	}
	if sch.pattern != nil && !sch.pattern.MatchString(s) {
		v.add(path, "value %s does not match pattern %s", showValue(s), sch.pattern)
	}
	if check, ok := stringFormats[sch.format]; ok && !check(s) {
		v.add(path, "value %s is not a valid %s", showValue(s), sch.format)
	}
}

func (v *validator) number(path string, sch *schema, n json.Number) {
	if bits, ok := intFormatBits[sch.format]; ok && isIntegerLiteral(n) {
		if _, err := strconv.ParseInt(n.String(), 10, bits); err != nil {
			v.add(path, "value %s out of %s range", n, sch.format)
		}
	}
	if sch.minimum == nil && sch.maximum == nil {
		return
	}
	r, ok := new(big.Rat).SetString(n.String())
	if !ok {
		return // the JSON decoder only produces valid numbers
	}
	if sch.minimum != nil {
		if c := r.Cmp(sch.minimum); c < 0 || (c == 0 && sch.exclusiveMinimum) {
			v.add(path, "value %s below minimum %s%s", n, sch.minimum.RatString(), exclusiveNote(sch.exclusiveMinimum))
		}
	}
	if sch.maximum != nil {
		if c := r.Cmp(sch.maximum); c > 0 || (c == 0 && sch.exclusiveMaximum) {
			v.add(path, "value %s above maximum %s%s", n, sch.maximum.RatString(), exclusiveNote(sch.exclusiveMaximum))
		}
	}
}

func exclusiveNote(exclusive bool) string {
	if exclusive {
		return " (exclusive)"
	}
	return ""
}

func (v *validator) array(path string, sch *schema, items []any) {
	if sch.maxItems != nil && len(items) > *sch.maxItems {
		v.add(path, "%d items exceed maxItems %d", len(items), *sch.maxItems)
	}
	if sch.minItems != nil && len(items) < *sch.minItems {
		v.add(path, "%d items are fewer than minItems %d", len(items), *sch.minItems)
	}
	if sch.uniqueItems {
		seen := map[string]int{}
		for i, it := range items {
			key := canonical(it)
			if j, dup := seen[key]; dup {
				v.add(indexPath(path, i), "duplicate of item %d (uniqueItems)", j)
			} else {
				seen[key] = i
			}
		}
	}
	if sch.items != nil {
		for i, it := range items {
			v.value(indexPath(path, i), sch.items, it)
		}
	}
}

func (v *validator) object(path string, sch *schema, obj map[string]any) {
	for _, name := range sch.required {
		val, present := obj[name]
		if v.dir == asRequest && v.readOnly(sch.properties[name]) {
			continue // the server fills it in; a request need not carry it
		}
		switch {
		case !present:
			v.add(joinPath(path, name), "required property is missing")
		case val == nil:
			v.add(joinPath(path, name), "required property is null")
		}
	}
	for _, name := range slices.Sorted(maps.Keys(obj)) {
		val := obj[name]
		if prop, declared := sch.properties[name]; declared {
			if val != nil { // null means "not set" to NSX
				v.value(joinPath(path, name), prop, val)
			}
			continue
		}
		switch sch.additional {
		case additionalSchema:
			v.value(joinPath(path, name), sch.extra, val)
		case additionalForbidden:
			v.add(joinPath(path, name), "property not allowed (additionalProperties is false)")
		case additionalUnspecified:
			// A schema declaring no properties at all is a free-form object (ApiError.error_data).
			if v.opts.Strict && len(sch.properties) > 0 && !v.allowedExtra(sch.defName, name) {
				v.add(joinPath(path, name), "property not declared by %s", describe(sch))
			}
		}
	}
}

func (v *validator) readOnly(prop *schema) bool {
	return prop != nil && (prop.readOnly || v.c.resolve(prop).readOnly)
}

// allowedExtra reports whether Options allow property on definition def or one of its bases.
func (v *validator) allowedExtra(def, property string) bool {
	if def == "" {
		return false
	}
	if slices.Contains(v.opts.AllowedExtraProperties[def], property) {
		return true
	}
	for _, p := range v.c.parents[def] {
		if v.allowedExtra(p, property) {
			return true
		}
	}
	return false
}

func describe(sch *schema) string {
	if sch.defName != "" {
		return sch.defName
	}
	return "the inline schema"
}

// typeMatches checks a Swagger type against a decoded JSON value. An integer must be written
// as an integer literal: Go clients cannot decode 1.0 or 1e3 into an int64.
func typeMatches(typ string, val any) bool {
	switch typ {
	case "object":
		_, ok := val.(map[string]any)
		return ok
	case "array":
		_, ok := val.([]any)
		return ok
	case "string":
		_, ok := val.(string)
		return ok
	case "boolean":
		_, ok := val.(bool)
		return ok
	case "number":
		_, ok := val.(json.Number)
		return ok
	case "integer":
		n, ok := val.(json.Number)
		return ok && isIntegerLiteral(n)
	default: // "file" and anything else carry no JSON constraint
		return true
	}
}

func isIntegerLiteral(n json.Number) bool {
	return !strings.ContainsAny(n.String(), ".eE")
}

func kindOf(val any) string {
	switch val.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	default:
		return fmt.Sprintf("%T", val)
	}
}

// showValue renders a value for a message, cut short so a misplaced object stays readable.
func showValue(val any) string {
	const limit = 80
	s := canonical(val)
	if len(s) > limit {
		s = s[:limit] + "..."
	}
	return s
}

// canonical is a JSON rendering used to show values and to compare them for enum and
// uniqueItems (encoding/json sorts object keys, so equal values render equally).
func canonical(val any) string {
	b, err := json.Marshal(val)
	if err != nil {
		return fmt.Sprint(val)
	}
	return string(b)
}

func inEnum(enum []any, val any) bool {
	key := canonical(val)
	for _, e := range enum {
		if canonical(e) == key {
			return true
		}
	}
	return false
}
