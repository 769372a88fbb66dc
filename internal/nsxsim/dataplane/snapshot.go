package dataplane

import "github.com/microseg/microseg/nsxclient"

// Snapshot is the NSX state the dataplane evaluates: what a GET of every relevant object would
// return at one instant. Compile copies what it needs, so the caller may reuse or mutate the
// snapshot afterwards.
type Snapshot struct {
	// Sections are the LAYER3 DFW sections in evaluation order, the default section last.
	Sections []SectionWithRules
	// Groups, IPSets and Ports are keyed by object id.
	Groups map[string]nsxclient.NSGroup
	IPSets map[string]nsxclient.IPSet
	Ports  map[string]nsxclient.LogicalPort
	// NSServices maps an NSService id to its nsservice_element, for rules that reference a
	// service instead of inlining it. Optional: a nil map makes every such reference non-matching.
	NSServices map[string]nsxclient.NSServiceElement
	// Policy is the Policy API's part of the DFW, evaluated before Sections; nil when the
	// snapshot has none.
	Policy *PolicySnapshot
	// DefaultAction decides a side that no rule matched at all. Empty means ALLOW, which is what
	// NSX's default section says out of the box.
	DefaultAction string
}

// SectionWithRules is one DFW section and its rules in evaluation order.
type SectionWithRules struct {
	Section nsxclient.FirewallSection
	Rules   []nsxclient.FirewallRule
}
