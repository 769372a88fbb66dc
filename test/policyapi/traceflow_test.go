package policyapi_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/nsxsim/dataplane"
	"github.com/microseg/microseg/internal/reference"
	"github.com/microseg/microseg/nsxclient"
)

func tcpPacket(src, dst string, port int64) nsxclient.TraceflowPacket {
	return nsxclient.TraceflowPacket{ResourceType: "FieldsPacketData",
		IPHeader:        &nsxclient.TraceflowIPv4Header{SrcIP: src, DstIP: dst, Protocol: 6},
		TransportHeader: &nsxclient.TraceflowTransportHeader{TCPHeader: &nsxclient.TraceflowTCPHeader{DstPort: port}}}
}

// TestPolicyTraceflowAgreesWithTheDataplane runs the Policy API's Traceflow (PUT a config from a
// segment port, read its status until FINISHED, read its observations, delete it) between every
// pair of the scenario's pods: the verdict and the deciding rules' numbers (rule_id of the Policy
// rules) are those of the simulator's dataplane.
func TestPolicyTraceflowAgreesWithTheDataplane(t *testing.T) {
	h := newHarness(t)
	pods := buildPolicyScenario(t, h)
	ctx := t.Context()
	ruleIDs := map[string]int64{}
	for _, sp := range get[[]nsxclient.SecurityPolicy](t)(h.p.ListSecurityPolicies(ctx, dom, nsxclient.ListSecurityPoliciesOptions{})) {
		for _, r := range get[[]nsxclient.PolicyRule](t)(h.p.ListRules(ctx, dom, sp.ID, nsxclient.PolicyListOptions{})) {
			ruleIDs[r.Path] = r.RuleID
		}
	}
	for _, src := range pods {
		for _, dst := range pods {
			if src.path == dst.path {
				continue
			}
			res := get[*nsxclient.TraceflowResult](t)(h.p.RunTraceflow(ctx, "microseg-explain", nsxclient.TraceflowConfig{
				SegmentPortPath: src.path, Packet: tcpPacket(src.ip, dst.ip, reference.ServedPort)}, time.Millisecond))
			want, err := h.sim.Traceflow(ctx, dataplane.Flow{SrcPortID: src.path, DstIP: dst.ip, Protocol: "TCP", DstPort: reference.ServedPort})
			must(t, err)
			var got []int64
			delivered := false
			for _, o := range res.Observations {
				switch o.ResourceType {
				case nsxclient.ObservationForwardedLogical, nsxclient.ObservationDroppedLogical:
					got = append(got, o.ACLRuleID)
				case nsxclient.ObservationDelivered:
					delivered = true
				}
			}
			wantIDs := []int64{ruleIDs[want.Source.RuleID]}
			if want.Source.Allows() {
				wantIDs = append(wantIDs, ruleIDs[want.Destination.RuleID])
			}
			if delivered != want.Allowed || len(got) != len(wantIDs) || got[len(got)-1] != wantIDs[len(wantIDs)-1] ||
				res.Traceflow.ID != "/infra/traceflows/microseg-explain" || res.Traceflow.LportID != src.path {
				t.Errorf("%s → %s: delivered %v, rules %v, round %+v; the dataplane: allowed %v, rules %v", src.path, dst.path,
					delivered, got, res.Traceflow, want.Allowed, wantIDs)
			}
		}
	}
	if _, err := h.p.GetTraceflowStatus(ctx, "microseg-explain"); !nsxclient.IsNotFound(err) {
		t.Errorf("the round is deleted after it was read: %v", err)
	}
}

// TestPolicyTraceflowConfigLifecycle: the stored config, its revision on replace, and the errors.
func TestPolicyTraceflowConfigLifecycle(t *testing.T) {
	h := newHarness(t)
	pods := buildPolicyScenario(t, h)
	ctx := t.Context()
	a, d := pods[0], pods[6]
	cfg := nsxclient.TraceflowConfig{SegmentPortPath: a.path, Packet: tcpPacket(a.ip, d.ip, reference.ServedPort)}
	stored := get[*nsxclient.TraceflowConfig](t)(h.p.PutTraceflow(ctx, "t1", cfg))
	if stored.Path != "/infra/traceflows/t1" || stored.Revision == nil || *stored.Revision != 0 || stored.Timeout != 10 {
		t.Errorf("stored config %+v", stored)
	}
	if obs := get[[]nsxclient.TraceflowObservation](t)(h.p.ListTraceflowObservations(ctx, "t1")); len(obs) != 0 {
		t.Errorf("%d observations before the round finished", len(obs))
	}
	if st := get[*nsxclient.Traceflow](t)(h.p.GetTraceflowStatus(ctx, "t1")); st.OperationState != nsxclient.TraceflowFinished ||
		st.Counters == nil || st.Counters.DroppedCount != 1 {
		t.Errorf("status %+v", st)
	}
	if got := get[*nsxclient.TraceflowConfig](t)(h.p.GetTraceflowConfig(ctx, "t1")); got.SegmentPortPath != a.path {
		t.Errorf("config read back %+v", got)
	}
	if _, err := h.p.PutTraceflow(ctx, "t1", cfg); !errors.Is(err, nsxclient.ErrStaleRevision) {
		t.Errorf("replacing without the revision: %v", err)
	}
	cfg.Revision = stored.Revision
	if again := get[*nsxclient.TraceflowConfig](t)(h.p.PutTraceflow(ctx, "t1", cfg)); *again.Revision != 1 {
		t.Errorf("replaced config %+v", again)
	}
	must(t, h.p.DeleteTraceflow(ctx, "t1"))
	for what, err := range map[string]error{
		"delete":       h.p.DeleteTraceflow(ctx, "t1"),
		"status":       second(h.p.GetTraceflowStatus(ctx, "t1")),
		"config":       second(h.p.GetTraceflowConfig(ctx, "t1")),
		"observations": second(h.p.ListTraceflowObservations(ctx, "t1")),
	} {
		if !nsxclient.IsNotFound(err) {
			t.Errorf("%s of a deleted round: %v", what, err)
		}
	}
	_, err := h.p.PutTraceflow(ctx, "t2", nsxclient.TraceflowConfig{SegmentPortPath: "/infra/segments/node-1/ports/nope", Packet: cfg.Packet})
	var apiErr *nsxclient.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || !strings.Contains(apiErr.Message, "segment_port_path") {
		t.Errorf("a round from a path that is not a segment port: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }
