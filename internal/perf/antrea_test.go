package perf

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/compile"
)

// BenchmarkAntreaWorld measures, on the world of Antrea's NetworkPolicy controller benchmark
// (compiletest.AntreaWorld: 25,000 namespaces, 100,000 pods, 75,000 NetworkPolicies), the full
// compile and, for one Kubernetes change each, the operator's way from the event to the NSX plan
// ready (Realized.EventToPlan: compile, the fingerprint shortcut, plan against what NSX holds):
//
//   - compile: the world as Antrea's benchmark has it;
//   - pod-added: a fifth pod in one namespace, labelled like pod1;
//   - pod-relabelled: pod1 moved from np-1's pods to np-2's;
//   - np-edited: np-1 of one namespace limited to one port (alternately two);
//   - csp-edited: a ClusterSecurityPolicy over every namespace changes its port (the events run on
//     the world plus that policy).
//
// Custom metrics: cpu-ms (the process's CPU time per operation, GC included: steadier than ns/op
// on a shared machine), peak-heap-MB (the largest live-and-uncollected heap seen during the operation,
// the world included), plan-steps, and the event's time split into compile-ms, fingerprint-ms
// (the operator's "did the model change" check) and plan-ms (the Manager backend's planner;
// 0 when the fingerprint shows no change). The compiler is FullCompiler; an incremental one plugs in
// through Compiler. MICROSEG_ANTREA_NAMESPACES shrinks the world for a quick run.
//
//	go test -run '^$' -bench 'AntreaWorld$' -benchtime 3x -benchmem -timeout 60m ./internal/perf/
func BenchmarkAntreaWorld(b *testing.B) {
	benchmarkAntreaWorld(b, FullCompiler{}, antreaNamespaces(b))
}

// BenchmarkAntreaWorldIncremental is BenchmarkAntreaWorld with compile.Incremental
// (IncrementalCompiler) in place of the full compile: "compile" is its first compile (every part,
// logged), the events recompile what they reach.
//
//	go test -run '^$' -bench AntreaWorldIncremental -benchtime 3x -benchmem -timeout 60m ./internal/perf/
func BenchmarkAntreaWorldIncremental(b *testing.B) {
	benchmarkAntreaWorld(b, NewIncrementalCompiler(), antreaNamespaces(b))
}

func antreaNamespaces(b *testing.B) int {
	namespaces := 25000
	if v := os.Getenv("MICROSEG_ANTREA_NAMESPACES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		namespaces = n
	}
	return namespaces
}

func benchmarkAntreaWorld(b *testing.B, c Compiler, namespaces int) {
	world := AntreaWorld(namespaces)
	b.Run("compile", func(b *testing.B) {
		b.ReportAllocs()
		var peak uint64
		var cpu time.Duration
		for b.Loop() {
			p := StartPeakHeap()
			cpu0 := ProcessCPU()
			if _, err := c.Compile(world, Event{Kind: EventInitial}); err != nil {
				b.Fatal(err)
			}
			cpu += ProcessCPU() - cpu0
			peak = max(peak, p.Stop())
		}
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		b.ReportMetric(cpu.Seconds()*1000/float64(b.N), "cpu-ms")
	})

	base := WithClusterPolicy(world, AntreaClusterPolicy(80))
	r, err := Realize(c, base)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d namespaces: %d rules in %d sections, %d groups", namespaces, r.Model.RuleCount(), len(r.Model.Sections), len(r.Model.Groups))
	event := func(name string, next func(i int) (compile.Input, Event)) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var peak uint64
			var times StepTimes
			var cpu time.Duration
			steps, i := 0, 0
			for b.Loop() {
				in, ev := next(i)
				i++
				p := StartPeakHeap()
				cpu0 := ProcessCPU()
				pl, err := r.EventToPlan(in, ev)
				if err != nil {
					b.Fatal(err)
				}
				cpu += ProcessCPU() - cpu0
				peak = max(peak, p.Stop())
				times.Compile += r.Last.Compile
				times.Fingerprint += r.Last.Fingerprint
				times.Plan += r.Last.Plan
				if pl != nil {
					steps = pl.Summary().Steps
				}
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(steps), "plan-steps")
			n := float64(max(i, 1))
			b.ReportMetric(cpu.Seconds()*1000/n, "cpu-ms")
			b.ReportMetric(times.Compile.Seconds()*1000/n, "compile-ms")
			b.ReportMetric(times.Fingerprint.Seconds()*1000/n, "fingerprint-ms")
			b.ReportMetric(times.Plan.Seconds()*1000/n, "plan-ms")
		})
	}
	event("pod-added", func(i int) (compile.Input, Event) {
		p := AntreaPodAdded(i)
		return WithPod(base, p), Event{Kind: EventPodAdded, Pod: &p}
	})
	event("pod-relabelled", func(int) (compile.Input, Event) {
		p := AntreaPodRelabelled(base)
		return WithPodReplaced(base, p), Event{Kind: EventPodUpdated, Pod: &p}
	})
	event("np-edited", func(i int) (compile.Input, Event) {
		np := AntreaNetworkPolicyEdited(base, 8080+i%2)
		return WithNetworkPolicy(base, np), Event{Kind: EventNetworkPolicyUpdated, NetworkPolicy: &np}
	})
	event("csp-edited", func(i int) (compile.Input, Event) {
		p := AntreaClusterPolicy(int32(443 + i%2))
		return WithClusterPolicy(base, p), Event{Kind: EventClusterPolicyUpdated, ClusterSecurityPolicy: &p}
	})
}
