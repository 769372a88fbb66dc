// Package policyspec states, as a table, the shapes of the NSX Policy API (/policy/api/v1) that
// microseg relies on: every endpoint its client calls and its simulator serves (method, path,
// query parameters, body, success statuses), and every object those exchanges carry (fields,
// types, enums, limits, which fields are read-only).
//
// No machine-readable vendor spec of the Policy API is available to this project, so the table
// is written by hand from the sources docs/nsx-policy-api.md lists (the vendor's API reference,
// the Go bindings generated from the vendor's spec, and the code of nsx-operator and the
// terraform provider). It is compiled into the same validator the tests use with the vendor's
// Manager API spec (package nsxspec): test/policyapi checks every request the client sends and
// every answer the simulator gives against it, in Strict mode, so a field that is misspelt,
// invented, of the wrong type or outside its enum fails the suite.
//
// What the table deliberately leaves to the simulator: rules about combinations (ANY alone in a
// list, JUMP_TO_APPLICATION only in Environment, the expression grammar, port ranges counting
// twice) and fields that are required only when an object is written rather than deleted (a
// ChildRule marked for delete carries a Rule with only id and resource_type).
package policyspec
