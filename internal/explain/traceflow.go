package explain

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/microseg/microseg/internal/ncptags"
	"github.com/microseg/microseg/internal/ports"
	"github.com/microseg/microseg/nsxclient"
)

// Trace is NSX's own Traceflow between the two pods' ports, and whether it agrees with the
// policies' verdict.
type Trace struct {
	// API is the NSX API the round ran in: manager or policy.
	API         string    `json:"api"`
	Source      TraceSide `json:"source"`
	Destination TraceSide `json:"destination"`
	Delivered   bool      `json:"delivered"`
	// Agrees: delivered exactly when the policies allow, and by the NSX rules they name (where
	// the ids are known).
	Agrees bool `json:"agrees"`
	// Skipped says why no round ran (then nothing else is set).
	Skipped string `json:"skipped,omitempty"`
	Message string `json:"message,omitempty"`
}

// TraceSide is what the DFW did at one port in the round.
type TraceSide struct {
	Port string `json:"port"`
	// Observed is forwarded, dropped, or "" when the packet never got there.
	Observed string `json:"observed"`
	// RuleID is the DFW rule NSX reports (acl_rule_id); Expected the one the policies name.
	RuleID   string `json:"ruleID"`
	Expected string `json:"expected,omitempty"`
}

// tracer runs the rounds of one explain: it finds the pods' ports once.
type tracer struct {
	x        *explainer
	nsx      *nsxclient.Client
	api      string
	timeout  time.Duration
	src, dst string // port ids (Manager) or segment port paths (Policy)
	srcLport string // the Manager logical port the Policy segment port is realized as
	located  bool
	missing  []string
}

func newTracer(x *explainer, nsx *nsxclient.Client, opts Options) *tracer {
	return &tracer{x: x, nsx: nsx, api: opts.API, timeout: opts.TraceflowTimeout}
}

// trace runs one round for a port and compares it with the policies' verdict.
func (t *tracer) trace(ctx context.Context, port ports.Port, conn Connection) *Trace {
	if !t.located {
		t.located = true
		if err := t.locate(ctx); err != nil {
			t.missing = append(t.missing, "the pods' ports in NSX: "+err.Error()+"; no Traceflow")
		}
	}
	if t.src == "" || t.dst == "" {
		return &Trace{API: t.api, Skipped: "the pods' ports were not found in NSX"}
	}
	if port.Protocol == "SCTP" {
		return &Trace{API: t.api, Skipped: "NSX's Traceflow has no SCTP header, so it cannot aim at an SCTP port"}
	}
	v, _ := t.x.eval.Connection(t.x.si, t.x.di, port.Protocol, port.Number, 0)
	packet := packetFor(v.SrcAddr, v.DstAddr, port)
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	var res *nsxclient.TraceflowResult
	var err error
	if t.api == APIPolicy {
		id := "microseg-explain-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		res, err = t.nsx.Policy().RunTraceflow(ctx, id, nsxclient.TraceflowConfig{SegmentPortPath: t.src, Packet: packet}, 500*time.Millisecond)
	} else {
		res, err = t.nsx.RunTraceflow(ctx, nsxclient.TraceflowRequest{LportID: t.src, Packet: packet}, 500*time.Millisecond)
	}
	if err != nil {
		return &Trace{API: t.api, Skipped: "the Traceflow round failed: " + err.Error()}
	}
	return t.compare(res, conn)
}

// compare reads the observations: the DFW at the source port, then at the destination port, then
// the delivery.
func (t *tracer) compare(res *nsxclient.TraceflowResult, conn Connection) *Trace {
	tr := &Trace{API: t.api, Source: TraceSide{Port: t.src}, Destination: TraceSide{Port: t.dst}}
	srcLport := t.src
	if t.api == APIPolicy {
		srcLport = t.srcLport
	}
	for _, o := range res.Observations {
		switch o.ResourceType {
		case nsxclient.ObservationForwardedLogical, nsxclient.ObservationDroppedLogical:
			if o.ComponentType != nsxclient.ComponentDFW {
				continue
			}
			side := &tr.Destination
			if o.LportID == srcLport {
				side = &tr.Source
			}
			side.Observed, side.RuleID = "forwarded", fmtRule(o.ACLRuleID)
			if o.ResourceType == nsxclient.ObservationDroppedLogical {
				side.Observed = "dropped"
			}
		case nsxclient.ObservationDelivered:
			tr.Delivered = true
		}
	}
	tr.Agrees = tr.Delivered == conn.Allowed
	if t.api == APIManager {
		for _, pair := range []struct {
			side *TraceSide
			want Side
		}{{&tr.Source, conn.Egress}, {&tr.Destination, conn.Ingress}} {
			pair.side.Expected = t.x.ruleNumber(pair.want)
			if pair.side.Expected != "" && pair.side.Observed != "" && pair.side.Expected != pair.side.RuleID {
				tr.Agrees = false
			}
		}
	}
	switch {
	case tr.Agrees:
		tr.Message = "NSX's dataplane agrees with the policies"
	case tr.Delivered != conn.Allowed:
		tr.Message = fmt.Sprintf("NSX's dataplane disagrees: the packet was %s, the policies say %s", deliveredWord(tr.Delivered), allowedWord(conn.Allowed))
	default:
		tr.Message = "NSX's dataplane reaches the same verdict through other rules than the policies name: NSX holds something microseg did not write (see the rule ids)"
	}
	return tr
}

