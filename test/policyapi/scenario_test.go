package policyapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxsim/dataplane"
	"github.com/microseg/microseg/internal/reference"
	"github.com/microseg/microseg/nsxclient"
)

// The reference scenario (internal/reference) built by hand as Policy objects, the way the three
// tiers would map onto Policy categories:
//
//   - Security tier, Environment category: service-d accepts service-c and rejects everyone else.
//   - Developer NetworkPolicies, Application category: in y1, service-b accepts service-a; in z1,
//     service-c accepts service-a and service-b; then the isolation of the selected pods (allow
//     policies before isolation policies, as nsx-operator lays NetworkPolicies out).
//   - Baseline tier, Application category below every NetworkPolicy: pods in x1, y1 and z1
//     accept nothing from other pods of the cluster.
//
// Pods are segment ports of one node segment tagged with the cluster (as nsx-operator's groups
// expect), carrying the pod labels and the namespace as tags.

const (
	scenarioCluster = "demo"
	scenarioSegment = "node-1"
)

var scenarioSubnets = map[string]string{"service-a": "10.2.0.", "service-b": "10.2.1.", "service-c": "10.2.2.", "service-d": "10.2.3."}

type scenarioPod struct{ service, path, ip string }

// serviceGroup selects a service's pods: cluster on the segment, app and namespace on the port.
func serviceGroup(svc string) nsxclient.PolicyGroup {
	return group(svc, nsxclient.AllOf(
		nsxclient.TagEquals(nsxclient.MemberSegment, "ncp/cluster", scenarioCluster),
		portTag("app", svc),
		portTag("ncp/project", reference.Namespace[svc])))
}

func buildPolicyScenario(t *testing.T, h *harness) []scenarioPod {
	t.Helper()
	ctx := t.Context()
	p := h.p
	must(t, p.PatchSegment(ctx, nsxclient.Segment{PolicyResource: nsxclient.PolicyResource{ID: scenarioSegment,
		Tags: []nsxclient.Tag{tag("ncp/cluster", scenarioCluster)}}}))
	var pods []scenarioPod
	var children []nsxclient.ChildNode
	for _, svc := range []string{"service-a", "service-b", "service-c", "service-d"} {
		for replica := range 2 {
			id := fmt.Sprintf("%s-%d", svc, replica)
			ip := scenarioSubnets[svc] + strconv.Itoa(10+replica)
			children = append(children, nsxclient.ChildSegmentPort(segmentPort(id, ip, tag("app", svc),
				tag("ncp/project", reference.Namespace[svc]), tag("ncp/pod", id))))
			pods = append(pods, scenarioPod{service: svc, path: nsxclient.SegmentPortPath(scenarioSegment, id), ip: ip})
		}
	}
	must(t, p.PatchInfra(ctx, nsxclient.NewInfra(nsxclient.SegmentRef(scenarioSegment, children...)), nsxclient.PatchInfraOptions{}))

	port := tcp(strconv.Itoa(reference.ServedPort))
	cluster := group("cluster-pods", nsxclient.TagEquals(nsxclient.MemberSegment, "ncp/cluster", scenarioCluster))
	tenants := group("tenant-namespaces", nsxclient.Join(nsxclient.ConjunctionOr,
		portTag("ncp/project", "x1"), portTag("ncp/project", "y1"), portTag("ncp/project", "z1"))...)
	security := policy("sec-service-d", nsxclient.CategoryEnvironment, 100,
		rule("allow-service-c", nsxclient.ActionAllow, 1, in(), from(gpath("service-c")), to(gpath("service-d")), port),
		rule("reject-others", nsxclient.ActionReject, 2, in(), to(gpath("service-d"))))
	security.Scope = []string{gpath("service-d")}
	npB := policy("np-y1-allow", nsxclient.CategoryApplication, 200000,
		rule("b-from-a", nsxclient.ActionAllow, 1, in(), from(gpath("service-a")), to(gpath("service-b")), port, appliedTo(gpath("service-b"))))
	npC := policy("np-z1-allow", nsxclient.CategoryApplication, 200001,
		rule("c-from-a-b", nsxclient.ActionAllow, 1, in(), from(gpath("service-a"), gpath("service-b")), to(gpath("service-c")), port,
			appliedTo(gpath("service-c"))))
	isolation := policy("np-isolation", nsxclient.CategoryApplication, 300000,
		rule("isolate-b", nsxclient.ActionDrop, 1, in(), to(gpath("service-b")), appliedTo(gpath("service-b"))),
		rule("isolate-c", nsxclient.ActionDrop, 2, in(), to(gpath("service-c")), appliedTo(gpath("service-c"))))
	baseline := policy("baseline", nsxclient.CategoryApplication, 400000,
		rule("no-cluster-ingress", nsxclient.ActionDrop, 1, in(), from(gpath("cluster-pods")), to(gpath("tenant-namespaces"))))
	baseline.Scope = []string{gpath("tenant-namespaces")}

	groups := []nsxclient.ChildNode{nsxclient.ChildGroup(cluster), nsxclient.ChildGroup(tenants)}
	for _, svc := range []string{"service-a", "service-b", "service-c", "service-d"} {
		groups = append(groups, nsxclient.ChildGroup(serviceGroup(svc)))
	}
	// One hierarchical call: policies first, groups after; NSX resolves the order.
	nodes := []nsxclient.ChildNode{nsxclient.ChildPolicy(security), nsxclient.ChildPolicy(npB), nsxclient.ChildPolicy(npC),
		nsxclient.ChildPolicy(isolation), nsxclient.ChildPolicy(baseline)}
	must(t, p.PatchInfra(ctx, nsxclient.NewInfra(nsxclient.DomainRef(dom, append(nodes, groups...)...)), nsxclient.PatchInfraOptions{}))

	for _, svc := range []string{"service-a", "service-b", "service-c", "service-d"} {
		members := get[[]nsxclient.SegmentPort](t)(p.GroupSegmentPortMembers(ctx, dom, svc))
		if len(members) != 2 || members[0].ID != svc+"-0" {
			t.Fatalf("group %s holds %v, want its two pods (service-c and -d share z1)", svc, members)
		}
	}
	return pods
}

