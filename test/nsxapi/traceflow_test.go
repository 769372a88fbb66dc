package nsxapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/microseg/microseg/internal/reference"

	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxsim/dataplane"
	"github.com/microseg/microseg/nsxclient"
)

// designTable is the reference table (internal/reference).
var designTable = reference.Table

// pairsOutsideTheTable are the service pairs the table leaves out, with what the hand-made
// configuration does to them: "everything else between these services must fail" (d→a), and
// within a service, replicas of service-a (not in the section's applied_tos) reach each other
// while b, c and d meet the reject-all.
var pairsOutsideTheTable = []struct {
	src, dst string
	allowed  bool
}{
	{"service-d", "service-a", false},
	{"service-a", "service-a", true},
	{"service-b", "service-b", false},
	{"service-c", "service-c", false},
	{"service-d", "service-d", false},
}

// protected are the services the section is applied to.
var protected = []string{"service-b", "service-c", "service-d"}

// traceVerdict is a Traceflow outcome in a form both the Go and the HTTP answers convert to.
type traceVerdict struct {
	allowed     bool
	action      string
	source, dst nsxsim.SideVerdict
}

// tracer runs one flow from one pod to another on TCP 8080.
type tracer func(t *testing.T, src, dst scenarioPod) traceVerdict

// TestTraceflowReferenceScenario builds the reference scenario by hand through the client and
// checks the design table for every replica pair, from Go and over HTTP.
func TestTraceflowReferenceScenario(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		sc := buildReferenceScenario(t, h)
		tracers := map[string]tracer{
			"Go (Server.Traceflow, by port id)":    goTracer(h),
			"HTTP (POST /sim/v1/traceflow, by IP)": httpTracer(h),
		}
		for how, trace := range tracers {
			t.Run(how, func(t *testing.T) {
				var table []string
				for _, row := range designTable {
					checkServicePair(t, sc, trace, row.From, row.To, row.Allowed)
					table = append(table, fmt.Sprintf("%s → %s: %s", row.From, row.To, outcome(row.Allowed)))
				}
				for _, row := range pairsOutsideTheTable {
					checkServicePair(t, sc, trace, row.src, row.dst, row.allowed)
				}
				t.Logf("reproduced on every replica pair, TCP %d:\n\t%s", scenarioPort, strings.Join(table, "\n\t"))
			})
		}
	})
}

func outcome(allowed bool) string {
	if allowed {
		return "allowed"
	}
	return "denied"
}

// checkServicePair traces every replica pair from srcSvc to dstSvc and checks the verdict and the
// rule that decided it.
func checkServicePair(t *testing.T, sc referenceScenario, trace tracer, srcSvc, dstSvc string, allowed bool) {
	t.Helper()
	rejectAll := sc.rules[rejectAllName]
	for _, src := range sc.pods {
		for _, dst := range sc.pods {
			if src.service != srcSvc || dst.service != dstSvc || src.portID == dst.portID {
				continue
			}
			flow := fmt.Sprintf("%s (%s) → %s (%s) TCP/%d", src.name, src.ip, dst.name, dst.ip, scenarioPort)
			v := trace(t, src, dst)
			if v.source.PortID != src.portID || v.dst.PortID != dst.portID || !v.source.Evaluated || !v.dst.Evaluated {
				t.Errorf("%s: evaluated at ports %q → %q", flow, v.source.PortID, v.dst.PortID)
				continue
			}
			if v.allowed != allowed {
				t.Errorf("%s: %s, want %s; source %s, destination %s", flow, outcome(v.allowed), outcome(allowed), side(v.source), side(v.dst))
				continue
			}
			srcProtected := slices.Contains(protected, srcSvc)
			if !allowed {
				// The source's egress decides when the section covers the source, else the
				// destination's ingress; either way it is the reject-all.
				decider, where := v.dst, "destination"
				if srcProtected {
					decider, where = v.source, "source"
				}
				if v.action != nsxclient.ActionReject || decider.RuleID != rejectAll.ID || decider.SectionID != sc.sectionID ||
					decider.Action != nsxclient.ActionReject {
					t.Errorf("%s: denied by %s at the %s (flow action %s), want %s (%s)", flow, side(decider), where, v.action, rejectAllName, rejectAll.ID)
				}
				continue
			}
			allow, byRule := sc.rules[allowRuleName(srcSvc, dstSvc)]
			if !byRule {
				// Only service-a to itself: no rule covers either side.
				if !v.source.Default || !v.dst.Default {
					t.Errorf("%s: want NSX's default section at both sides, got source %s, destination %s", flow, side(v.source), side(v.dst))
				}
				continue
			}
			if v.dst.RuleID != allow.ID || v.dst.Action != nsxclient.ActionAllow || v.dst.Default {
				t.Errorf("%s: destination decided by %s, want %s (%s)", flow, side(v.dst), allow.DisplayName, allow.ID)
			}
			switch {
			case srcProtected && v.source.RuleID != allow.ID:
				t.Errorf("%s: source decided by %s, want %s (%s)", flow, side(v.source), allow.DisplayName, allow.ID)
			case !srcProtected && !v.source.Default:
				t.Errorf("%s: the section is not applied to %s, so NSX's default section must decide at the source, not %s",
					flow, srcSvc, side(v.source))
			}
		}
	}
}

