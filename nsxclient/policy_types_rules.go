package nsxclient

// SecurityPolicy is a DFW security policy (/infra/domains/{domain}/security-policies/{id}).
// NSX evaluates policies by Category (Ethernet apart; Emergency, Infrastructure, Environment,
// Application, then policies without a category), then by SequenceNumber (lower first; equal
// numbers have no defined order), and the rules of a policy by their SequenceNumber.
type SecurityPolicy struct {
	PolicyResource
	Category string `json:"category,omitempty"`
	// SequenceNumber is always sent: 0 is a valid position, and PATCH replaces the policy.
	SequenceNumber int64 `json:"sequence_number"`
	// Stateful defaults to true for layer-3 policies; Ethernet policies must be stateless.
	Stateful  *bool `json:"stateful,omitempty"`
	TCPStrict *bool `json:"tcp_strict,omitempty"`
	// Scope (applied-to) paths of groups; when set (and not ["ANY"]) it overrides every rule's
	// scope.
	Scope    []string `json:"scope,omitempty"`
	Locked   bool     `json:"locked,omitempty"`
	Comments string   `json:"comments,omitempty"`
	// Rules are embedded in reads of one policy. In a PATCH or PUT body they replace the
	// policy's whole rule set; leave Rules nil to keep the rules as they are.
	Rules []PolicyRule `json:"rules,omitempty"`
	// Children is used only in hierarchical API bodies (ChildRule).
	Children []ChildNode `json:"children,omitempty"`

	// Read-only.
	RuleCount              int64 `json:"rule_count,omitempty"`
	IsDefault              bool  `json:"is_default,omitempty"`
	InternalSequenceNumber int64 `json:"internal_sequence_number,omitempty"`
}

// DFW categories, in evaluation order (Ethernet holds the layer-2 rules and is evaluated apart).
const (
	CategoryEthernet       = "Ethernet"
	CategoryEmergency      = "Emergency"
	CategoryInfrastructure = "Infrastructure"
	CategoryEnvironment    = "Environment"
	CategoryApplication    = "Application"
)

// MaxSequenceNumber is the largest security policy sequence_number NSX accepts.
const MaxSequenceNumber = 999999

// Policy rule actions besides ActionAllow, ActionDrop and ActionReject.
const (
	// ActionJumpToApplication leaves the Environment category and resumes evaluation at the
	// first Application rule. Only rules of Environment policies may use it.
	ActionJumpToApplication = "JUMP_TO_APPLICATION"
)

// AnyPath is the "ANY" value of source_groups, destination_groups, services and scope; it must be
// the only element of its list.
const AnyPath = "ANY"

// PolicyRule is a rule of a security policy.
type PolicyRule struct {
	PolicyResource
	Action string `json:"action"`
	// SourceGroups and DestinationGroups hold group paths and literal addresses, CIDRs or ranges,
	// or ["ANY"].
	SourceGroups         []string `json:"source_groups"`
	DestinationGroups    []string `json:"destination_groups"`
	SourcesExcluded      bool     `json:"sources_excluded,omitempty"`
	DestinationsExcluded bool     `json:"destinations_excluded,omitempty"`
	// Services holds service paths or ["ANY"]; with ["ANY"] and ServiceEntries set, only the
	// entries match.
	Services       []string       `json:"services"`
	ServiceEntries []ServiceEntry `json:"service_entries,omitempty"`
	// Scope is the rule's applied-to; ignored when its policy has a scope.
	Scope      []string `json:"scope,omitempty"`
	Direction  string   `json:"direction,omitempty"`
	IPProtocol string   `json:"ip_protocol,omitempty"`
	Logged     bool     `json:"logged,omitempty"`
	Disabled   bool     `json:"disabled,omitempty"`
	// SequenceNumber orders the rules of a policy (lower first); always sent.
	SequenceNumber int64 `json:"sequence_number"`
	// Tag is printed in packet logs (NSX keeps 32 characters); Notes keeps 39.
	Tag   string `json:"tag,omitempty"`
	Notes string `json:"notes,omitempty"`

	// Read-only.
	RuleID    int64 `json:"rule_id,omitempty"`
	IsDefault bool  `json:"is_default,omitempty"`
}

// ServiceEntry is an inline service of a rule, told apart by ResourceType:
// L4PortSetServiceEntry (L4Protocol TCP or UDP, port strings "80" or "8000-8080", at most 15
// values per list where a range counts twice), IPProtocolServiceEntry (ProtocolNumber) or
// ICMPTypeServiceEntry (Protocol ICMPv4 or ICMPv6, ICMPType, ICMPCode).
type ServiceEntry struct {
	ResourceType string `json:"resource_type"`
	ID           string `json:"id,omitempty"`
	DisplayName  string `json:"display_name,omitempty"`

	L4Protocol       string   `json:"l4_protocol,omitempty"`
	SourcePorts      []string `json:"source_ports,omitempty"`
	DestinationPorts []string `json:"destination_ports,omitempty"`

	ProtocolNumber *int64 `json:"protocol_number,omitempty"`

	Protocol string `json:"protocol,omitempty"`
	ICMPType *int64 `json:"icmp_type,omitempty"`
	ICMPCode *int64 `json:"icmp_code,omitempty"`
}

// Service entry resource types.
const (
	ServiceEntryL4PortSet  = "L4PortSetServiceEntry"
	ServiceEntryIPProtocol = "IPProtocolServiceEntry"
	ServiceEntryICMPType   = "ICMPTypeServiceEntry"
)

// L4PortSetEntry is an inline service matching TCP or UDP destination ports ("443",
// "8000-8080"); no ports means any port.
func L4PortSetEntry(protocol string, ports ...string) ServiceEntry {
	return ServiceEntry{ResourceType: ServiceEntryL4PortSet, L4Protocol: protocol, DestinationPorts: ports}
}

// IPProtocolEntry is an inline service matching an IP protocol number (e.g. 132 for SCTP).
func IPProtocolEntry(number int64) ServiceEntry {
	return ServiceEntry{ResourceType: ServiceEntryIPProtocol, ProtocolNumber: &number}
}

// ListSecurityPoliciesOptions filters ListSecurityPolicies.
type ListSecurityPoliciesOptions struct {
	PolicyListOptions
	// IncludeRuleCount fills rule_count in each listed policy.
	IncludeRuleCount bool
}
