package dataplane

import (
	"fmt"
	"testing"

	"github.com/microseg/microseg/internal/reference"
	"github.com/microseg/microseg/nsxclient"
)

// The reference scenario (internal/reference), configured by hand the way the design describes:
// NCP-style pod ports, one NSGroup per service (ncp/project=<namespace> AND app=<service>), one
// section applied to the b/c/d groups with allow rules a→b, a→c, b→c, c→d and a final
// reject-all, then NSX's default section (ALLOW).

type scenarioService struct{ name, namespace, subnet string }

var scenarioServices = []scenarioService{
	{"service-a", "x1", "10.1.0."},
	{"service-b", "y1", "10.1.1."},
	{"service-c", "z1", "10.1.2."},
	{"service-d", "z1", "10.1.3."},
}

// scenarioPod is a pod's logical port id and IP.
type scenarioPod struct{ service, portID, ip string }

func scenarioPods() []scenarioPod {
	var pods []scenarioPod
	for _, svc := range scenarioServices {
		for replica := range 2 {
			pod := fmt.Sprintf("%s-7c9d8f-%d", svc.name, replica)
			pods = append(pods, scenarioPod{svc.name, "lp-" + pod, fmt.Sprintf("%s%d", svc.subnet, 10+replica)})
		}
	}
	return pods
}

func scenarioSnapshot() Snapshot {
	snap := Snapshot{Ports: map[string]nsxclient.LogicalPort{}, Groups: map[string]nsxclient.NSGroup{}}
	for _, svc := range scenarioServices {
		for replica := range 2 {
			pod := fmt.Sprintf("%s-7c9d8f-%d", svc.name, replica)
			// NCP's tags: cluster, namespace, pod name, then one tag per pod label.
			p := lport("lp-"+pod, "ls-"+svc.namespace, []string{fmt.Sprintf("%s%d", svc.subnet, 10+replica)},
				"ncp/cluster=demo", "ncp/project="+svc.namespace, "ncp/pod="+pod,
				"app="+svc.name, "pod-template-hash=7c9d8f")
			snap.Ports[p.ID] = p
		}
		g := nsgroup("nsg-"+svc.name, nil, allOf(portTag("ncp/project", svc.namespace), portTag("app", svc.name)))
		snap.Groups[g.ID] = g
	}
	allowHTTP := func(id, srcSvc, dstSvc string) nsxclient.FirewallRule {
		r := rule(id, nsxclient.ActionAllow, from(grp("nsg-"+srcSvc)), to(grp("nsg-"+dstSvc)), services(tcp("8080")))
		r.DisplayName = srcSvc + "-to-" + dstSvc
		return r
	}
	rejectAll := rule("1005", nsxclient.ActionReject)
	rejectAll.DisplayName = "reject-all"
	protected := section("ref-bcd", []nsxclient.ResourceReference{grp("nsg-service-b"), grp("nsg-service-c"), grp("nsg-service-d")},
		allowHTTP("1001", "service-a", "service-b"),
		allowHTTP("1002", "service-a", "service-c"),
		allowHTTP("1003", "service-b", "service-c"),
		allowHTTP("1004", "service-c", "service-d"),
		rejectAll,
	)
	snap.Sections = []SectionWithRules{protected, defaultSection(nsxclient.ActionAllow)}
	return snap
}