// locate finds the two pods' ports by NCP's identity tags: Policy segment ports (NCP in Policy
// mode), or Manager logical ports.
func (t *tracer) locate(ctx context.Context) error {
	cluster := t.x.clusterID()
	want := map[ncptags.Identity]*string{
		{Cluster: cluster, Namespace: t.x.src.Namespace, Pod: t.x.src.Name}: &t.src,
		{Cluster: cluster, Namespace: t.x.dst.Namespace, Pod: t.x.dst.Name}: &t.dst,
	}
	if t.api == APIAuto || t.api == APIPolicy {
		found, err := t.policyPorts(ctx, want)
		if err != nil && t.api == APIPolicy {
			return err
		}
		if found {
			t.api = APIPolicy
			return nil
		}
		if t.api == APIPolicy {
			return fmt.Errorf("no Policy segment port carries the pods' identity tags (ncp/cluster %s)", cluster)
		}
	}
	t.api = APIManager
	lps, err := t.nsx.ListLogicalPorts(ctx, nsxclient.ListLogicalPortsOptions{ContainerPortsOnly: true})
	if err != nil {
		return err
	}
	for _, lp := range lps {
		if into, ok := want[ncptags.IdentityOf(tags(lp.Tags))]; ok {
			*into = lp.ID
		}
	}
	if t.src == "" || t.dst == "" {
		return fmt.Errorf("no logical port carries the identity tags of %s or %s (ncp/cluster %s)", ref(t.x.src), ref(t.x.dst), cluster)
	}
	return nil
}

func (t *tracer) policyPorts(ctx context.Context, want map[ncptags.Identity]*string) (bool, error) {
	p := t.nsx.Policy()
	segments, err := p.ListSegments(ctx, nsxclient.PolicyListOptions{})
	if err != nil {
		return false, err
	}
	for _, s := range segments {
		sps, err := p.ListSegmentPorts(ctx, s.ID, nsxclient.PolicyListOptions{})
		if err != nil {
			return false, err
		}
		for _, sp := range sps {
			if into, ok := want[ncptags.IdentityOf(tags(sp.Tags))]; ok {
				*into = sp.Path
				if into == &t.src {
					t.srcLport = sp.UniqueID
				}
			}
		}
	}
	return t.src != "" && t.dst != "", nil
}

func tags(in []nsxclient.Tag) []ncptags.Tag {
	out := make([]ncptags.Tag, len(in))
	for i, t := range in {
		out[i] = ncptags.Tag{Scope: t.Scope, Tag: t.Tag}
	}
	return out
}

// packetFor is the first packet of the connection, as NSX's FieldsPacketData.
func packetFor(src, dst netip.Addr, port ports.Port) nsxclient.TraceflowPacket {
	proto := map[string]int64{"TCP": 6, "UDP": 17}[port.Protocol]
	p := nsxclient.TraceflowPacket{ResourceType: "FieldsPacketData", TransportType: "UNICAST"}
	if src.Is4() {
		p.IPHeader = &nsxclient.TraceflowIPv4Header{SrcIP: src.String(), DstIP: dst.String(), Protocol: proto, TTL: 64}
	} else {
		p.IPv6Header = &nsxclient.TraceflowIPv6Header{SrcIP: src.String(), DstIP: dst.String(), NextHeader: proto, HopLimit: 64}
	}
	h := &nsxclient.TraceflowTransportHeader{}
	if proto == 6 {
		h.TCPHeader = &nsxclient.TraceflowTCPHeader{SrcPort: 49152, DstPort: int64(port.Number), TCPFlags: 2}
	} else {
		h.UDPHeader = &nsxclient.TraceflowUDPHeader{SrcPort: 49152, DstPort: int64(port.Number)}
	}
	p.TransportHeader = h
	return p
}

func deliveredWord(d bool) string {
	if d {
		return "delivered"
	}
	return "not delivered"
}

func allowedWord(a bool) string {
	if a {
		return "allowed"
	}
	return "denied"
}
