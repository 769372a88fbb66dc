package nsxsim

import (
	"github.com/microseg/microseg/internal/nsxsim/dataplane"
	"github.com/microseg/microseg/nsxclient"
)

// This file is the only place that knows the dataplane package's API: it turns the stored state
// into a dataplane.Snapshot and keeps the compiled form between writes.

// dataplaneCache holds the compiled dataplane of one state generation.
type dataplaneCache struct {
	generation uint64
	compiled   *dataplane.Dataplane
}

// compiledDataplane returns the dataplane of the current state, compiling it only when a write
// happened since the last call. Call with s.mu held; the result is immutable and may be used
// after the lock is released.
func (s *Server) compiledDataplane() *dataplane.Dataplane {
	if s.dp.compiled == nil || s.dp.generation != s.st.generation {
		s.dp = dataplaneCache{generation: s.st.generation, compiled: dataplane.Compile(s.st.snapshot())}
	}
	return s.dp.compiled
}

// snapshot is the state as the dataplane sees it: the LAYER3 sections in evaluation order with
// their rules (read forms, so references carry is_valid), and every group, IP set and port.
// dataplane.Compile copies what it keeps.
func (st *state) snapshot() dataplane.Snapshot {
	snap := dataplane.Snapshot{
		Groups: make(map[string]nsxclient.NSGroup, len(st.groups.byID)),
		IPSets: make(map[string]nsxclient.IPSet, len(st.ipsets.byID)),
		Ports:  make(map[string]nsxclient.LogicalPort, len(st.ports.byID)),
	}
	for _, id := range st.sectionOrder[nsxclient.SectionLayer3] {
		sec := st.sections[id]
		snap.Sections = append(snap.Sections, dataplane.SectionWithRules{Section: st.sectionView(sec), Rules: st.ruleViews(id)})
	}
	if rules := st.rules[st.defaultSection[nsxclient.SectionLayer3]]; len(rules) > 0 {
		snap.DefaultAction = rules[len(rules)-1].Action
	}
	for id, g := range st.groups.byID {
		snap.Groups[id] = *g
	}
	for id, set := range st.ipsets.byID {
		snap.IPSets[id] = *set
	}
	for id, p := range st.ports.byID {
		snap.Ports[id] = *p
	}
	snap.Policy = st.policySnapshot()
	return snap
}

// handleEffectiveIPs is GET /ns-groups/{id}/effective-ip-address-members: the group's addresses
// (ports' bound addresses and IP sets' entries) as the dataplane computes them, paged.
func (s *Server) handleEffectiveIPs(c *call) reply {
	g, err := s.st.group(c.param("ns-group-id"))
	if err != nil {
		return fail(err)
	}
	page, err := s.parsePage(c.query, 0)
	if err != nil {
		return fail(err)
	}
	return ok(paginate(s.compiledDataplane().EffectiveIPs(g.ID).Strings(), page))
}

// handleEffectivePorts is GET /ns-groups/{id}/effective-logical-port-members, paged.
func (s *Server) handleEffectivePorts(c *call) reply {
	g, err := s.st.group(c.param("ns-group-id"))
	if err != nil {
		return fail(err)
	}
	page, err := s.parsePage(c.query, 0)
	if err != nil {
		return fail(err)
	}
	ids := s.compiledDataplane().EffectivePorts(g.ID)
	refs := make([]nsxclient.ResourceReference, len(ids))
	for i, id := range ids {
		refs[i] = nsxclient.ResourceReference{TargetID: id, TargetType: nsxclient.TargetLogicalPort}
	}
	return ok(paginate(s.st.viewRefs(refs), page))
}

// flowFromRequest and responseFromResult convert between the /sim/v1/traceflow JSON and the
// dataplane's types.
func flowFromRequest(f TraceflowRequest) dataplane.Flow {
	return dataplane.Flow{
		SrcPortID: f.SrcPortID, SrcIP: f.SrcIP,
		DstPortID: f.DstPortID, DstIP: f.DstIP,
		Protocol: f.Protocol, DstPort: f.DstPort, SrcPort: f.SrcPort,
	}
}

func responseFromResult(res dataplane.Result) TraceflowResponse {
	return TraceflowResponse{Allowed: res.Allowed, Action: res.Action, Source: sideVerdict(res.Source), Destination: sideVerdict(res.Destination)}
}

func sideVerdict(v dataplane.SideVerdict) SideVerdict {
	return SideVerdict{
		Evaluated: v.Evaluated, PortID: v.PortID, IP: v.IP, Action: v.Action,
		SectionID: v.SectionID, SectionName: v.SectionName, RuleID: v.RuleID, RuleName: v.RuleName,
		Default: v.Default, API: v.API, Category: v.Category, JumpedBy: v.JumpedBy,
	}
}
