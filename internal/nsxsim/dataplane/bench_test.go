package dataplane

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

// benchShape sizes a synthetic DFW: namespaces × apps × pods logical ports, one NSGroup per app
// and per namespace, and sections of allow rules between random apps, a quarter of them applied
// to every port and the rest to one namespace, each tenth ending in a drop-all.
type benchShape struct {
	namespaces, appsPerNS, podsPerApp int
	sections, rulesPerSection         int
}

func (b benchShape) String() string {
	return fmt.Sprintf("ports=%d,sections=%d,rules=%d", b.namespaces*b.appsPerNS*b.podsPerApp, b.sections, b.sections*b.rulesPerSection)
}

func benchSnapshot(shape benchShape) (Snapshot, []Flow) {
	rng := rand.New(rand.NewPCG(1, 2)) // fixed seed: the same snapshot every run
	snap := Snapshot{Ports: map[string]nsxclient.LogicalPort{}, Groups: map[string]nsxclient.NSGroup{}}
	var portIDs, appGroups []string
	for ns := range shape.namespaces {
		nsName := fmt.Sprintf("ns%d", ns)
		g := nsgroup("nsg-"+nsName, nil, portTag("ncp/project", nsName))
		snap.Groups[g.ID] = g
		for app := range shape.appsPerNS {
			appName := fmt.Sprintf("app%d", app)
			g := nsgroup("nsg-"+nsName+"-"+appName, nil, allOf(portTag("ncp/project", nsName), portTag("app", appName)))
			snap.Groups[g.ID] = g
			appGroups = append(appGroups, g.ID)
			for pod := range shape.podsPerApp {
				id := fmt.Sprintf("lp-%s-%s-%d", nsName, appName, pod)
				ip := fmt.Sprintf("10.%d.%d.%d", ns, app, pod+1)
				snap.Ports[id] = lport(id, "ls-"+nsName, []string{ip}, "ncp/cluster=bench", "ncp/project="+nsName, "ncp/pod="+id, "app="+appName)
				portIDs = append(portIDs, id)
			}
		}
	}
	ports := []string{"80", "443", "8080", "5432", "9000-9100"}
	for s := range shape.sections {
		var appliedTo []nsxclient.ResourceReference
		if s%4 != 0 {
			appliedTo = []nsxclient.ResourceReference{grp(fmt.Sprintf("nsg-ns%d", s%shape.namespaces))}
		}
		var rules []nsxclient.FirewallRule
		for r := range shape.rulesPerSection {
			id := fmt.Sprint(s*shape.rulesPerSection + r + 1000)
			if s%10 == 9 && r == shape.rulesPerSection-1 {
				rules = append(rules, rule(id, nsxclient.ActionDrop, direction("IN")))
				continue
			}
			rules = append(rules, rule(id, nsxclient.ActionAllow,
				from(grp(appGroups[rng.IntN(len(appGroups))]), ref(nsxclient.TargetIPv4Address, fmt.Sprintf("172.16.%d.0/24", rng.IntN(256)))),
				to(grp(appGroups[rng.IntN(len(appGroups))])),
				services(tcp(ports[rng.IntN(len(ports))], ports[rng.IntN(len(ports))])),
				direction([]string{"IN", "OUT", "IN_OUT"}[rng.IntN(3)])))
		}
		snap.Sections = append(snap.Sections, section(fmt.Sprint(s), appliedTo, rules...))
	}
	snap.Sections = append(snap.Sections, defaultSection(nsxclient.ActionAllow))
	flows := make([]Flow, 4096)
	for i := range flows {
		flows[i] = Flow{SrcPortID: portIDs[rng.IntN(len(portIDs))], DstPortID: portIDs[rng.IntN(len(portIDs))],
			Protocol: "TCP", DstPort: []int{80, 443, 8080, 5432, 9050}[rng.IntN(5)]}
	}
	return snap, flows
}

var benchShapes = []benchShape{
	{namespaces: 10, appsPerNS: 10, podsPerApp: 5, sections: 100, rulesPerSection: 5},
	{namespaces: 20, appsPerNS: 10, podsPerApp: 10, sections: 300, rulesPerSection: 10},
	{namespaces: 50, appsPerNS: 20, podsPerApp: 5, sections: 500, rulesPerSection: 20},
}

// BenchmarkTrace measures one Trace call (both sides) over a compiled snapshot, cycling through
// 4096 random pod-to-pod flows.
func BenchmarkTrace(b *testing.B) {
	for _, shape := range benchShapes {
		b.Run(shape.String(), func(b *testing.B) {
			snap, flows := benchSnapshot(shape)
			dp := Compile(snap)
			allowed, i := 0, 0
			for b.Loop() {
				res, err := dp.Trace(flows[i%len(flows)])
				if err != nil {
					b.Fatal(err)
				}
				if res.Allowed {
					allowed++
				}
				i++
			}
			b.ReportMetric(float64(allowed)/float64(i), "allowed/flow")
		})
	}
}

// BenchmarkCompile measures compiling a snapshot (membership, address sets, rule matchers).
func BenchmarkCompile(b *testing.B) {
	for _, shape := range benchShapes {
		b.Run(shape.String(), func(b *testing.B) {
			snap, _ := benchSnapshot(shape)
			for b.Loop() {
				Compile(snap)
			}
		})
	}
}
