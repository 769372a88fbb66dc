// Package nsxspec checks JSON bodies and HTTP exchanges against the vendor's NSX-T Manager
// Swagger 2.0 spec (nsx_api.json), so tests can prove that what microseg's NSX client sends and
// what the NSX simulator answers are things a real NSX Manager would send and accept.
//
// The spec is the vendor's file, kept beside the project (SpecPathFromRoot) and never copied into
// the repository. Tests get it through LoadForTest, which
// parses it once per process and skips the test when the file is absent.
//
// Only the Swagger 2.0 features the NSX spec actually uses are implemented: $ref to
// #/definitions and #/responses, allOf inheritance (flattened, derived properties override base
// ones), discriminator (the value names the subtype definition), type/format, enum,
// required, properties, additionalProperties, items, min/maxItems, uniqueItems, min/maxLength,
// pattern, minimum/maximum (and exclusive variants), readOnly; path templates, action-specific
// path keys ("/firewall/sections/{section-id}?action=revise"), query, path and body parameters,
// and responses per status code.
//
// Validation semantics, chosen for what NSX does rather than for the letter of JSON Schema:
//
//   - readOnly properties are accepted in requests: NSX ignores them and clients routinely send
//     back objects they have read. A readOnly property listed in required is only required in
//     responses.
//   - A JSON null property value counts as absent: NSX treats null as "not set" (the spec even
//     says "Null will be treated as any" for rule sources). A required property that is null is
//     reported.
//   - Integers must be written as integer literals ("1", not "1.0" or "1e0"), because Go clients
//     cannot decode anything else into an int64.
//   - In Strict mode (the default), properties and query parameters the spec does not declare are
//     reported: the point is to catch typos and invented fields. Options.AllowedExtraProperties
//     lists the few fields real NSX sends although its spec lacks them (httpStatus on ApiError).
package nsxspec
