package dataplane

// Flow is the first packet of a connection to trace. Each endpoint is given by a logical port id,
// an IP address, or both:
//   - port id only: the endpoint's address is the port's first bound address of the flow's
//     family (IPv4 preferred when neither side fixes the family);
//   - IP only: the endpoint is the logical port bound to that address if there is one (the
//     lowest port id if several are), otherwise an endpoint outside the DFW;
//   - both: taken as given, even if the port does not own the address.
type Flow struct {
	SrcPortID string
	SrcIP     string
	DstPortID string
	DstIP     string
	// Protocol is TCP, UDP, SCTP or ICMP (ICMPv6 for IPv6 flows is implied; "ICMPV6" is accepted
	// too). Case-insensitive.
	Protocol string
	// DstPort and SrcPort are the L4 ports; 0 means unspecified. Ignored for ICMP.
	DstPort int
	SrcPort int
}

// Result is the outcome of tracing a flow.
type Result struct {
	// Allowed is true when every evaluated side allows the flow. A side that is not a logical
	// port in the DFW (an outside endpoint) does not filter.
	Allowed bool
	// Action is ALLOW when the flow is allowed, otherwise the action of the side that stopped it
	// first: the source if it denied, else the destination. REJECT (a deny that answers with a
	// TCP RST or ICMP unreachable) is kept distinct from DROP.
	Action      string
	Source      SideVerdict
	Destination SideVerdict
}

// SideVerdict is the DFW decision at one endpoint's logical port.
type SideVerdict struct {
	// Evaluated is false when the endpoint is not a logical port in the DFW.
	Evaluated bool
	PortID    string
	// IP is the endpoint address the flow was evaluated with (also set for outside endpoints).
	IP string
	// Action is ALLOW, DROP or REJECT; empty when not evaluated.
	Action      string
	SectionID   string
	SectionName string
	RuleID      string
	RuleName    string
	// Default is true when the default section or default rule decided, or no rule matched and
	// Snapshot.DefaultAction did.
	Default bool
	// API is "policy" when a Policy API rule decided; then SectionID and SectionName are the
	// security policy's path and display name, RuleID and RuleName the rule's path and display
	// name, and Category the policy's category. Empty for Manager API sections.
	API      string
	Category string
	// JumpedBy is the path of the JUMP_TO_APPLICATION rule that sent evaluation on to the
	// Application category, if one did.
	JumpedBy string
}

// Allows reports whether this side lets the flow through.
func (v SideVerdict) Allows() bool { return !v.Evaluated || v.Action == actionAllow }
