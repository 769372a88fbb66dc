package nsxsim

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"

	"github.com/microseg/microseg/internal/nsxsim/dataplane"
	"github.com/microseg/microseg/nsxclient"
)

// NSX's asynchronous Traceflow API, over the simulator's dataplane: a round injects a packet at a
// logical port (Manager API: POST /api/v1/traceflows) or at a segment port (Policy API: PUT
// /policy/api/v1/infra/traceflows/{id}), and reports observations: the DFW's verdict at the
// source port and at the destination port, with the deciding rule's number (acl_rule_id), then
// the delivery. The packet is traced when the round is created, against the configuration of that
// moment. A round answers IN_PROGRESS when created and is FINISHED from the first read of its state
// on, so that clients must poll as they must with a real manager; its observations are empty
// until then. Rounds are not NSX objects: they are kept until deleted or the simulator is reset,
// and writes to them do not change the dataplane. Choices where NSX is not documented (doc.go):
// a Manager round from an unknown port is created FAILED with request_status
// SOURCE_PORT_NOT_FOUND; a Policy round from a path that is not a segment port is refused with
// 400; only FieldsPacketData packets are decoded (BinaryPacketData is refused with 400).

// traceRound is one round.
type traceRound struct {
	id            string
	lportID       string // the port the packet was injected at (Manager id)
	timeout       int64
	requestStatus string
	state         string
	analysis      []string
	observations  []nsxclient.TraceflowObservation
	// config is the stored configuration of a Policy round.
	config *nsxclient.TraceflowConfig
}

// traceStore holds the rounds of both APIs; guarded by Server.mu.
type traceStore struct {
	manager map[string]*traceRound
	policy  map[string]*traceRound
}

func (t *traceStore) init() {
	if t.manager == nil {
		t.manager, t.policy = map[string]*traceRound{}, map[string]*traceRound{}
	}
}

// Defaults and bounds of a round's timeout: milliseconds in the Manager API (vendor spec), seconds
// in the Policy API (its examples use 10).
const (
	managerTimeoutDefault, managerTimeoutMin, managerTimeoutMax = 10000, 5000, 15000
	policyTimeoutDefault, policyTimeoutMin, policyTimeoutMax    = 10, 5, 15
	moduleTraceflow                                             = "Traceflow"
)

func (s *Server) traceflowRoutes() []*route {
	const (
		rounds = apiPrefix + "/traceflows"
		round  = rounds + "/{traceflow-id}"
		config = policyPrefix + "/infra/traceflows/{traceflow-id}"
	)
	return []*route{
		{method: "POST", pattern: rounds, write: true, handle: s.handleCreateTraceflow},
		{method: "GET", pattern: round, handle: s.handleGetTraceflow},
		{method: "DELETE", pattern: round, write: true, handle: s.handleDeleteTraceflow},
		{method: "GET", pattern: round + "/observations", handle: s.handleTraceflowObservations},
		{method: "PUT", pattern: config, write: true, handle: s.handlePutTraceflowConfig},
		{method: "GET", pattern: config, handle: s.handleGetTraceflowConfig},
		{method: "DELETE", pattern: config, write: true, handle: s.handleDeleteTraceflowConfig},
		{method: "GET", pattern: config + "/status", handle: s.handleTraceflowStatus},
		{method: "GET", pattern: config + "/observations", handle: s.handlePolicyTraceflowObservations},
	}
}

// handleCreateTraceflow is POST /api/v1/traceflows: 201 with the round, IN_PROGRESS.
func (s *Server) handleCreateTraceflow(c *call) reply {
	var in nsxclient.TraceflowRequest
	if err := decodeBody(c, &in); err != nil {
		return fail(err)
	}
	var f fieldErrors
	f.required("lport_id", in.LportID == "")
	timeout := orDefaultInt(in.Timeout, managerTimeoutDefault)
	if timeout < managerTimeoutMin || timeout > managerTimeoutMax {
		f.add("timeout has invalid value %d; it must be between %d and %d milliseconds", timeout, managerTimeoutMin, managerTimeoutMax)
	}
	if err := f.err(); err != nil {
		return fail(err)
	}
	flow, err := packetFlow(in.Packet)
	if err != nil {
		return fail(err)
	}
	s.traces.init()
	r := &traceRound{id: s.st.newUUID(), lportID: in.LportID, timeout: timeout}
	s.trace(r, flow)
	s.traces.manager[r.id] = r
	return created(r.view(r.id, r.lportID))
}