func side(v nsxsim.SideVerdict) string {
	if v.Default {
		return fmt.Sprintf("default %s (%s)", v.Action, v.SectionName)
	}
	return fmt.Sprintf("rule %s %q %s in %q", v.RuleID, v.RuleName, v.Action, v.SectionName)
}

// goTracer calls the simulator in-process, naming the endpoints by logical port id.
func goTracer(h *harness) tracer {
	return func(t *testing.T, src, dst scenarioPod) traceVerdict {
		t.Helper()
		res, err := h.sim.Traceflow(t.Context(), dataplane.Flow{
			SrcPortID: src.portID, DstPortID: dst.portID, Protocol: "TCP", DstPort: scenarioPort, SrcPort: 40000,
		})
		mustOK(t, err)
		return traceVerdict{allowed: res.Allowed, action: res.Action, source: fromDataplane(res.Source), dst: fromDataplane(res.Destination)}
	}
}

func fromDataplane(v dataplane.SideVerdict) nsxsim.SideVerdict {
	return nsxsim.SideVerdict{Evaluated: v.Evaluated, PortID: v.PortID, IP: v.IP, Action: v.Action, SectionID: v.SectionID,
		SectionName: v.SectionName, RuleID: v.RuleID, RuleName: v.RuleName, Default: v.Default}
}

// httpTracer posts to the simulator's private Traceflow endpoint, naming the endpoints by IP so
// that the simulator must find their ports through the address bindings.
func httpTracer(h *harness) tracer {
	return func(t *testing.T, src, dst scenarioPod) traceVerdict {
		t.Helper()
		var out nsxsim.TraceflowResponse
		status := postSim(t.Context(), t, h, "/sim/v1/traceflow", nsxsim.TraceflowRequest{
			SrcIP: src.ip, DstIP: dst.ip, Protocol: "TCP", DstPort: scenarioPort, SrcPort: 40000,
		}, &out)
		if status != http.StatusOK {
			t.Fatalf("POST /sim/v1/traceflow: status %d", status)
		}
		return traceVerdict{allowed: out.Allowed, action: out.Action, source: out.Source, dst: out.Destination}
	}
}

// postSim sends a JSON body to the simulator's private API and decodes the answer into out (if
// not nil); it returns the HTTP status.
func postSim(ctx context.Context, t *testing.T, h *harness, path string, body, out any) int {
	t.Helper()
	return simRequest(ctx, t, h, http.MethodPost, path, body, out)
}

func simRequest(ctx context.Context, t *testing.T, h *harness, method, path string, body, out any) int {
	t.Helper()
	var buf bytes.Buffer
	if body != nil {
		mustOK(t, json.NewEncoder(&buf).Encode(body))
	}
	req, err := http.NewRequestWithContext(ctx, method, h.srv.URL+path, &buf)
	mustOK(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.simHTTPClient().Do(req)
	mustOK(t, err)
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		mustOK(t, json.NewDecoder(resp.Body).Decode(out))
	}
	return resp.StatusCode
}

// TestTraceflowFollowsChanges: the traced verdict follows writes made through the client (the
// simulator must not serve a stale compiled dataplane).
func TestTraceflowFollowsChanges(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	sc := buildReferenceScenario(t, h)
	a, b := sc.pods[0], sc.pods[2]
	if v := goTracer(h)(t, a, b); !v.allowed {
		t.Fatalf("a→b must start allowed: %s", side(v.dst))
	}
	// Drop the a→b allow rule: the flow now meets the reject-all at b.
	mustOK(t, h.c.DeleteRule(ctx, sc.sectionID, sc.rules[allowRuleName("service-a", "service-b")].ID))
	if v := goTracer(h)(t, a, b); v.allowed || v.dst.RuleID != sc.rules[rejectAllName].ID {
		t.Errorf("after deleting a-to-b: %s", side(v.dst))
	}
	// Relabel a pod of service-b as service-c: it leaves nsg-service-b.
	port := try(h.c.GetLogicalPort(ctx, b.portID)).must(t)
	for i, tag := range port.Tags {
		if tag.Scope == "app" {
			port.Tags[i].Tag = "service-x"
		}
	}
	try(h.c.UpdateLogicalPort(ctx, *port)).must(t)
	if refs := try(h.c.ListNSGroupEffectiveLogicalPortMembers(ctx, sc.groups["service-b"])).must(t); len(refs) != 1 {
		t.Errorf("nsg-service-b holds %d ports after relabelling one of its two pods", len(refs))
	}
	if v := goTracer(h)(t, a, b); !v.allowed || !v.dst.Default {
		t.Errorf("a pod outside every protected group falls to the default section: %s", side(v.dst))
	}
	var bad struct{}
	if status := postSim(ctx, t, h, "/sim/v1/traceflow", nsxsim.TraceflowRequest{SrcPortID: "no-such-port", DstIP: b.ip, Protocol: "TCP"}, &bad); status != http.StatusBadRequest {
		t.Errorf("a flow from an unknown port: status %d, want 400", status)
	}
}
