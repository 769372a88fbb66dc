package dataplane

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

// policyBenchWorld is a Policy DFW shaped like a cluster in NCP's Policy mode: namespaces ×
// apps × pods segment ports on one segment per namespace, one group per app (namespace AND app
// tag in a nested expression) and per namespace, and Application policies of allow rules between
// random apps, scoped to a namespace, each ending in an isolation drop.
func policyBenchWorld(namespaces, apps, pods, policies, rulesPer int) (Snapshot, []Flow) {
	rng := rand.New(rand.NewPCG(3, 4))
	w := newPolicyWorld()
	var appGroups []string
	var flows []Flow
	for ns := range namespaces {
		nsName := fmt.Sprintf("ns%d", ns)
		w.segment(nsName, "ncp/cluster=bench")
		w.group("ns-"+nsName, nsxclient.TagEquals("SegmentPort", "ncp/project", nsName))
		for app := range apps {
			appName := fmt.Sprintf("app%d", app)
			appGroups = append(appGroups, w.group(nsName+"-"+appName, nsxclient.AllOf(
				nsxclient.TagEquals("Segment", "ncp/cluster", "bench"),
				nsxclient.TagEquals("SegmentPort", "ncp/project", nsName),
				nsxclient.TagEquals("SegmentPort", "app", appName))))
			for pod := range pods {
				w.port(nsName, fmt.Sprintf("%s-%s-%d", nsName, appName, pod), fmt.Sprintf("10.%d.%d.%d", ns, app, pod+1),
					"ncp/project="+nsName, "app="+appName)
			}
		}
	}
	for p := range policies {
		var rules []nsxclient.PolicyRule
		for r := range rulesPer {
			rules = append(rules, prule(fmt.Sprintf("r%d", r), "ALLOW", int64(r), pdir("IN"),
				src(appGroups[rng.IntN(len(appGroups))]), dst(appGroups[rng.IntN(len(appGroups))]), tcpPorts("8080")))
		}
		rules = append(rules, prule("isolate", "DROP", int64(rulesPer), pdir("IN"), dst(nsxclient.GroupPath("default", fmt.Sprintf("ns-ns%d", p%namespaces)))))
		w.policy(fmt.Sprintf("np-%d", p), "Application", int64(1000+p), []string{nsxclient.GroupPath("default", fmt.Sprintf("ns-ns%d", p%namespaces))}, rules...)
	}
	for range 100 {
		flows = append(flows, Flow{SrcIP: fmt.Sprintf("10.%d.%d.1", rng.IntN(namespaces), rng.IntN(apps)),
			DstIP: fmt.Sprintf("10.%d.%d.1", rng.IntN(namespaces), rng.IntN(apps)), Protocol: "TCP", DstPort: 8080})
	}
	return w.snap, flows
}

// BenchmarkPolicyCompile: compiling a 10,000-port Policy DFW (1,100 groups, 2,100 rules), the
// work the simulator redoes after each write before the next Traceflow.
func BenchmarkPolicyCompile(b *testing.B) {
	snap, _ := policyBenchWorld(100, 10, 10, 100, 20)
	b.ReportAllocs()
	for b.Loop() {
		Compile(snap)
	}
}

// BenchmarkPolicyTrace: tracing flows through it.
func BenchmarkPolicyTrace(b *testing.B) {
	snap, flows := policyBenchWorld(100, 10, 10, 100, 20)
	dp := Compile(snap)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := dp.Trace(flows[i%len(flows)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
