package nsxapi_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/microseg/microseg/nsxclient"
)

// tcpPacket is the packet microseg's explain injects: IPv4, TCP to port.
func tcpPacket(src, dst string, port int64) nsxclient.TraceflowPacket {
	return nsxclient.TraceflowPacket{ResourceType: "FieldsPacketData", TransportType: "UNICAST",
		IPHeader:        &nsxclient.TraceflowIPv4Header{SrcIP: src, DstIP: dst, Protocol: 6, TTL: 64},
		TransportHeader: &nsxclient.TraceflowTransportHeader{TCPHeader: &nsxclient.TraceflowTCPHeader{SrcPort: 40000, DstPort: port, TCPFlags: 2}}}
}

// apiTracer runs NSX's asynchronous Traceflow API through the client (POST a round, poll it,
// read its observations, delete it) and reads the DFW's verdicts from the observations.
func apiTracer(h *harness) tracer {
	return func(t *testing.T, src, dst scenarioPod) traceVerdict {
		t.Helper()
		res := try(h.c.RunTraceflow(t.Context(), nsxclient.TraceflowRequest{LportID: src.portID,
			Packet: tcpPacket(src.ip, dst.ip, scenarioPort)}, time.Millisecond)).must(t)
		return verdictFromObservations(t, res, src, dst)
	}
}

// verdictFromObservations: a DFW observation at the source port, then (unless it dropped) at the
// destination port, then a delivery. Rule ids come back as acl_rule_id numbers.
func verdictFromObservations(t *testing.T, res *nsxclient.TraceflowResult, src, dst scenarioPod) traceVerdict {
	t.Helper()
	v := traceVerdict{allowed: true, action: nsxclient.ActionAllow}
	delivered := false
	for _, o := range res.Observations {
		switch o.ResourceType {
		case nsxclient.ObservationForwardedLogical, nsxclient.ObservationDroppedLogical:
			if o.ComponentType != nsxclient.ComponentDFW || o.ACLRuleID == 0 {
				t.Fatalf("observation %+v: want the DFW with a rule number", o)
			}
			side := &v.source
			if o.LportID == dst.portID {
				side = &v.dst
			}
			side.Evaluated, side.PortID, side.SectionID, side.RuleID = true, o.LportID, o.ComponentID, strconv.FormatInt(o.ACLRuleID, 10)
			side.Action = nsxclient.ActionAllow
			if o.ResourceType == nsxclient.ObservationDroppedLogical {
				if o.Reason != nsxclient.DropReasonFirewallRule {
					t.Errorf("drop reason %q", o.Reason)
				}
				side.Action, v.allowed = nsxclient.ActionReject, false
				v.action = side.Action
			}
		case nsxclient.ObservationDelivered:
			delivered = o.LportID == dst.portID
		}
	}
	if delivered != v.allowed || res.Traceflow.OperationState != nsxclient.TraceflowFinished {
		t.Errorf("%s → %s: delivered %v, allowed %v, state %s", src.name, dst.name, delivered, v.allowed, res.Traceflow.OperationState)
	}
	return v
}

// TestTraceflowAPIReferenceScenario: NSX's own Traceflow API, run through the client against the
// simulator, agrees with the simulator's dataplane rule for rule on every replica pair of the
// reference scenario (every exchange checked against the vendor spec).
func TestTraceflowAPIReferenceScenario(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		sc := buildReferenceScenario(t, h)
		api, dp := apiTracer(h), goTracer(h)
		for _, src := range sc.pods {
			for _, dst := range sc.pods {
				if src.portID == dst.portID {
					continue
				}
				got, want := api(t, src, dst), dp(t, src, dst)
				if got.allowed != want.allowed {
					t.Errorf("%s → %s: the Traceflow API says allowed=%v, the dataplane %v", src.name, dst.name, got.allowed, want.allowed)
				}
				for _, pair := range [][2]string{{got.source.RuleID, want.source.RuleID}, {got.dst.RuleID, want.dst.RuleID}} {
					if pair[0] != "" && pair[0] != pair[1] {
						t.Errorf("%s → %s: acl_rule_id %s, the dataplane's rule %s", src.name, dst.name, pair[0], pair[1])
					}
				}
			}
		}
		if left := try(h.c.ListTraceflowObservations(t.Context(), "no-such-round")).err; !nsxclient.IsNotFound(left) {
			t.Errorf("observations of a deleted or unknown round: %v, want not found", left)
		}
	})
}

// TestTraceflowAPIRoundLifecycle: a round answers IN_PROGRESS with no observations until its state
// is read; a round from an unknown port fails; bad requests and unknown rounds are errors.
func TestTraceflowAPIRoundLifecycle(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	sc := buildReferenceScenario(t, h)
	a, d := sc.pods[0], sc.pods[6]
	tf := try(h.c.CreateTraceflow(ctx, nsxclient.TraceflowRequest{LportID: a.portID, Packet: tcpPacket(a.ip, d.ip, scenarioPort), Timeout: 5000})).must(t)
	if tf.OperationState != nsxclient.TraceflowInProgress || tf.ID == "" || tf.LportID != a.portID {
		t.Errorf("created round %+v: want IN_PROGRESS from %s", tf, a.portID)
	}
	if obs := try(h.c.ListTraceflowObservations(ctx, tf.ID)).must(t); len(obs) != 0 {
		t.Errorf("%d observations before the round finished", len(obs))
	}
	done := try(h.c.GetTraceflow(ctx, tf.ID)).must(t)
	if done.OperationState != nsxclient.TraceflowFinished || done.RequestStatus != "SUCCESS" || done.Counters.DroppedCount != 1 {
		t.Errorf("round after a read: %+v (counters %+v)", done, done.Counters)
	}
	mustOK(t, h.c.DeleteTraceflow(ctx, tf.ID))
	if err := h.c.DeleteTraceflow(ctx, tf.ID); !nsxclient.IsNotFound(err) {
		t.Errorf("deleting twice: %v", err)
	}
	if _, err := h.c.GetTraceflow(ctx, tf.ID); !nsxclient.IsNotFound(err) {
		t.Errorf("reading a deleted round: %v", err)
	}

	_, err := h.c.RunTraceflow(ctx, nsxclient.TraceflowRequest{LportID: "no-such-port", Packet: tcpPacket(a.ip, d.ip, 80)}, time.Millisecond)
	if !errors.Is(err, nsxclient.ErrTraceflowFailed) || !strings.Contains(err.Error(), "SOURCE_PORT_NOT_FOUND") {
		t.Errorf("a round from an unknown port: %v", err)
	}

	_, err = h.c.CreateTraceflow(ctx, nsxclient.TraceflowRequest{Packet: tcpPacket(a.ip, d.ip, 80)})
	if e := apiError(t, err); e.StatusCode != http.StatusBadRequest || !strings.Contains(e.Message, "lport_id") {
		t.Errorf("a round without lport_id: %v", err)
	}
	h.expectSpecViolation("timeout: value 100 below minimum 5000")
	_, err = h.c.CreateTraceflow(ctx, nsxclient.TraceflowRequest{LportID: a.portID, Packet: tcpPacket(a.ip, d.ip, 80), Timeout: 100})
	if e := apiError(t, err); e.StatusCode != http.StatusBadRequest || !strings.Contains(e.Message, "timeout") {
		t.Errorf("a timeout below 5000 ms: %v", err)
	}
}
