// Package ir is microseg's intermediate representation of NSX-T Distributed Firewall (DFW)
// configuration: what the pure compiler (internal/compile) produces from Kubernetes objects and
// what the plan/apply steps later realize through the NSX-T Manager API (nsxclient).
//
// The IR is deliberately close to the Manager API wire model so that realization is a mechanical
// translation, but it is written in microseg's own terms so that it can be compared, hashed and
// golden-tested without NSX object ids:
//
//   - A Model is an ordered list of Sections (DFW order, top-down) plus the Groups their rules
//     reference, the Warnings for everything NSX cannot express exactly, and one ObjectResult per
//     source object (ClusterSecurityPolicy or NetworkPolicy) for status and events.
//   - A Rule mirrors a FirewallRule: action ALLOW/DROP/REJECT, direction IN/OUT, ip_protocol,
//     applied_tos, sources, destinations (each a list of Refs, optionally negated with the
//     *_excluded flags), inline services, logging.
//   - A Ref names either a Group of the model (by key), a literal address or CIDR (an
//     IPv4Address/IPv6Address reference), or an existing NSX NSGroup by display name (resolved to
//     an id at apply time; microseg never changes it).
//   - A Group is an NSGroup with LogicalPort tag criteria (TagGroup), an IPSet, or an NSGroup with
//     static members (NestedGroup). Groups are content-addressed: the key is derived from a hash of
//     the normalised content, so two rules that need the same membership share one NSX object.
//
// Every object has a stable Key and a content Hash; together with Model.ClusterID these are what
// the apply step writes into NSX tags (sections, groups) or rule notes (rules have no tags) to
// recognise what it owns and whether it changed.
//
// Check validates a Model against the NSX Manager API limits (Limits); the compiler guarantees its
// output passes Check for the limits it was given.
package ir