func (s *Server) managerRound(c *call) (*traceRound, *apiError) {
	s.traces.init()
	r, found := s.traces.manager[c.param("traceflow-id")]
	if !found {
		return nil, errNotFound(c.param("traceflow-id"))
	}
	return r, nil
}

// handleGetTraceflow is GET /api/v1/traceflows/{id}: the round's state (finished by this read).
func (s *Server) handleGetTraceflow(c *call) reply {
	r, err := s.managerRound(c)
	if err != nil {
		return fail(err)
	}
	r.finish()
	return ok(r.view(r.id, r.lportID))
}

// handleTraceflowObservations is GET /api/v1/traceflows/{id}/observations.
func (s *Server) handleTraceflowObservations(c *call) reply {
	r, err := s.managerRound(c)
	if err != nil {
		return fail(err)
	}
	return s.observationPage(c, r)
}

// handleDeleteTraceflow is DELETE /api/v1/traceflows/{id}.
func (s *Server) handleDeleteTraceflow(c *call) reply {
	r, err := s.managerRound(c)
	if err != nil {
		return fail(err)
	}
	delete(s.traces.manager, r.id)
	return ok(nil)
}

func (s *Server) observationPage(c *call, r *traceRound) reply {
	p, err := s.parsePage(c.query, 0)
	if err != nil {
		return fail(err)
	}
	var list []nsxclient.TraceflowObservation
	if r.state != nsxclient.TraceflowInProgress {
		list = r.observations
	}
	return ok(paginate(list, p))
}

// trace runs the round's packet through the dataplane and records what was observed.
func (s *Server) trace(r *traceRound, flow dataplane.Flow) {
	r.state, r.requestStatus = nsxclient.TraceflowInProgress, "SUCCESS"
	if _, found := s.st.ports.get(r.lportID); !found {
		r.requestStatus = "SOURCE_PORT_NOT_FOUND"
		r.analysis = []string{fmt.Sprintf("Logical port %s does not exist.", r.lportID)}
		return
	}
	flow.SrcPortID = r.lportID
	res, err := s.compiledDataplane().Trace(flow)
	if err != nil {
		r.requestStatus = "UNKNOWN"
		r.analysis = []string{err.Error()}
		return
	}
	r.observations = s.observe(res)
}

// finish ends a round at its first read: FINISHED, or FAILED when it could not run.
func (r *traceRound) finish() {
	if r.state != nsxclient.TraceflowInProgress {
		return
	}
	r.state = nsxclient.TraceflowFinished
	if r.requestStatus != "SUCCESS" {
		r.state = nsxclient.TraceflowFailed
	}
}

// view is the round as NSX reports it.
func (r *traceRound) view(id, lport string) nsxclient.Traceflow {
	n := nsxclient.TraceflowCounters{}
	if r.state != nsxclient.TraceflowInProgress {
		for _, o := range r.observations {
			switch o.ResourceType {
			case nsxclient.ObservationForwardedLogical:
				n.ForwardedCount++
			case nsxclient.ObservationDroppedLogical:
				n.DroppedCount++
			case nsxclient.ObservationDelivered:
				n.DeliveredCount++
			case nsxclient.ObservationReceivedLogical:
				n.ReceivedCount++
			}
		}
	}
	logical := n
	return nsxclient.Traceflow{ID: id, OperationState: r.state, RequestStatus: r.requestStatus, LportID: lport, Timeout: r.timeout,
		Counters: &n, LogicalCounters: &logical, Analysis: r.analysis}
}

// observe turns a dataplane trace into observations: the DFW at the source port, then (if the
// packet goes on) the DFW at the destination port, then the delivery to the destination port.
func (s *Server) observe(res dataplane.Result) []nsxclient.TraceflowObservation {
	var out []nsxclient.TraceflowObservation
	add := func(o nsxclient.TraceflowObservation) {
		o.TransportNodeName, o.TransportNodeType = "nsxsim-esx-1", "ESX"
		o.SequenceNo, o.Timestamp = int64(len(out)), s.now().UnixMilli()
		out = append(out, o)
	}
	for _, side := range []dataplane.SideVerdict{res.Source, res.Destination} {
		if !side.Evaluated {
			continue
		}
		o := nsxclient.TraceflowObservation{ComponentType: nsxclient.ComponentDFW, ComponentName: "Distributed Firewall",
			ComponentID: side.SectionID, LportID: side.PortID, LportName: s.portName(side.PortID), ACLRuleID: s.ruleNumber(side)}
		if side.Allows() {
			o.ResourceType = nsxclient.ObservationForwardedLogical
			add(o)
			continue
		}
		o.ResourceType, o.Reason = nsxclient.ObservationDroppedLogical, nsxclient.DropReasonFirewallRule
		add(o)
		return out
	}
	if res.Destination.Evaluated {
		add(nsxclient.TraceflowObservation{ResourceType: nsxclient.ObservationDelivered, ComponentType: "LS",
			ComponentName: "logical switch", LportID: res.Destination.PortID, LportName: s.portName(res.Destination.PortID)})
	}
	return out
}

