package nsxclient

// Wire types of the NSX-T Manager API (/api/v1), after the vendor's Swagger 2.0 spec (2.5.1).
// Only the fields microseg reads or writes are modelled; read-only fields are pointers or omitempty
// so that a body we send never carries a server-owned value by accident. The simulator
// (internal/nsxsim) serves these same types, so client and simulator cannot drift apart silently;
// both are checked against the vendor spec in tests.

// Tag is an NSX tag: scope (max 128) and tag (max 256).
type Tag struct {
	Scope string `json:"scope"`
	Tag   string `json:"tag"`
}

// ManagedResource holds the fields shared by sections, groups, IP sets and logical ports.
type ManagedResource struct {
	ID               string `json:"id,omitempty"`
	DisplayName      string `json:"display_name,omitempty"`
	Description      string `json:"description,omitempty"`
	ResourceType     string `json:"resource_type,omitempty"`
	Tags             []Tag  `json:"tags,omitempty"`
	Revision         int64  `json:"_revision"`
	CreateTime       int64  `json:"_create_time,omitempty"`
	LastModifiedTime int64  `json:"_last_modified_time,omitempty"`
	CreateUser       string `json:"_create_user,omitempty"`
	LastModifiedUser string `json:"_last_modified_user,omitempty"`
	SystemOwned      bool   `json:"_system_owned,omitempty"`
	Protection       string `json:"_protection,omitempty"`
}

// ResourceReference is a weak reference used in rules, sections and group memberships.
// For target types IPv4Address and IPv6Address, TargetID is a literal address or CIDR.
type ResourceReference struct {
	TargetID          string `json:"target_id,omitempty"`
	TargetType        string `json:"target_type,omitempty"`
	TargetDisplayName string `json:"target_display_name,omitempty"`
	IsValid           *bool  `json:"is_valid,omitempty"`
}

// Reference target types used by microseg.
const (
	TargetNSGroup     = "NSGroup"
	TargetIPSet       = "IPSet"
	TargetLogicalPort = "LogicalPort"
	TargetIPv4Address = "IPv4Address"
	TargetIPv6Address = "IPv6Address"
)

// Section types.
const (
	SectionLayer3 = "LAYER3"
	SectionLayer2 = "LAYER2"
)

// FirewallSection is a DFW section (without its rules).
type FirewallSection struct {
	ManagedResource
	SectionType string              `json:"section_type"`
	Stateful    bool                `json:"stateful"`
	AppliedTos  []ResourceReference `json:"applied_tos,omitempty"`
	IsDefault   bool                `json:"is_default,omitempty"`
	RuleCount   int64               `json:"rule_count,omitempty"`
	Priority    int64               `json:"priority,omitempty"`
	Locked      bool                `json:"locked,omitempty"`
	TCPStrict   bool                `json:"tcp_strict,omitempty"`
	EnforcedOn  string              `json:"enforced_on,omitempty"`
	Autoplumbed bool                `json:"autoplumbed,omitempty"`
}

// FirewallSectionRuleList is a section together with its rules (create_with_rules,
// update_with_rules, list_with_rules).
type FirewallSectionRuleList struct {
	FirewallSection
	Rules []FirewallRule `json:"rules"`
}

// FirewallRuleList is the body of create_multiple.
type FirewallRuleList struct {
	Rules []FirewallRule `json:"rules"`
}

// Rule actions, directions and IP protocols.
const (
	ActionAllow  = "ALLOW"
	ActionDrop   = "DROP"
	ActionReject = "REJECT"

	DirectionIn    = "IN"
	DirectionOut   = "OUT"
	DirectionInOut = "IN_OUT"

	IPProtocolIPv4     = "IPV4"
	IPProtocolIPv6     = "IPV6"
	IPProtocolIPv4IPv6 = "IPV4_IPV6"
)

