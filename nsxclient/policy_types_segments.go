package nsxclient

// Segment is a Policy segment (/infra/segments/{id}), the Policy view of a logical switch. NCP in
// Policy mode tags a cluster's segments (nsx-operator puts ncp/cluster there).
type Segment struct {
	PolicyResource
	// Children is used only in hierarchical API bodies (ChildSegmentPort).
	Children []ChildNode `json:"children,omitempty"`
}

// SegmentPort is a port of a segment (/infra/segments/{segment}/ports/{id}). NCP creates one per
// pod, attached as a CHILD of the node's VIF, tagged with the pod's labels (scope = label key,
// tag = value) and NCP's own tags.
type SegmentPort struct {
	PolicyResource
	Attachment      *PortAttachment           `json:"attachment,omitempty"`
	AddressBindings []PortAddressBindingEntry `json:"address_bindings,omitempty"`
	AdminState      string                    `json:"admin_state,omitempty"`
}

// PortAttachment says what the port is attached to.
type PortAttachment struct {
	ID string `json:"id,omitempty"`
	// Type is PARENT, CHILD, INDEPENDENT or STATIC.
	Type string `json:"type,omitempty"`
	// ContextID is the parent VIF of a CHILD attachment.
	ContextID  string `json:"context_id,omitempty"`
	AppID      string `json:"app_id,omitempty"`
	TrafficTag int64  `json:"traffic_tag,omitempty"`
}

// PortAddressBindingEntry binds an address (and optionally a MAC and VLAN) to the port.
type PortAddressBindingEntry struct {
	IPAddress  string `json:"ip_address,omitempty"`
	MACAddress string `json:"mac_address,omitempty"`
	VLANID     int64  `json:"vlan_id,omitempty"`
}

// Attachment types.
const (
	AttachmentParent      = "PARENT"
	AttachmentChild       = "CHILD"
	AttachmentIndependent = "INDEPENDENT"
)