func (s *Server) portName(id string) string {
	if p, found := s.st.ports.get(id); found {
		return p.DisplayName
	}
	return ""
}

// ruleNumber is the number NSX reports as acl_rule_id: a Manager rule's id, a Policy rule's
// rule_id.
func (s *Server) ruleNumber(side dataplane.SideVerdict) int64 {
	if side.API == "policy" {
		if o := s.st.pol.live(side.RuleID); o != nil {
			if r, isRule := o.obj.(*nsxclient.PolicyRule); isRule {
				return r.RuleID
			}
		}
		return 0
	}
	n, _ := strconv.ParseInt(side.RuleID, 10, 64)
	return n
}

// packetFlow reads a FieldsPacketData into the flow to trace (the source port is the round's).
func packetFlow(p nsxclient.TraceflowPacket) (dataplane.Flow, *apiError) {
	var f fieldErrors
	f.required("packet.resource_type", p.ResourceType == "")
	f.enum("packet.resource_type", p.ResourceType, "FieldsPacketData", "BinaryPacketData")
	if p.ResourceType == "BinaryPacketData" {
		f.add("packet: the simulator decodes FieldsPacketData only; describe the packet by its headers")
	}
	var flow dataplane.Flow
	var proto int64
	switch {
	case p.IPHeader != nil:
		flow.SrcIP, flow.DstIP, proto = p.IPHeader.SrcIP, p.IPHeader.DstIP, orDefaultInt(p.IPHeader.Protocol, 1)
	case p.IPv6Header != nil:
		flow.SrcIP, flow.DstIP, proto = p.IPv6Header.SrcIP, p.IPv6Header.DstIP, orDefaultInt(p.IPv6Header.NextHeader, 58)
	default:
		f.add("packet: ip_header or ipv6_header is required")
	}
	for name, ip := range map[string]string{"src_ip": flow.SrcIP, "dst_ip": flow.DstIP} {
		if _, err := netip.ParseAddr(ip); ip != "" && err != nil {
			f.add("packet: %s %q is not an IP address", name, ip)
		}
	}
	f.required("packet.ip_header.dst_ip", flow.DstIP == "" && (p.IPHeader != nil || p.IPv6Header != nil))
	switch proto {
	case 1, 58:
		flow.Protocol = "ICMP"
	case 6:
		flow.Protocol = "TCP"
	case 17:
		flow.Protocol = "UDP"
	case 132:
		flow.Protocol = "SCTP"
	default:
		f.add("packet: IP protocol %d is not one the simulator traces (1, 6, 17, 58, 132)", proto)
	}
	if h := p.TransportHeader; h != nil {
		switch {
		case h.TCPHeader != nil && proto == 6:
			flow.SrcPort, flow.DstPort = int(h.TCPHeader.SrcPort), int(h.TCPHeader.DstPort)
		case h.UDPHeader != nil && proto == 17:
			flow.SrcPort, flow.DstPort = int(h.UDPHeader.SrcPort), int(h.UDPHeader.DstPort)
		case h.TCPHeader != nil || h.UDPHeader != nil:
			f.add("packet: the transport header does not match IP protocol %d", proto)
		}
	}
	if err := f.err(); err != nil {
		return flow, err
	}
	return flow, nil
}

func orDefaultInt(v, def int64) int64 {
	if v == 0 {
		return def
	}
	return v
}

// errTraceflowSource refuses a Policy round whose source is not a segment port.
func errTraceflowSource(path string) *apiError {
	return newAPIError(http.StatusBadRequest, nsxclient.ErrCodeFieldValidation, moduleTraceflow,
		"%s{segment_port_path %q is not the path of an existing segment port}", fieldValidationIntro, path)
}
