// Package nsxsim is an in-process simulator of the VMware NSX-T Manager API (/api/v1) for the
// objects microseg uses: DFW sections and rules, NSGroups, IPSets and logical ports. It follows the
// NSX behaviour listed with its sources in docs/architecture.md ("NSX facts": paths, _revision
// rules, pagination, error bodies, auth, limits) and answers with bodies that validate against the vendor's 2.5.1 spec. It also
// injects faults on demand (faults.go), charges a simulated cost per call for benchmarks
// (cost.go), and evaluates flows through the configured DFW with the dataplane package, a
// Traceflow (traceflow.go, dataplane.go).
//
// A *Server is an http.Handler: mount it on httptest.NewServer / NewTLSServer in tests, or run
// cmd/nsxsim. Simulator-private controls live under /sim/v1/ (simapi.go).
//
// Where NSX's behaviour is UNCONFIRMED (no source settles it), the simulator picks the stricter
// reading, so that a client that works here does not lean on leniency a real manager may lack:
//
//   - The default section of each layer stays last: insert_bottom (and insert_before the
//     default) places a section just above it; insert_after the default section or rule, moving
//     or deleting the default section, and deleting or moving the default rule are 400s.
//   - An anchor id that is missing or not in the same list (sections of the layer, rules of the
//     section) is a 400 field-validation error, not a 404.
//   - Deleting a section that has rules without cascade=true, and deleting an NSGroup, IPSet or
//     attached/referenced logical port without force / detach, is 400 with error_code 500030.
//     References from firewall rules and section applied_tos count as "in use" for NSGroups and
//     IPSets (the spec only names group membership).
//   - 409 (sections, rules) and 412 (groups, IP sets, ports) bodies carry no error_code: the
//     real codes are unknown, so clients must classify on the HTTP status.
//   - A missing _revision is treated like a stale one. POST rule and create_multiple need the
//     section's current _revision (in each rule for create_multiple, as nsxlib sends it); PUT and
//     revise of a rule need the rule's own _revision; any rule change bumps the section.
//   - update_with_rules / revise_with_rules: rules whose id names a rule of the section keep it,
//     others get new ids, omitted rules are deleted. On a default section the default rule must
//     be the last rule of the body (400 error_code 100077, as a real manager answered in
//     terraform-provider-nsxt issue 153).
//   - section_type and stateful cannot change on an existing section (400).
//   - IPv4Address / IPv6Address references accept an address or CIDR, not a range.
//   - References to NSService / NSServiceGroup are refused (the simulator models none);
//     EtherType, IGMP and ALG service elements are refused as unsupported.
//   - REMOVE_MEMBERS of a non-member and remove_ip of an absent address are no-ops;
//     ADD_MEMBERS and add_ip of a present one are too.
//   - page_size above 1000 or a malformed cursor is a 400; page_size 0 means the default.
//   - An unknown path is 404 and an unknown method or ?action= on a known path is 400, both with
//     error_code 269.
//   - Missing or bad credentials are 403/403; a missing, unknown or expired session and a bad
//     XSRF token are all 403/98.
//   - Rule priority is the 1-based position within the section; section priority the 1-based
//     position within its layer.
package nsxsim
