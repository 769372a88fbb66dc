package v1alpha1

// Admission limits of a ClusterSecurityPolicy. The CRD enforces them (maxItems, maxLength and CEL
// rules generated from the markers in spec_types.go, which must carry the same numbers: a test
// compares them with the generated CRD), so that one policy, however large or mistaken, cannot
// make the operator's compile-and-sync slow for everyone, nor cost the API server's CEL budget.
//
// Why these numbers:
//   - The whole object is already bounded by the API server (3 MiB requests) and etcd (1.5 MiB
//     values by default); the per-list limits stop a single list from taking all of it, and make
//     every CEL rule's cost static and small (unbounded lists make the API server assume
//     millions of elements).
//   - NSX: a firewall section holds at most 1,000 rules, a rule at most 128 sources,
//     destinations or services, a service entry at most 15 ports; display names are at most 255
//     characters. A policy at every limit still compiles (the compiler splits rules, sections
//     and groups past NSX's limits); internal/compile's TestAdmissionLimitsCompile and
//     BenchmarkAdmissionLimits measure how long (docs/limits.md has the figures).
//   - Label selectors: NCP copies a pod's labels onto its logical port as tags, and NSX allows
//     30 tags per object (NCP uses a few itself), so a selector naming more label keys than that
//     can never match a pod by tags.
//
// Label selectors are Kubernetes' metav1.LabelSelector, whose schema bounds nothing, so their
// limits are CEL rules on every selector field. The count checks cost O(1); the values check
// visits the at most MaxSelectorExpressions entries by index ([0, 1, …, 15].all(i, …)) because a
// rule iterating matchExpressions itself is estimated by the API server as if the list could hold
// what 3 MiB of JSON holds: 2.7 billion for a selector inside a peer (its cost times the 2,500
// peers of a direction), 272 times the per-rule limit, and the CRD would not install. For the
// same reason label keys and values in selectors have no length limit here; a value longer than
// a pod's label can be never matches anything.
const (
	// MaxRules is the most ingress rules, and the most egress rules, of one policy: ten times
	// fewer than the rules of one NSX section, so that one policy fits a section even when
	// address families, Pass rules or reference limits split its rules. Rule-name uniqueness is
	// checked pairwise (CEL), 100² comparisons at most.
	MaxRules = 100
	// MaxPeers is the most from/to peers of one rule.
	MaxPeers = 25
	// MaxNetworks is the most CIDRs of one peer; past 16 literals the compiler moves them into
	// IPSets (4,000 entries each).
	MaxNetworks = 25
	// MaxNSXGroups is the most NSGroup names of one peer.
	MaxNSXGroups = 25
	// MaxPorts is the most ports of one rule (NSX: 128 services per rule, 15 ports per entry).
	MaxPorts = 25
	// MaxSelectorLabels is the most matchLabels entries of one label selector.
	MaxSelectorLabels = 16
	// MaxSelectorExpressions is the most matchExpressions of one label selector.
	MaxSelectorExpressions = 16
	// MaxSelectorValues is the most values of one matchExpressions entry (In, NotIn).
	MaxSelectorValues = 64

	// MaxRuleNameLength: a rule name is a DNS label; it appears in NSX rule display names.
	MaxRuleNameLength = 63
	// MaxNSXGroupNameLength: an NSGroup display name in NSX is at most 255 characters.
	MaxNSXGroupNameLength = 255
	// MaxCIDRLength is the longest canonical CIDR, an IPv6 address of 39 characters and "/128".
	MaxCIDRLength = 43
	// MaxNamedPortLength: a container port name is an IANA service name, at most 15 characters.
	MaxNamedPortLength = 15
)