// FirewallRule is one DFW rule. It is an EmbeddedResource: it has no tags, and its id is a numeric
// string assigned by the server.
type FirewallRule struct {
	ID                   string              `json:"id,omitempty"`
	DisplayName          string              `json:"display_name,omitempty"`
	Description          string              `json:"description,omitempty"`
	ResourceType         string              `json:"resource_type,omitempty"`
	Revision             int64               `json:"_revision"`
	Action               string              `json:"action"`
	Direction            string              `json:"direction,omitempty"`
	IPProtocol           string              `json:"ip_protocol,omitempty"`
	Sources              []ResourceReference `json:"sources,omitempty"`
	Destinations         []ResourceReference `json:"destinations,omitempty"`
	SourcesExcluded      bool                `json:"sources_excluded,omitempty"`
	DestinationsExcluded bool                `json:"destinations_excluded,omitempty"`
	Services             []FirewallService   `json:"services,omitempty"`
	AppliedTos           []ResourceReference `json:"applied_tos,omitempty"`
	Logged               bool                `json:"logged,omitempty"`
	Disabled             bool                `json:"disabled,omitempty"`
	Notes                string              `json:"notes,omitempty"`
	RuleTag              string              `json:"rule_tag,omitempty"`
	IsDefault            bool                `json:"is_default,omitempty"`
	Priority             int64               `json:"priority,omitempty"`
	SectionID            string              `json:"section_id,omitempty"`
}

// FirewallService is a service in a rule: either a reference to an NSService (TargetType/TargetID)
// or an inline element (Service). go-vmware-nsxt cannot express the inline form; we can.
type FirewallService struct {
	TargetID          string            `json:"target_id,omitempty"`
	TargetType        string            `json:"target_type,omitempty"`
	TargetDisplayName string            `json:"target_display_name,omitempty"`
	IsValid           *bool             `json:"is_valid,omitempty"`
	Service           *NSServiceElement `json:"service,omitempty"`
}

// NSServiceElement is the polymorphic service element; microseg uses L4PortSetNSService
// (l4_protocol TCP or UDP, port strings "80" or "8000-8080", at most 15 entries each).
type NSServiceElement struct {
	ResourceType     string   `json:"resource_type"`
	L4Protocol       string   `json:"l4_protocol,omitempty"`
	SourcePorts      []string `json:"source_ports,omitempty"`
	DestinationPorts []string `json:"destination_ports,omitempty"`
	// ICMPTypeNSService / IPProtocolNSService fields.
	Protocol       string `json:"protocol,omitempty"`
	ICMPType       *int64 `json:"icmp_type,omitempty"`
	ICMPCode       *int64 `json:"icmp_code,omitempty"`
	ProtocolNumber *int64 `json:"protocol_number,omitempty"`
}

// Service element types and L4 protocols.
const (
	ServiceL4PortSet  = "L4PortSetNSService"
	ServiceICMPType   = "ICMPTypeNSService"
	ServiceIPProtocol = "IPProtocolNSService"
	L4ProtocolTCP     = "TCP"
	L4ProtocolUDP     = "UDP"
)

// NSGroup is a group whose members are static (Members) and/or dynamic (MembershipCriteria, ORed).
type NSGroup struct {
	ManagedResource
	Members            []NSGroupExpression `json:"members,omitempty"`
	MembershipCriteria []NSGroupExpression `json:"membership_criteria,omitempty"`
	MemberCount        int64               `json:"member_count,omitempty"`
}

// Expression types.
const (
	ExprTag     = "NSGroupTagExpression"
	ExprComplex = "NSGroupComplexExpression"
	ExprSimple  = "NSGroupSimpleExpression"
)

// NSGroupExpression is the polymorphic group expression, discriminated by ResourceType:
//   - NSGroupTagExpression: TargetType (LogicalPort, ...), Scope/ScopeOp, Tag/TagOp; scope and tag ANDed.
//   - NSGroupComplexExpression: Expressions (2-5, ANDed; tag or simple expressions only).
//   - NSGroupSimpleExpression: TargetType, TargetProperty ("id"), Op ("EQUALS"), Value (a static member).
type NSGroupExpression struct {
	ResourceType   string              `json:"resource_type"`
	TargetType     string              `json:"target_type,omitempty"`
	Scope          string              `json:"scope,omitempty"`
	ScopeOp        string              `json:"scope_op,omitempty"`
	Tag            string              `json:"tag,omitempty"`
	TagOp          string              `json:"tag_op,omitempty"`
	Expressions    []NSGroupExpression `json:"expressions,omitempty"`
	TargetProperty string              `json:"target_property,omitempty"`
	Op             string              `json:"op,omitempty"`
	Value          string              `json:"value,omitempty"`
	TargetResource *ResourceReference  `json:"target_resource,omitempty"`
}