func TestReferenceScenario(t *testing.T) {
	// Pairs the design table leaves out, with what this hand-made configuration does: service-a is
	// not in the protected section, so its replicas reach each other; every other remaining pair
	// hits reject-all.
	otherPairs := []struct {
		src, dst string
		allowed  bool
	}{
		{"service-a", "service-a", true},
		{"service-b", "service-b", false},
		{"service-c", "service-c", false},
		{"service-d", "service-d", false},
		{"service-d", "service-a", false},
	}
	dp := Compile(scenarioSnapshot())
	pods := scenarioPods()
	check := func(srcSvc, dstSvc string, allowed bool) {
		for _, src := range pods {
			for _, dst := range pods {
				if src.service != srcSvc || dst.service != dstSvc || src.portID == dst.portID {
					continue
				}
				// By port ids, and by IPs only (resolved through the address bindings).
				for _, f := range []Flow{
					{SrcPortID: src.portID, DstPortID: dst.portID, Protocol: "TCP", DstPort: 8080},
					{SrcIP: src.ip, DstIP: dst.ip, Protocol: "TCP", DstPort: 8080, SrcPort: 51000},
				} {
					res, err := dp.Trace(f)
					if err != nil {
						t.Fatalf("%s → %s: %v", src.portID, dst.portID, err)
					}
					if res.Allowed != allowed {
						t.Errorf("%s (%s) → %s (%s) TCP/8080: allowed = %v, want %v; source %s, destination %s",
							src.portID, src.ip, dst.portID, dst.ip, res.Allowed, allowed, verdict(res.Source), verdict(res.Destination))
					}
					if !allowed && res.Action != nsxclient.ActionReject {
						t.Errorf("%s → %s: action = %s, want REJECT (the only deny rule is reject-all)", src.portID, dst.portID, res.Action)
					}
					if res.Source.PortID != src.portID || res.Destination.PortID != dst.portID {
						t.Errorf("flow %+v resolved to ports %s → %s", f, res.Source.PortID, res.Destination.PortID)
					}
				}
			}
		}
	}
	for _, row := range reference.Table {
		check(row.From, row.To, row.Allowed)
	}
	for _, row := range otherPairs {
		check(row.src, row.dst, row.allowed)
	}
}

func TestReferenceScenarioDetails(t *testing.T) {
	dp := Compile(scenarioSnapshot())
	tests := []struct {
		name     string
		flow     Flow
		src, dst string
	}{
		// service-a is not protected: its egress falls to the default section.
		{"a→b allowed by a-to-b at b", Flow{SrcPortID: "lp-service-a-7c9d8f-0", DstPortID: "lp-service-b-7c9d8f-1", Protocol: "TCP", DstPort: 8080}, "1:ALLOW", "1001:ALLOW"},
		{"a→d rejected at d's ingress", Flow{SrcPortID: "lp-service-a-7c9d8f-1", DstPortID: "lp-service-d-7c9d8f-0", Protocol: "TCP", DstPort: 8080}, "1:ALLOW", "1005:REJECT"},
		{"c→b rejected at c's egress", Flow{SrcPortID: "lp-service-c-7c9d8f-0", DstPortID: "lp-service-b-7c9d8f-0", Protocol: "TCP", DstPort: 8080}, "1005:REJECT", "1005:REJECT"},
		{"b→c allowed on both sides", Flow{SrcPortID: "lp-service-b-7c9d8f-0", DstPortID: "lp-service-c-7c9d8f-1", Protocol: "TCP", DstPort: 8080}, "1003:ALLOW", "1003:ALLOW"},
		{"a→b on another port is rejected", Flow{SrcPortID: "lp-service-a-7c9d8f-0", DstPortID: "lp-service-b-7c9d8f-0", Protocol: "TCP", DstPort: 9090}, "1:ALLOW", "1005:REJECT"},
		{"outside load balancer reaches service-a", Flow{SrcIP: "192.0.2.50", DstIP: "10.1.0.10", Protocol: "TCP", DstPort: 8080}, "-", "1:ALLOW"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := dp.Trace(tt.flow)
			if err != nil {
				t.Fatal(err)
			}
			if got := verdict(res.Source); got != tt.src {
				t.Errorf("source = %s, want %s", got, tt.src)
			}
			if got := verdict(res.Destination); got != tt.dst {
				t.Errorf("destination = %s, want %s", got, tt.dst)
			}
		})
	}
	if got, want := dp.EffectivePorts("nsg-service-c"), []string{"lp-service-c-7c9d8f-0", "lp-service-c-7c9d8f-1"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("nsg-service-c ports = %q, want %q (service-d shares namespace z1 and must not match)", got, want)
	}
}
