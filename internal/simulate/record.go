package simulate

import (
	"github.com/microseg/microseg/internal/pipeline"
)

// TierDefault names the decision when no microseg rule matched: the NSX sections below microseg
// decided (in the simulation, the NSX default section, which allows).
const TierDefault = "Default"

// Record is one line of -o json: one probe. Its fields are documented in docs/simulate.md; every
// field is always present (no omitempty), so that jq filters need no null checks.
type Record struct {
	// Source and Destination are "namespace/pod".
	Source      string `json:"source"`
	Destination string `json:"destination"`
	// SourceIP and DestinationIP are the addresses the connection was traced with.
	SourceIP      string `json:"sourceIP"`
	DestinationIP string `json:"destinationIP"`
	// Protocol is TCP, UDP or SCTP; Port the destination port.
	Protocol string `json:"protocol"`
	Port     int    `json:"port"`
	// Allowed is true when both sides allow the connection.
	Allowed bool `json:"allowed"`
	// Egress is the decision at the source pod, Ingress at the destination pod.
	Egress  SideRecord `json:"egress"`
	Ingress SideRecord `json:"ingress"`
}

// SideRecord is the decision at one end of a connection.
type SideRecord struct {
	// Action is ALLOW, DROP or REJECT (REJECT answers the client with a TCP RST or ICMP
	// unreachable).
	Action string `json:"action"`
	// Tier is Security, Developer, Baseline, or Default when no microseg rule matched.
	Tier string `json:"tier"`
	// Object is the Kubernetes object whose rule decided: "ClusterSecurityPolicy/<name>" or
	// "NetworkPolicy/<namespace>/<name>"; empty for the Default tier.
	Object string `json:"object"`
	// Rule is the rule within Object: "ingress/<rule name>" or "egress/<rule name>" for a
	// ClusterSecurityPolicy, "ingress/<index>", "egress/<index>", "isolate/ingress" or
	// "isolate/egress" for a NetworkPolicy; empty for the Default tier.
	Rule string `json:"rule"`
	// Section and SectionID name the NSX DFW section that decided; NSXRule and RuleID its rule.
	Section   string `json:"section"`
	SectionID string `json:"sectionID"`
	NSXRule   string `json:"nsxRule"`
	RuleID    string `json:"ruleID"`
}

// RecordOf turns a probe into its JSON record.
func RecordOf(p Probe) Record {
	return Record{
		Source:        p.Source.String(),
		Destination:   p.Destination.String(),
		SourceIP:      p.SourceIP,
		DestinationIP: p.DestinationIP,
		Protocol:      p.Port.Protocol,
		Port:          p.Port.Number,
		Allowed:       p.Verdict.Allowed,
		Egress:        sideRecordOf(p.Verdict.Egress),
		Ingress:       sideRecordOf(p.Verdict.Ingress),
	}
}

func sideRecordOf(s pipeline.Side) SideRecord {
	tier := s.Tier
	if tier == "" {
		tier = TierDefault
	}
	return SideRecord{Action: s.Action, Tier: tier, Object: s.Object, Rule: s.Rule,
		Section: s.Section, SectionID: s.SectionID, NSXRule: s.NSXRule, RuleID: s.RuleID}
}
