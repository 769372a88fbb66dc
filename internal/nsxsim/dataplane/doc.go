// Package dataplane is the NSX simulator's model of the Distributed Firewall datapath. Given a
// snapshot of NSX Manager objects (DFW sections and rules, NSGroups, IPSets, logical ports) and,
// optionally, of NSX Policy objects (security policies and rules, groups, segments and segment
// ports), it computes effective group membership and evaluates a flow at the source and
// destination ports the way NSX does, first match wins: a Traceflow. Policy security policies
// are evaluated before every Manager section (policy_compile.go and policy_groups.go say how),
// and the default section's rule decides last.
//
// The package is pure: it never performs I/O, never mutates its input, and gives the same answer
// for the same snapshot and flow. Compile does the expensive work once per snapshot (group
// closure, IP sets, applied-to port sets, parsed services) so that many Trace calls are cheap; a
// compiled Dataplane is immutable and safe for concurrent use.
//
// Where NSX behaviour is not documented precisely, this package picks one reading and says so.
// The choices, all marked "Guess:" in the code, are:
//
//   - Tag matching is case-sensitive for every operator. NSX ≥ 3.x documents case-insensitive
//     matching; the 2.5 Manager API spec does not say. LogicalPort tag expressions only allow
//     EQUALS (the server validates that); CONTAINS, STARTSWITH and ENDSWITH are implemented
//     for IPSet targets and for completeness.
//   - A tag expression with both scope and tag empty matches an object that has at least one tag.
//   - A tag expression on LogicalSwitch or VirtualMachine matches nothing: the snapshot carries
//     no switch or VM objects. A LogicalSwitch static member (by id) contributes the ports on it.
//   - References that are invalid (is_valid=false) or name objects missing from the snapshot
//     match nothing. In applied_tos they contribute no ports, so a section whose applied_tos are
//     all invalid applies to no port at all (rather than to every port).
//   - sources_excluded / destinations_excluded negate a non-empty list only; with an empty list
//     ("any") the flag is ignored.
//   - Rule direction is honoured in stateful sections too (the spec says it is "only considered
//     if section is stateless", but NSX realises IN/OUT rules on stateful sections as well).
//   - A flow's unspecified source port (0) does not match a rule whose service lists
//     source_ports; a destination port of 0 likewise only matches services without
//     destination_ports.
//   - ICMP flows are echo requests (type 8 / code 0 for IPv4, type 128 / code 0 for IPv6), which
//     is what a Traceflow injects by default.
//   - Services referenced by id (target_type NSService) are looked up in Snapshot.NSServices;
//     NSServiceGroup references and unknown NSServices match nothing.
//   - Rules whose action is not ALLOW, DROP or REJECT (REDIRECT, DETECT, ...) are skipped, and
//     sections whose type is neither LAYER3 nor empty are skipped.
//   - An NSGroup in applied_tos covers its effective logical ports. NSX says a group holding
//     IPSets or MACSets "is ignored" in applied-to; here its IPSet members simply contribute no
//     port, while its port members still count.
//   - Source and destination references match by IP address only, including LogicalPort and
//     NSGroup references (NSX realises them as address sets on the host).
package dataplane
