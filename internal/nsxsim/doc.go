// Package nsxsim is an in-process simulator of the VMware NSX-T Manager API (/api/v1) for the
// objects microseg uses: DFW sections and rules, NSGroups, IPSets and logical ports. It follows the
// NSX behaviour listed with its sources in docs/architecture.md ("NSX facts": paths, _revision
// rules, pagination, error bodies, auth, limits) and answers with bodies that validate against the
// vendor's 2.5.1 spec. The same server also serves the NSX Policy API (/policy/api/v1, the
// policy_*.go files; see "The Policy API" below and docs/nsx-policy-api.md), with one dataplane for
// both, as a real manager does. It also
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
//
// # The Policy API
//
// Domains, groups, security policies and rules, segments and segment ports, stored by path; the
// hierarchical API (PATCH and GET /infra); realization status; effective group members. Every
// write runs as one transaction (policy_tx.go): applied, checked as a whole, kept or undone.
// docs/nsx-policy-api.md says what NSX documents; where it does not, the simulator chooses the
// strict reading:
//
//   - PATCH merges the body's top-level fields into a domain, group, segment or segment port,
//     and replaces a security policy or rule (documented as "full replace"). A policy PATCH whose
//     body has "rules" makes them the whole rule set: rules left out are deleted (unless
//     Options.PolicyPatchKeepsOmittedRules); without "rules" the rules stay. PUT replaces, and a
//     policy PUT without rules deletes them all. Embedded rules must carry ids.
//   - _revision: a PUT of an existing object without the current revision, a PATCH carrying a
//     revision that is not current, and a hierarchical PATCH with enforce_revision_check=true
//     carrying one, are 412 without an error_code. A PATCH without a revision is not checked; a
//     hierarchical PATCH without the check ignores revisions. A rule change bumps its policy's
//     revision too, so a PUT of the policy built on the old rules is stale.
//   - The hierarchical PATCH is all-or-nothing, and references are resolved against the state it
//     would leave, so the order inside the tree does not matter. Wrappers must carry the id of
//     their object (and the same one); a ChildResourceReference must name an existing object;
//     more than 5000 Child<Type> nodes (references do not count) is a 400. It answers 200
//     without a body; PATCH and DELETE of one object answer 204; PUT 200 with the object.
//   - Validation failures are 400 with error_code 255 and a message naming the object and the
//     problem (NSX's own codes are not documented): enums, limits, ANY not alone, the group
//     expression grammar and its limits (5 criteria, 5 conditions of one member type or 15
//     mixed per criterion, 35 per group, AND between criteria only for two single conditions of
//     one member type, nested expressions AND-only), LogicalPort and LogicalSwitch member types,
//     IP expressions of 1 to 4000 entries of one family, JUMP_TO_APPLICATION outside
//     Environment, a rule whose applied-to, sources and destinations are all ANY (unless its
//     policy has a scope), an Ethernet policy that is stateful or has rules with ip_protocol,
//     tcp_strict on a stateless policy, port lists over 15 values (a range counts twice),
//     service paths (no Service objects are modelled: use ["ANY"] with service_entries),
//     references to paths that do not exist or of the wrong kind, groups holding only IP
//     addresses used as applied-to, cycles of path expressions, ids over 255 characters or
//     containing '/', '?', '#', '%', '|', spaces or control characters, and a rule other than
//     the default one in the default policy.
//   - Missing objects are 404 with error_code 600; so is a DELETE of an object that is absent or
//     already being deleted (NSX may answer an idempotent 200 there).
//   - DELETE marks the object; it stays Options.PolicyDeleteDelay marked for delete: hidden
//     from GET and from lists without include_mark_for_delete_objects=true, and a write to its
//     path is 400/500045. The dataplane stops evaluating it at once. A group still referenced
//     by a rule, a policy scope or a path expression, and a domain or segment with children, is
//     in use (400/500030); a security policy goes with its rules; a hierarchical delete takes
//     the subtree.
//   - Realization: one realized entity per intent, UNREALIZED for Options.PolicyRealizationDelay
//     after each write, then REALIZED; ERROR with an alarm while a RealizationFault matches its
//     path. A group's state follows (IN_PROGRESS, SUCCESS, FAILURE). The dataplane evaluates the
//     stored intent, not the realized state.
//   - GET /infra takes filter=Type-A|B (or type_filter=A;B) and base_path; objects of the listed
//     types come as Child<Type> nodes, their unlisted ancestors as ChildResourceReferences;
//     without a filter only Infra's own fields. Objects being deleted are left out, NSX's own
//     objects included.
//   - Lists are sorted by id (rules by sequence_number, then id); page_size at most 1000.
//   - A fresh manager has the domain "default" and the default policy default-layer3-section
//     (Application, sequence_number 999999) with its rule default-layer3-rule. That rule is the
//     Manager default section's rule: its action is read from and written to the Manager API's
//     default rule. Only its action, logging, tag and notes can change; neither can be deleted.
//   - A segment port is realized as a Manager logical port (id = the port's unique_id,
//     logical_switch_id = its segment's unique_id, same tags and addresses, created by
//     "nsx_policy"), which Manager writes may change or delete only with X-Allow-Overwrite
//     (400/289 otherwise). A Manager logical port is not a segment port. Security policies and
//     groups are not shown in the Manager API.
//   - Objects created by a user in Options.ProtectedPrincipals show _protection
//     REQUIRE_OVERRIDE to others, whose writes need X-Allow-Overwrite (400/289 otherwise).
//   - Rule tag and notes are stored as sent (NSX keeps 32 and 39 characters in the datapath).
//   - Not modelled: the revise action, locking, Service objects, projects and VPCs (400 or 404).
//   - Cost: CostModel.PerPolicyObjectWritten per object a write carries, PerPolicyObjectRead per
//     object a hierarchical read returns; rules embedded in a policy GET cost like paged rules.
//
// The dataplane evaluates Policy security policies before every Manager section: by category
// (Emergency, Infrastructure, Environment, Application, then uncategorized; Ethernet holds
// layer-2 rules and is skipped), then sequence_number, then path for equal numbers (or a seeded
// hash with Options.PolicyTieBreakSeed, to flush out reliance on NSX's undefined order); rules
// likewise. JUMP_TO_APPLICATION resumes at the first Application policy. A policy's scope
// overrides its rules' scope. Group conditions follow the dataplane package's documented
// reading. Traceflow reports a Policy decision with api "policy", the policy's and rule's paths
// as section and rule ids, and the category.
//
// # NSX's Traceflow API
//
// traceflow_api.go and traceflow_policy.go serve NSX's own, asynchronous Traceflow: Manager
// POST /api/v1/traceflows (a round from a logical port), GET …/{id}, GET …/{id}/observations,
// DELETE …/{id}; Policy PUT, GET and DELETE /infra/traceflows/{id} (a round from a segment port),
// GET …/{id}/status and …/{id}/observations. The packet is traced over the dataplane when the
// round is created; the observations are the DFW at the source port (forwarded or dropped, with
// the rule's number as acl_rule_id: a Manager rule's id, a Policy rule's rule_id), then at the
// destination port, then the delivery. Where NSX is not documented:
//
//   - A round is IN_PROGRESS when created and FINISHED from the first read of its state on (so
//     clients must poll); its observations are empty until then.
//   - A Manager round from an unknown logical port is created, and FAILED with request_status
//     SOURCE_PORT_NOT_FOUND; a Policy round whose segment_port_path is not a segment port is a
//     400 (a Policy write is validated as a whole).
//   - Only FieldsPacketData is decoded (BinaryPacketData is a 400), with ip_header or
//     ipv6_header and the IP protocols 1, 6, 17, 58 and 132; ports come from tcp_header or
//     udp_header (NSX has no SCTP header). A missing src_ip is the port's address.
//   - The Manager timeout is 5,000 to 15,000 ms (vendor spec), the Policy one 5 to 15 s (its
//     examples use 10; the unit is not stated).
//   - A Policy PUT of an existing round needs its current _revision and starts a new round.
//   - REJECT and DROP both show as a drop with reason FW_RULE.
//   - Rounds are not NSX objects: no revision checks in the Manager API, no realization, no
//     cost beyond the per-call one; they live until deleted or Reset.
package nsxsim