// trace sends one TCP flow from a pod of src to a pod of dst over the simulator's Traceflow API.
func trace(t *testing.T, h *harness, pods []scenarioPod, src, dst string, port int) nsxsim.TraceflowResponse {
	t.Helper()
	var from, to scenarioPod
	for _, p := range pods {
		if p.service == src && from.path == "" {
			from = p
		}
		if p.service == dst && p.path != from.path {
			to = p
		}
	}
	body, _ := json.Marshal(nsxsim.TraceflowRequest{SrcPortID: from.path, DstIP: to.ip, Protocol: "TCP", DstPort: port})
	resp, err := h.srv.Client().Post(h.srv.URL+"/sim/v1/traceflow", "application/json", bytes.NewReader(body))
	must(t, err)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("traceflow %s→%s: HTTP %d", src, dst, resp.StatusCode)
	}
	var out nsxsim.TraceflowResponse
	must(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

// TestReferenceScenarioOnPolicyObjects reproduces the reference table with Traceflow over
// Policy objects, checks that every other pair of services is denied, and names the deciding
// rule by path.
func TestReferenceScenarioOnPolicyObjects(t *testing.T) {
	h := newHarness(t)
	pods := buildPolicyScenario(t, h)
	want := map[[2]string]bool{}
	for _, row := range reference.Table {
		want[[2]string{row.From, row.To}] = row.Allowed
	}
	services := []string{"service-a", "service-b", "service-c", "service-d"}
	for _, src := range services {
		for _, dst := range services {
			got := trace(t, h, pods, src, dst, reference.ServedPort)
			if got.Allowed != want[[2]string{src, dst}] {
				t.Errorf("%s → %s: allowed=%v (%s by %s), want %v", src, dst, got.Allowed, got.Action, got.Destination.RuleID, want[[2]string{src, dst}])
			}
		}
	}
	// Who decides, by path: the Security tier for service-d, the NetworkPolicy for service-b,
	// the Baseline for x1.
	for _, tc := range []struct {
		src, dst, policy, rule, action, category string
	}{
		{"service-a", "service-d", "sec-service-d", "reject-others", "REJECT", "Environment"},
		{"service-c", "service-d", "sec-service-d", "allow-service-c", "ALLOW", "Environment"},
		{"service-a", "service-b", "np-y1-allow", "b-from-a", "ALLOW", "Application"},
		{"service-d", "service-b", "np-isolation", "isolate-b", "DROP", "Application"},
		{"service-b", "service-a", "baseline", "no-cluster-ingress", "DROP", "Application"},
	} {
		d := trace(t, h, pods, tc.src, tc.dst, reference.ServedPort).Destination
		if d.RuleID != nsxclient.RulePath(dom, tc.policy, tc.rule) || d.SectionID != nsxclient.SecurityPolicyPath(dom, tc.policy) ||
			d.Action != tc.action || d.API != "policy" || d.Category != tc.category {
			t.Errorf("%s → %s decided by %+v, want %s/%s (%s)", tc.src, tc.dst, d, tc.policy, tc.rule, tc.action)
		}
	}
	// The Go API agrees with the HTTP API.
	res, err := h.sim.Traceflow(t.Context(), dataplane.Flow{SrcIP: "10.2.0.10", DstIP: "10.2.3.10", Protocol: "TCP", DstPort: reference.ServedPort})
	must(t, err)
	if res.Allowed || res.Destination.RuleID != nsxclient.RulePath(dom, "sec-service-d", "reject-others") {
		t.Errorf("Go Traceflow a→d: %+v", res)
	}
}

// TestPassHandsTheFlowToTheApplicationCategory: a JUMP_TO_APPLICATION rule in microseg's
// Environment policy skips the rest of the Environment category (here another admin's drop of
// everything to service-b) and lets the NetworkPolicy layer decide.
func TestPassHandsTheFlowToTheApplicationCategory(t *testing.T) {
	h := newHarness(t)
	pods := buildPolicyScenario(t, h)
	ctx := t.Context()
	must(t, h.p.PatchSecurityPolicy(ctx, dom, policy("zone-lockdown", nsxclient.CategoryEnvironment, 500,
		rule("drop-to-b", nsxclient.ActionDrop, 1, in(), to(gpath("service-b"))))))
	if got := trace(t, h, pods, "service-a", "service-b", reference.ServedPort); got.Allowed ||
		got.Destination.RuleID != nsxclient.RulePath(dom, "zone-lockdown", "drop-to-b") {
		t.Fatalf("without a pass: %+v", got.Destination)
	}
	must(t, h.p.PatchSecurityPolicy(ctx, dom, policy("sec-pass", nsxclient.CategoryEnvironment, 50,
		rule("pass-a-to-b", nsxclient.ActionJumpToApplication, 1, in(), from(gpath("service-a")), to(gpath("service-b"))))))
	got := trace(t, h, pods, "service-a", "service-b", reference.ServedPort)
	if !got.Allowed || got.Destination.RuleID != nsxclient.RulePath(dom, "np-y1-allow", "b-from-a") ||
		got.Destination.JumpedBy != nsxclient.RulePath(dom, "sec-pass", "pass-a-to-b") {
		t.Errorf("with the pass: %+v", got.Destination)
	}
	// The pass names a→b only; d→b still meets the other admin's drop.
	if got := trace(t, h, pods, "service-d", "service-b", reference.ServedPort); got.Destination.RuleID != nsxclient.RulePath(dom, "zone-lockdown", "drop-to-b") {
		t.Errorf("d→b: %+v", got.Destination)
	}
}

// TestPolicyRulesPrecedeManagerSections: Manager sections, even at the top of the Manager DFW,
// are evaluated after every Policy policy.
func TestPolicyRulesPrecedeManagerSections(t *testing.T) {
	h := newHarness(t)
	pods := buildPolicyScenario(t, h)
	ctx := t.Context()
	mp := nsxclient.FirewallSectionRuleList{
		FirewallSection: nsxclient.FirewallSection{ManagedResource: nsxclient.ManagedResource{DisplayName: "legacy-top"},
			SectionType: nsxclient.SectionLayer3, Stateful: true},
		Rules: []nsxclient.FirewallRule{
			{DisplayName: "allow-to-d", Action: nsxclient.ActionAllow, Direction: nsxclient.DirectionIn,
				Destinations: []nsxclient.ResourceReference{{TargetType: nsxclient.TargetIPv4Address, TargetID: "10.2.3.0/24"}}},
			{DisplayName: "drop-to-b", Action: nsxclient.ActionDrop, Direction: nsxclient.DirectionIn,
				Destinations: []nsxclient.ResourceReference{{TargetType: nsxclient.TargetIPv4Address, TargetID: "10.2.1.0/24"}}},
			{DisplayName: "allow-to-a", Action: nsxclient.ActionAllow, Direction: nsxclient.DirectionIn,
				Destinations: []nsxclient.ResourceReference{{TargetType: nsxclient.TargetIPv4Address, TargetID: "10.2.0.0/24"}}},
		},
	}
	_, err := h.c.CreateSectionWithRules(ctx, mp, nsxclient.Top())
	must(t, err)
	for _, row := range reference.Table {
		if got := trace(t, h, pods, row.From, row.To, reference.ServedPort); got.Allowed != row.Allowed || got.Destination.API != "policy" {
			t.Errorf("%s → %s with a Manager section on top: allowed=%v decided by %s", row.From, row.To, got.Allowed, got.Destination.RuleName)
		}
	}
	// Where no Policy rule matches (another port), the Manager section decides.
	if got := trace(t, h, pods, "service-c", "service-b", 9999); got.Destination.RuleName != "isolate-b" {
		t.Errorf("c→b:9999 = %+v (the isolation drop covers every port)", got.Destination)
	}
	if got := trace(t, h, pods, "service-a", "service-a", 9999); got.Destination.RuleName != "no-cluster-ingress" {
		t.Errorf("a→a:9999 = %+v", got.Destination)
	}
	// An outside client reaches service-a: no Policy rule matches (the baseline only drops
	// cluster pods), the Manager section's allow decides.
	res, err := h.sim.Traceflow(ctx, dataplane.Flow{SrcIP: "192.0.2.1", DstIP: "10.2.0.10", Protocol: "TCP", DstPort: 8080})
	must(t, err)
	if !res.Allowed || res.Destination.RuleName != "allow-to-a" || res.Destination.API != "" {
		t.Errorf("outside → a: %+v", res.Destination)
	}
}
