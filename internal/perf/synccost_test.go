package perf

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/nsxsync"
)

// BenchmarkSyncCost measures what each event costs NSX on the benchmark world
// (compiletest.BenchWorld: 1,000 namespaces, 10,000 pods, 5,000 NetworkPolicies, 50 CSPs at 1x,
// ten times that at 10x), driven through nsxsync.Syncer as the operator drives it:
//
//   - first-sync: an empty DFW brought to the world (a full read, then the writes);
//   - resync: the periodic resync with nothing changed (one resync period later);
//   - pod-added: a pod whose groups are all tag-based (the compiled model does not change);
//   - pod-added-ipsets: a pod whose address goes into IP sets;
//   - np-edited: one NetworkPolicy's port edited (alternately two values).
//
// Custom metrics per operation: nsx-calls/op (HTTP calls; a paged list costs one per page),
// nsx-reads/op, nsx-writes/op and nsx-sim-s/op (simulated NSX seconds, the simulator's default
// cost model); ns/op and B/op include compiling the world.
//
//	go test -run '^$' -bench 'SyncCost/scale=1x' -benchmem ./internal/perf/
//	go test -run '^$' -bench 'SyncCost/scale=10x' -benchtime 1x -benchmem -timeout 60m ./internal/perf/
func BenchmarkSyncCost(b *testing.B) {
	scales := []int{1, 10}
	if v := os.Getenv("MICROSEG_SYNCCOST_SCALES"); v != "" { // e.g. "3" for a run between the two
		scales = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(f)
			if err != nil {
				b.Fatalf("MICROSEG_SYNCCOST_SCALES: %v", err)
			}
			scales = append(scales, n)
		}
	}
	for _, scale := range scales {
		b.Run(fmt.Sprintf("scale=%dx", scale), func(b *testing.B) { benchmarkSyncCost(b, scale) })
	}
}

func benchmarkSyncCost(b *testing.B, scale int) {
	ctx := context.Background()
	world := BenchWorld(scale)
	model, err := compile.Compile(world)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("first-sync", func(b *testing.B) {
		b.ReportAllocs()
		var total Cost
		ops := 0
		for b.Loop() {
			ops++
			b.StopTimer()
			e := newEnv(b)
			b.StartTimer()
			run, cost, err := e.SyncModel(ctx, model, true)
			if err != nil {
				b.Fatal(err)
			}
			if run.Mode != nsxsync.ReadFull {
				b.Fatalf("the first sync read %s", run.Mode)
			}
			total = total.Add(cost)
			b.StopTimer()
			logEndpoints(b, e)
			e.Close()
			b.StartTimer()
		}
		report(b, ops, total)
	})

	// The other events run against one realized world, in this order.
	e := newEnv(b)
	defer e.Close()
	if _, _, err := e.SyncModel(ctx, model, true); err != nil {
		b.Fatal(err)
	}
	current := world
	// event runs one sub-benchmark: each operation changes the world (next returns it and
	// whether a Kubernetes change triggers the sync), syncs it as the operator does, and checks
	// the run.
	event := func(name string, next func() (compile.Input, bool), check func(nsxsync.Run) string) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var total Cost
			ops := 0
			for b.Loop() {
				ops++
				in, triggered := next()
				current = in
				run, cost, err := e.Sync(ctx, current, triggered)
				if err != nil {
					b.Fatal(err)
				}
				if problem := check(run); problem != "" {
					b.Fatal(problem)
				}
				total = total.Add(cost)
			}
			report(b, ops, total)
		})
	}
	event("resync", func() (compile.Input, bool) {
		e.Advance(ResyncPeriod)
		return current, false
	}, func(run nsxsync.Run) string {
		if run.Summary.Steps != 0 || run.Mode != nsxsync.ReadIncremental {
			return fmt.Sprintf("a resync with nothing changed planned %d steps (read %s)", run.Summary.Steps, run.Mode)
		}
		return ""
	})
	pods := 0
	event("pod-added", func() (compile.Input, bool) {
		pods++
		return WithPod(current, TagOnlyPod(pods)), true
	}, func(run nsxsync.Run) string {
		if !run.Skipped {
			return "a pod in tag-based groups only changed the model"
		}
		return ""
	})
	event("pod-added-ipsets", func() (compile.Input, bool) {
		pods++
		return WithPod(current, IPSetPod(pods)), true
	}, func(run nsxsync.Run) string {
		if run.Skipped || run.Summary.Steps == 0 {
			return "a pod in IP sets changed nothing"
		}
		return ""
	})
	port := int32(5432)
	event("np-edited", func() (compile.Input, bool) {
		port = 5432 + 5433 - port
		return WithNetworkPolicy(current, EditedNetworkPolicy(current, port)), true
	}, func(run nsxsync.Run) string {
		if run.Summary.Steps == 0 {
			return "the edit changed nothing"
		}
		return ""
	})
}

func newEnv(b *testing.B) *Env {
	b.Helper()
	e, err := NewEnv(BenchExternalGroups...)
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// logEndpoints logs where the simulated NSX time went, by endpoint.
func logEndpoints(b *testing.B, e *Env) {
	st := e.NSX.Sim.Stats()
	names := slices.Collect(maps.Keys(st.Endpoints))
	slices.SortFunc(names, func(x, y string) int {
		return cmp.Compare(st.Endpoints[y].SimulatedTime, st.Endpoints[x].SimulatedTime)
	})
	for _, n := range names {
		ep := st.Endpoints[n]
		b.Logf("%8d calls %9.1f s  %s", ep.Calls, ep.SimulatedTime.Seconds(), n)
	}
}

// report sets the per-operation custom metrics.
func report(b *testing.B, ops int, total Cost) {
	n := float64(ops)
	b.ReportMetric(float64(total.Calls)/n, "nsx-calls/op")
	b.ReportMetric(float64(total.Reads)/n, "nsx-reads/op")
	b.ReportMetric(float64(total.Writes)/n, "nsx-writes/op")
	b.ReportMetric(total.Simulated.Seconds()/n, "nsx-sim-s/op")
}
