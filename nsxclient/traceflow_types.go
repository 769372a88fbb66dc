package nsxclient

// Traceflow: NSX injects a packet at a logical port and reports what every component on its path
// did with it (observations), the DFW included: which rule forwarded or dropped it, at the source
// port and at the destination port. It is asynchronous: a round is created, runs until its
// operation_state is FINISHED or FAILED, and its observations are read afterwards. The Manager
// API creates rounds with POST /api/v1/traceflows; the Policy API with PUT
// /policy/api/v1/infra/traceflows/{id} from a segment port. Both report the same Traceflow and
// observation shapes.

// Operation states of a Traceflow round.
const (
	TraceflowInProgress = "IN_PROGRESS"
	TraceflowFinished   = "FINISHED"
	TraceflowFailed     = "FAILED"
)

// Observation resource types microseg reads, and the DFW's component type.
const (
	ObservationForwardedLogical = "TraceflowObservationForwardedLogical"
	ObservationDroppedLogical   = "TraceflowObservationDroppedLogical"
	ObservationReceivedLogical  = "TraceflowObservationReceivedLogical"
	ObservationDelivered        = "TraceflowObservationDelivered"
	ObservationDropped          = "TraceflowObservationDropped"
	ComponentDFW                = "DFW"
	// DropReasonFirewallRule is the reason of a drop by a DFW rule.
	DropReasonFirewallRule = "FW_RULE"
)

// TraceflowRequest starts a Manager API round (POST /api/v1/traceflows).
type TraceflowRequest struct {
	// LportID is the logical port the packet is injected at: the source pod's port.
	LportID string          `json:"lport_id"`
	Packet  TraceflowPacket `json:"packet"`
	// Timeout in milliseconds (5,000 to 15,000; NSX's default 10,000).
	Timeout int64 `json:"timeout,omitempty"`
}

// TraceflowPacket is a FieldsPacketData: the packet described by its headers.
type TraceflowPacket struct {
	// ResourceType is "FieldsPacketData".
	ResourceType    string                    `json:"resource_type"`
	TransportType   string                    `json:"transport_type,omitempty"`
	FrameSize       int64                     `json:"frame_size,omitempty"`
	IPHeader        *TraceflowIPv4Header      `json:"ip_header,omitempty"`
	IPv6Header      *TraceflowIPv6Header      `json:"ipv6_header,omitempty"`
	TransportHeader *TraceflowTransportHeader `json:"transport_header,omitempty"`
}

// TraceflowIPv4Header: Protocol is the IP protocol number (6 TCP, 17 UDP, 132 SCTP; NSX's
// default 1, ICMP).
type TraceflowIPv4Header struct {
	SrcIP    string `json:"src_ip,omitempty"`
	DstIP    string `json:"dst_ip,omitempty"`
	Protocol int64  `json:"protocol,omitempty"`
	TTL      int64  `json:"ttl,omitempty"`
}

// TraceflowIPv6Header: NextHeader is the IP protocol number.
type TraceflowIPv6Header struct {
	SrcIP      string `json:"src_ip,omitempty"`
	DstIP      string `json:"dst_ip,omitempty"`
	NextHeader int64  `json:"next_header,omitempty"`
	HopLimit   int64  `json:"hop_limit,omitempty"`
}

// TraceflowTransportHeader carries one of the L4 headers. NSX has none for SCTP: an SCTP packet
// is described by its IP protocol number alone, without ports.
type TraceflowTransportHeader struct {
	TCPHeader *TraceflowTCPHeader `json:"tcp_header,omitempty"`
	UDPHeader *TraceflowUDPHeader `json:"udp_header,omitempty"`
}

// TraceflowTCPHeader is a TCP header (flags default to SYN on a real manager).
type TraceflowTCPHeader struct {
	SrcPort  int64 `json:"src_port,omitempty"`
	DstPort  int64 `json:"dst_port,omitempty"`
	TCPFlags int64 `json:"tcp_flags,omitempty"`
}

// TraceflowUDPHeader is a UDP header.
type TraceflowUDPHeader struct {
	SrcPort int64 `json:"src_port,omitempty"`
	DstPort int64 `json:"dst_port,omitempty"`
}

// Traceflow is a round's state (Manager: GET /api/v1/traceflows/{id}; Policy: GET
// /policy/api/v1/infra/traceflows/{id}/status).
type Traceflow struct {
	ID string `json:"id"`
	// OperationState is IN_PROGRESS, FINISHED or FAILED.
	OperationState string `json:"operation_state,omitempty"`
	// RequestStatus is SUCCESS, or why the round could not run (SOURCE_PORT_NOT_FOUND, TIMEOUT,
	// DATA_PATH_NOT_READY, CONNECTION_ERROR, UNKNOWN).
	RequestStatus    string             `json:"request_status,omitempty"`
	LportID          string             `json:"lport_id,omitempty"`
	Timeout          int64              `json:"timeout,omitempty"`
	Counters         *TraceflowCounters `json:"counters,omitempty"`
	LogicalCounters  *TraceflowCounters `json:"logical_counters,omitempty"`
	Analysis         []string           `json:"analysis,omitempty"`
	ResultOverflowed bool               `json:"result_overflowed,omitempty"`
}

// TraceflowCounters count a round's observations by kind.
type TraceflowCounters struct {
	ForwardedCount int64 `json:"forwarded_count"`
	DroppedCount   int64 `json:"dropped_count"`
	DeliveredCount int64 `json:"delivered_count"`
	ReceivedCount  int64 `json:"received_count"`
}

// TraceflowObservation is one observation, the fields of its subtypes that microseg reads in one
// struct (ResourceType says which subtype it is; a field its subtype lacks stays empty).
type TraceflowObservation struct {
	ResourceType      string `json:"resource_type"`
	ComponentType     string `json:"component_type,omitempty"`
	ComponentName     string `json:"component_name,omitempty"`
	TransportNodeName string `json:"transport_node_name,omitempty"`
	TransportNodeType string `json:"transport_node_type,omitempty"`
	SequenceNo        int64  `json:"sequence_no,omitempty"`
	Timestamp         int64  `json:"timestamp,omitempty"`
	// ComponentID (logical observations) is the component's id.
	ComponentID string `json:"component_id,omitempty"`
	// LportID and LportName: the logical port where the packet was forwarded, dropped or
	// delivered.
	LportID   string `json:"lport_id,omitempty"`
	LportName string `json:"lport_name,omitempty"`
	// Reason (drops): FW_RULE for a DFW rule.
	Reason string `json:"reason,omitempty"`
	// ACLRuleID (DFW drops and forwards) is the firewall rule's number: a Manager rule's id, a
	// Policy rule's rule_id.
	ACLRuleID int64 `json:"acl_rule_id,omitempty"`
}

// TraceflowConfig starts a Policy API round (PUT /policy/api/v1/infra/traceflows/{id}): the
// packet is injected at a segment port, given by its path. NSX removes the config after two hours
// of inactivity.
type TraceflowConfig struct {
	PolicyResource
	SegmentPortPath string          `json:"segment_port_path"`
	Packet          TraceflowPacket `json:"packet"`
	// Timeout in seconds (5 to 15; 10 if absent). The Policy API's unit is not stated
	// explicitly; its examples use 10.
	Timeout int64 `json:"timeout,omitempty"`
}
