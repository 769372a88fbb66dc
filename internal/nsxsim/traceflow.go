package nsxsim

import (
	"context"

	"github.com/microseg/microseg/internal/nsxsim/dataplane"
)

// TraceflowRequest is the JSON body of POST /sim/v1/traceflow: the first packet of a connection
// to trace through the DFW. Each endpoint is a logical port id (or a Policy segment port's
// path), an IP address, or both (see dataplane.Flow for how they are resolved).
type TraceflowRequest struct {
	SrcPortID string `json:"src_port_id,omitempty"`
	SrcIP     string `json:"src_ip,omitempty"`
	DstPortID string `json:"dst_port_id,omitempty"`
	DstIP     string `json:"dst_ip,omitempty"`
	// Protocol is TCP, UDP, SCTP or ICMP.
	Protocol string `json:"protocol"`
	DstPort  int    `json:"dst_port,omitempty"`
	SrcPort  int    `json:"src_port,omitempty"`
}

// TraceflowResponse is the JSON reply of POST /sim/v1/traceflow: whether the flow passes and
// which rule decided at each side.
type TraceflowResponse struct {
	Allowed bool `json:"allowed"`
	// Action is ALLOW, or the DROP / REJECT of the side that stopped the flow first.
	Action      string      `json:"action"`
	Source      SideVerdict `json:"source"`
	Destination SideVerdict `json:"destination"`
}

// SideVerdict is the DFW decision at one endpoint's logical port (source: OUT and IN_OUT rules;
// destination: IN and IN_OUT rules).
type SideVerdict struct {
	// Evaluated is false when the endpoint is not a logical port in the DFW.
	Evaluated   bool   `json:"evaluated"`
	PortID      string `json:"port_id,omitempty"`
	IP          string `json:"ip,omitempty"`
	Action      string `json:"action,omitempty"`
	SectionID   string `json:"section_id,omitempty"`
	SectionName string `json:"section_name,omitempty"`
	RuleID      string `json:"rule_id,omitempty"`
	RuleName    string `json:"rule_name,omitempty"`
	// Default is true when the default section or rule decided.
	Default bool `json:"default"`
	// API is "policy" when a Policy API rule decided: section_id and section_name then name the
	// security policy (path, display name), rule_id and rule_name the rule; Category is the
	// policy's category.
	API      string `json:"api,omitempty"`
	Category string `json:"category,omitempty"`
	// JumpedBy is the path of a JUMP_TO_APPLICATION rule that sent evaluation on to the
	// Application category.
	JumpedBy string `json:"jumped_by,omitempty"`
}

// Traceflow evaluates one flow against the current DFW configuration. The compiled dataplane is
// cached until the next write, so many traces over one configuration are cheap. Traces are not
// NSX API calls: they cost nothing in Stats and trip no faults.
func (s *Server) Traceflow(ctx context.Context, f dataplane.Flow) (dataplane.Result, error) {
	if err := ctx.Err(); err != nil {
		return dataplane.Result{}, err
	}
	s.mu.Lock()
	dp := s.compiledDataplane()
	s.mu.Unlock()
	return dp.Trace(f)
}

// EffectivePorts returns the sorted ids of the logical ports in an NSGroup, as the
// effective-logical-port-members API does; ok is false for an unknown group.
func (s *Server) EffectivePorts(groupID string) (ports []string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, found := s.st.groups.get(groupID); !found {
		return nil, false
	}
	return s.compiledDataplane().EffectivePorts(groupID), true
}