// NSGroupExpressionList is the body of ADD_MEMBERS / REMOVE_MEMBERS.
type NSGroupExpressionList struct {
	Members []NSGroupExpression `json:"members"`
}

// IPSet is a set of IPv4 or IPv6 addresses, ranges and CIDRs (max 4000 entries).
type IPSet struct {
	ManagedResource
	IPAddresses []string `json:"ip_addresses,omitempty"`
}

// IPAddressElement is the body of IPSet add_ip / remove_ip.
type IPAddressElement struct {
	IPAddress string `json:"ip_address"`
}

// LogicalPort is a port on a logical switch. NCP creates one per pod (a CHILD VIF) tagged with
// ncp/cluster, ncp/project (namespace), ncp/pod and one tag per pod label (scope=key, tag=value).
type LogicalPort struct {
	ManagedResource
	LogicalSwitchID string                    `json:"logical_switch_id"`
	AdminState      string                    `json:"admin_state"`
	Attachment      *LogicalPortAttachment    `json:"attachment,omitempty"`
	AddressBindings []PacketAddressClassifier `json:"address_bindings,omitempty"`
}

// LogicalPortAttachment attaches a port to a VIF.
type LogicalPortAttachment struct {
	AttachmentType string                `json:"attachment_type,omitempty"`
	ID             string                `json:"id"`
	Context        *VifAttachmentContext `json:"context,omitempty"`
}

// VifAttachmentContext says what kind of VIF the port is attached to.
type VifAttachmentContext struct {
	ResourceType string `json:"resource_type"`
	VifType      string `json:"vif_type"`
	ParentVifID  string `json:"parent_vif_id,omitempty"`
	AppID        string `json:"app_id,omitempty"`
	TrafficTag   int64  `json:"traffic_tag,omitempty"`
}

// PacketAddressClassifier binds an IP (and optionally MAC and VLAN) to a port.
type PacketAddressClassifier struct {
	IPAddress  string `json:"ip_address,omitempty"`
	MACAddress string `json:"mac_address,omitempty"`
	VLAN       int64  `json:"vlan,omitempty"`
}

// ListResult is the envelope of every paginated list.
type ListResult[T any] struct {
	Results       []T    `json:"results"`
	Cursor        string `json:"cursor,omitempty"`
	ResultCount   int64  `json:"result_count,omitempty"`
	SortBy        string `json:"sort_by,omitempty"`
	SortAscending *bool  `json:"sort_ascending,omitempty"`
}

// APIErrorBody is NSX's error body (ApiError), plus the httpStatus field real managers send.
type APIErrorBody struct {
	HTTPStatus    string            `json:"httpStatus,omitempty"`
	ErrorCode     int64             `json:"error_code,omitempty"`
	ErrorMessage  string            `json:"error_message,omitempty"`
	ModuleName    string            `json:"module_name,omitempty"`
	Details       string            `json:"details,omitempty"`
	RelatedErrors []RelatedAPIError `json:"related_errors,omitempty"`
}

// RelatedAPIError is one entry of ApiError.related_errors.
type RelatedAPIError struct {
	HTTPStatus   string `json:"httpStatus,omitempty"`
	ErrorCode    int64  `json:"error_code,omitempty"`
	ErrorMessage string `json:"error_message,omitempty"`
	ModuleName   string `json:"module_name,omitempty"`
	Details      string `json:"details,omitempty"`
}

// Well-known NSX error codes.
const (
	ErrCodeFieldValidation = 255
	ErrCodeBadXSRF         = 98
	ErrCodeBadCredentials  = 403
	ErrCodeNotFound        = 600
	ErrCodeResourceInUse   = 500030
	ErrCodePendingDelete   = 500045
	ErrCodeReconfiguring   = 607
	ErrCodeNotOwner        = 289
)
