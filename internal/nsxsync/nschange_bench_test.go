package nsxsync_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/compile/compiletest"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/nsxsync/manager"
	"github.com/microseg/microseg/internal/simnsx"
)

// BenchmarkNamespaceChange measures what one tenant's change costs NSX: the benchmark world
// (compiletest.BenchWorld(1)) is synced into the simulator, then one namespace's NetworkPolicies
// change and the sync that follows is measured with the simulator's default cost model (NSX
// calls, writes, simulated NSX seconds in all and for the writes alone; whether the plan needed a
// guard). Each iteration starts from a fresh
// simulator, so run it once:
//
//	go test -run '^$' -bench NamespaceChange -benchtime 1x ./internal/nsxsync/
func BenchmarkNamespaceChange(b *testing.B) {
	base := compiletest.BenchWorld(1)
	const ns = "team01-app001"
	for _, tc := range []struct {
		name   string
		change func(w *compiletest.World)
	}{
		{"np-edited", func(w *compiletest.World) { // a port of one allow rule
			np := findNP(w, ns, "backend")
			np.Spec.Ingress[0].Ports[1] = compiletest.NPPort("", 9200)
		}},
		{"np-added", func(w *compiletest.World) { // allows and isolates pods no policy isolated for egress
			np := compiletest.NP(ns, "db-egress", compiletest.Sel("app=db"))
			np.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{
				To:    []networkingv1.NetworkPolicyPeer{{PodSelector: compiletest.Sel("app=backend")}},
				Ports: []networkingv1.NetworkPolicyPort{compiletest.NPPort("TCP", 8080)}}}
			w.NetworkPolicies = append(w.NetworkPolicies, np)
		}},
		{"np-deleted", func(w *compiletest.World) {
			w.NetworkPolicies = slices.DeleteFunc(w.NetworkPolicies, func(np networkingv1.NetworkPolicy) bool {
				return np.Namespace == ns && np.Name == "worker-egress"
			})
		}},
		{"ns-added", func(w *compiletest.World) { // a namespace like the others, between two of them
			extra := compiletest.BenchWorld(1)
			for i := range extra.NetworkPolicies {
				if np := &extra.NetworkPolicies[i]; np.Namespace == ns {
					np.Namespace = ns + "b"
					w.NetworkPolicies = append(w.NetworkPolicies, *np)
				}
			}
			for _, p := range extra.Pods {
				if p.Namespace == ns {
					p.Namespace = ns + "b"
					for i := range p.Status.PodIPs {
						p.Status.PodIPs[i].IP = "10.250." + p.Status.PodIPs[i].IP[len("10.16."):]
					}
					p.Status.PodIP = p.Status.PodIPs[0].IP
					w.Pods = append(w.Pods, p)
				}
			}
			w.Namespaces = append(w.Namespaces, compiletest.Namespace(ns+"b", "team=t01,env=dev"))
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			changed := compiletest.BenchWorld(1)
			tc.change(&changed)
			before, after := compileWorld(b, base), compileWorld(b, changed)
			var stats nsxsim.Stats
			var res nsxsync.Result
			for b.Loop() {
				b.StopTimer()
				nsx, backend := simulatedNSX(b)
				syncModel(b, backend, before)
				nsx.Sim.ResetStats()
				b.StartTimer()
				res = syncModel(b, backend, after)
				stats = nsx.Sim.Stats()
			}
			b.ReportMetric(float64(stats.Calls), "nsx-calls/op")
			b.ReportMetric(float64(stats.Writes), "nsx-writes/op")
			b.ReportMetric(stats.SimulatedTime.Seconds(), "nsx-sim-s/op")
			b.ReportMetric(writeSeconds(stats), "nsx-write-sim-s/op")
			guarded := 0.0
			if res.Summary.Guarded {
				guarded = 1
			}
			b.ReportMetric(guarded, "guarded/op")
			b.ReportMetric(float64(len(after.Sections)), "sections")
		})
	}
}

// writeSeconds is the simulated time of the writes alone (the reads a sync makes are another
// issue's business: a realized-state cache makes them few).
func writeSeconds(st nsxsim.Stats) float64 {
	var d time.Duration
	for name, e := range st.Endpoints {
		method, _, _ := strings.Cut(name, " ")
		if method != "GET" && !strings.Contains(name, "list_with_rules") && !strings.Contains(name, "/session/") {
			d += e.SimulatedTime
		}
	}
	return d.Seconds()
}

func findNP(w *compiletest.World, ns, name string) *networkingv1.NetworkPolicy {
	for i := range w.NetworkPolicies {
		if np := &w.NetworkPolicies[i]; np.Namespace == ns && np.Name == name {
			return np
		}
	}
	panic(fmt.Sprintf("no NetworkPolicy %s/%s in the world", ns, name))
}

func compileWorld(b *testing.B, w compiletest.World) *ir.Model {
	b.Helper()
	m, err := compile.Compile(compile.Input{ClusterID: "bench", Namespaces: w.Namespaces, Pods: w.Pods,
		NetworkPolicies: w.NetworkPolicies, ClusterSecurityPolicies: w.ClusterSecurityPolicies})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func simulatedNSX(b *testing.B) (*simnsx.NSX, nsxsync.Backend) {
	b.Helper()
	nsx, err := simnsx.Start(simnsx.Options{Sim: nsxsim.Options{Seed: 1}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nsx.Close)
	backend, err := manager.Over(nsx.Client, manager.Config{ClusterID: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	return nsx, backend
}

func syncModel(b *testing.B, backend nsxsync.Backend, m *ir.Model) nsxsync.Result {
	b.Helper()
	res, err := nsxsync.Sync(context.Background(), backend, m, nsxsync.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if !res.Converged {
		b.Fatal("the sync did not converge")
	}
	return res
}
