package dataplane

import "github.com/microseg/microseg/nsxclient"

// PolicySnapshot is the NSX Policy API's part of the DFW: security policies (evaluated before
// every Manager API section), their groups, and the segments and segment ports those groups
// select. The segment ports are the same vNICs as the Manager logical ports they are realized as
// (Snapshot.Ports), so one flow meets both APIs' rules.
type PolicySnapshot struct {
	// Policies are the security policies with their rules, in any order (Compile orders them).
	// NSX's default policy is left out: its one rule is the default section's rule, which
	// decides after the Manager sections.
	Policies []PolicyWithRules
	// Groups are keyed by path.
	Groups map[string]nsxclient.PolicyGroup
	// Segments are keyed by path.
	Segments map[string]nsxclient.Segment
	// SegmentPorts are keyed by path.
	SegmentPorts map[string]SegmentPortInfo
	// TieBreakSeed orders policies (and rules) with equal sequence numbers: by path when 0,
	// otherwise by a hash of the path drawn from this seed. NSX leaves that order undefined.
	TieBreakSeed uint64
}

// PolicyWithRules is one security policy and its rules.
type PolicyWithRules struct {
	Policy nsxclient.SecurityPolicy
	Rules  []nsxclient.PolicyRule
}

// SegmentPortInfo is a segment port, the segment it belongs to, and the id of the Manager
// logical port (a key of Snapshot.Ports) it is realized as.
type SegmentPortInfo struct {
	Port          nsxclient.SegmentPort
	SegmentPath   string
	LogicalPortID string
}
