package policy_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/compile/compiletest"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/ncpemu"
	"github.com/microseg/microseg/internal/ncpemu/layout"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/nsxsync/policy"
	"github.com/microseg/microseg/internal/simnsx"
	"github.com/microseg/microseg/nsxclient"
)

const benchCluster = "bench"

// BenchmarkPolicySyncCost drives the Policy backend through the sync path the way the operator
// does, on the benchmark world (compiletest.BenchWorld(1): 1,000 namespaces, 10,000 pods as
// segment ports, 5,000 NetworkPolicies, 50 CSPs), and reports NSX calls, writes and simulated
// NSX seconds (the simulator's default cost model) per sync:
//
//	go test -bench PolicySyncCost -run '^$' ./internal/nsxsync/policy/
func BenchmarkPolicySyncCost(b *testing.B) {
	ctx := context.Background()
	w := compiletest.BenchWorld(1)
	nsx := simnsx.StartT(b, simnsx.Options{Sim: nsxsim.Options{Seed: 1}})
	addBenchPorts(b, nsx.Client, w)
	model := compileBench(b, w)
	be, err := policy.New(nsx.Client, policy.Config{ClusterID: benchCluster})
	if err != nil {
		b.Fatal(err)
	}
	run := func(name string, m *ir.Model, mode nsxsync.ReadMode, prepare func()) {
		b.Run("scale=1x/"+name, func(b *testing.B) {
			var s nsxsim.Stats
			var res nsxsync.Result
			for b.Loop() {
				b.StopTimer()
				if prepare != nil {
					prepare()
				}
				nsx.Sim.ResetStats()
				b.StartTimer()
				if res, err = nsxsync.Sync(ctx, be, m, nsxsync.Options{Read: mode}); err != nil {
					b.Fatal(err)
				}
				s = nsx.Sim.Stats()
			}
			if !res.Converged {
				b.Fatal("not converged")
			}
			b.ReportMetric(float64(s.Calls), "nsx-calls/op")
			b.ReportMetric(float64(s.Writes), "nsx-writes/op")
			b.ReportMetric(s.SimulatedTime.Seconds(), "nsx-sim-s/op")
		})
	}
	run("first-sync", model, nsxsync.ReadFull, func() {
		if _, err := nsxsync.Sync(ctx, be, &ir.Model{ClusterID: benchCluster}, nsxsync.Options{Read: nsxsync.ReadFull}); err != nil {
			b.Fatal(err)
		}
	})
	run("resync", model, nsxsync.ReadIncremental, nil)
	run("resync-full-read", model, nsxsync.ReadFull, nil)
	edited := compiletest.BenchWorld(1)
	np := &edited.NetworkPolicies[7]
	np.Spec.Ingress[0].Ports[0].Port = ptr(intstr.FromInt32(8443))
	editedModel := compileBench(b, edited)
	flip := false
	run("np-edited", editedModel, nsxsync.ReadIncremental, func() {
		// Back to the original between iterations, so that each measures one edit.
		if flip {
			if _, err := nsxsync.Sync(ctx, be, model, nsxsync.Options{}); err != nil {
				b.Fatal(err)
			}
		}
		flip = true
	})
	b.Logf("the model: %d rules in %d policies, %d groups", model.RuleCount(), len(model.Sections), len(model.Groups))
}

func ptr[T any](v T) *T { return &v }

func compileBench(b *testing.B, w compiletest.World) *ir.Model {
	b.Helper()
	m, err := compile.Compile(compile.Input{ClusterID: benchCluster, Namespaces: w.Namespaces, Pods: w.Pods,
		NetworkPolicies: w.NetworkPolicies, ClusterSecurityPolicies: w.ClusterSecurityPolicies})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// addBenchPorts gives every pod its segment port, as NCP in Policy mode does.
func addBenchPorts(b *testing.B, c *nsxclient.Client, w compiletest.World) {
	b.Helper()
	cfg := ncpemu.Config{ClusterName: benchCluster, API: ncpemu.APIPolicy}
	var nodes []nsxclient.ChildNode
	for i := range w.Pods {
		p := &w.Pods[i]
		p.UID = types.UID(fmt.Sprintf("%s-%s", p.Namespace, p.Name))
		var addrs []netip.Addr
		for _, ip := range p.Status.PodIPs {
			addrs = append(addrs, netip.MustParseAddr(ip.IP))
		}
		nodes = append(nodes, nsxclient.ChildSegmentPort(layout.SegmentPortForPod(cfg, p, addrs)))
	}
	for i := 0; i < len(nodes); i += 4000 {
		seg := layout.Segment(cfg)
		seg.Children = nodes[i:min(len(nodes), i+4000)]
		if err := c.Policy().PatchInfra(context.Background(), nsxclient.NewInfra(nsxclient.ChildSegment(seg)), nsxclient.PatchInfraOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
