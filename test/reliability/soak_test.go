package reliability_test

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/nsxsync/manager"
	"github.com/microseg/microseg/internal/nsxsync/policy"
)

var (
	soakSteps    = flag.Int("soak.steps", 200, "steps of each soak run (the short run of make test)")
	soakDuration = flag.Duration("soak.duration", 0, "run each soak for this long instead of -soak.steps, e.g. 30m")
	soakSeed     = flag.Uint64("soak.seed", 1, "seed of the soak's worlds, mutations and faults")
	soakSample   = flag.Int("soak.sample", 48, "flows traced after every NSX write of a step")
)

// TestSoak is a bounded, seeded fault soak. Each step changes the cluster (pod churn, policy
// edits, namespace relabels), lets NCP lay out the ports, and has microseg's NSX side (the
// operator's Syncer over a backend) bring NSX to the new model while the simulator answers with
// 429, 503, 500/607, dropped connections and latency, another user bumps the revision of
// microseg's objects between its reads and writes, and microseg is restarted (sometimes killed
// in the middle of the step's writes). A fault-free reference manager realizes the same models.
//
// Checked at every step: after every NSX write (and before the first), no flow in a sample that
// both the step's old and new model deny is allowed (a transient exposure); once converged, the
// sample's verdicts equal the reference's. At the end: a fresh process's full read plans
// nothing, microseg's objects are exactly the reference's (0 orphaned, 0 duplicated), every flow
// agrees with the reference, other users' objects are untouched, and the heap after the run is
// not far above the heap after the warm-up.
func TestSoak(t *testing.T) {
	for _, api := range []string{manager.API, policy.API} {
		t.Run(api, func(t *testing.T) { runSoak(t, api) })
	}
}

// soakFigures are what a soak run reports.
type soakFigures struct {
	steps, restarts, crashes, syncs, failedSyncs, writes, traces, exposures int
	faultsFired                                                             map[string]int
	// refExtraSyncs are the fault-free reference's syncs beyond one per step.
	refExtraSyncs int
	// statuses are the error answers microseg's processes got (0: the connection failed).
	statuses map[int]int
}

func runSoak(t *testing.T, api string) {
	start := time.Now()
	rng := rand.New(rand.NewPCG(*soakSeed, 0x50a4))
	settings := compile.Settings{}
	opts := processOptions{crashAfter: -1, policy: policy.Config{MaxObjectsPerCall: 8, MaxRulesPerPolicy: 4}}
	if api == manager.API {
		settings.Limits = ir.Limits{MaxRulesPerSection: 4}
		opts.limits = settings.Limits
	}
	live := startNSX(t, api, true, nsxsim.Options{})
	ref := startNSX(t, api, false, nsxsim.Options{})
	cur := newWorld(rng, 4, 3)
	model := func(wd *world) *ir.Model {
		m, err := wd.compile(cluster, settings)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	refProc := ref.startProcess(opts)
	defer refProc.stop()
	refSyncer := nsxsync.NewSyncer(nsxsync.SyncerConfig{Backend: refProc.backend, ResyncPeriod: time.Hour})

	fig := soakFigures{faultsFired: map[string]int{}, statuses: map[int]int{}}
	// check is what the write hook traces: the flows the current step must never allow.
	var mu sync.Mutex
	var check []flow
	var step int
	traceCheck := func(when string) {
		mu.Lock()
		fs, s := check, step
		mu.Unlock()
		for _, f := range fs {
			fig.traces++
			if live.trace(f).Allowed {
				fig.exposures++
				t.Errorf("step %d, %s: %s is allowed, though the old and the new model deny it", s, when, f)
			}
		}
	}
	liveOpts := opts
	liveOpts.afterWrite = func(r *http.Request, n int) {
		traceCheck(fmt.Sprintf("after write %d (%s %s)", n, r.Method, r.URL.Path))
	}
	var proc *process
	var syncer *nsxsync.Syncer
	retire := func() {
		fig.writes += proc.tr.Writes()
		for code, n := range proc.tr.Statuses() {
			fig.statuses[code] += n
		}
		proc.stop()
	}
	restart := func(crashAfter int) {
		if proc != nil {
			retire()
		}
		o := liveOpts
		o.crashAfter = crashAfter
		proc = live.startProcess(o)
		syncer = nsxsync.NewSyncer(nsxsync.SyncerConfig{Backend: proc.backend, ResyncPeriod: time.Hour})
	}
	restart(-1)
	defer func() { proc.stop() }()

	// The first model, realized on both managers without faults.
	live.syncPorts(cur)
	ref.syncPorts(cur)
	m := model(cur)
	for _, s := range []*nsxsync.Syncer{refSyncer, syncer} {
		if run, err := s.Sync(refProc.ctx, m, true); err != nil || !run.Converged {
			t.Fatalf("the first model: converged %v, %v", run.Converged, err)
		}
	}

	var warm runtime.MemStats
	deadline := time.Time{}
	if *soakDuration > 0 {
		deadline = start.Add(*soakDuration)
	}
	// The warm-up is the first fifth of the run (of its steps, or of its duration).
	warmAt := max(*soakSteps/5, 3)
	for step = 1; ; step++ {
		if deadline.IsZero() && step > *soakSteps || !deadline.IsZero() && time.Now().After(deadline) {
			break
		}
		if warm.HeapAlloc == 0 && (deadline.IsZero() && step == warmAt || !deadline.IsZero() && time.Since(start) >= *soakDuration/5) {
			warmAt, warm = step, heap()
		}
		prev := cur.clone()
		var what []string
		for range 1 + rng.IntN(3) {
			switch rng.IntN(3) {
			case 0:
				what = append(what, cur.churnPods(rng))
			case 1:
				what = append(what, cur.editPolicies(rng))
			default:
				what = append(what, cur.relabelNamespace(rng))
			}
		}
		m = model(cur)

		// The reference: its verdicts on a sample of flows between pods the step left alone,
		// under the old model (ports already laid out) and under the new one.
		ref.syncPorts(cur)
		sample := sampleFlows(rng, stableFlows(prev, cur), *soakSample)
		oldV := ref.verdicts(sample)
		run, err := refSyncer.Sync(refProc.ctx, m, true)
		// Without faults one sync must do (a policy that moved and lost every rule once needed a
		// second one on the Policy backend); describe any extra sync, fail the test, and go on
		// so that the rest of the soak still runs.
		for extra := 0; err == nil && !run.Converged && extra < 3; extra++ {
			fig.refExtraSyncs++
			t.Errorf("step %d (%s): a fault-free sync of the reference did not converge: it planned %v, applied %+v; a fresh plan: %s",
				step, strings.Join(what, "; "), run.Summary.Ops, run.Applied, ref.freshPlan(m, opts))
			run, err = refSyncer.Sync(refProc.ctx, m, false)
		}
		if err != nil || !run.Converged {
			t.Fatalf("step %d: the reference did not converge: %v %v", step, run.Converged, err)
		}
		newV := ref.verdicts(sample)
		var deny []flow
		for _, f := range sample {
			if !oldV[f] && !newV[f] {
				deny = append(deny, f)
			}
		}
		mu.Lock()
		check = deny
		mu.Unlock()

		// The live manager: NCP first, then microseg under faults.
		live.syncPorts(cur)
		traceCheck("before microseg's first write")
		faults := drawFaults(rng, live.ownedIDs(), step)
		live.sim.SetFaults(faults)
		switch rng.IntN(10) {
		case 0:
			fig.restarts++
			restart(-1)
		case 1:
			fig.crashes++
			restart(1 + rng.IntN(8))
		}
		triggered, converged := true, false
		for attempt := 0; attempt < 40 && !converged; attempt++ {
			fig.syncs++
			run, err := syncer.Sync(proc.ctx, m, triggered)
			triggered = false
			switch {
			case err != nil && proc.ctx.Err() != nil:
				// Killed mid-sync: a fresh process takes over with a full read.
				fig.failedSyncs++
				restart(-1)
			case err != nil:
				fig.failedSyncs++
				if !retryable(err) {
					t.Fatalf("step %d: a sync failed with an error the operator would not retry: %v", step, err)
				}
			default:
				converged = run.Converged
			}
		}
		for _, r := range live.sim.CurrentFaults().Rules {
			fig.faultsFired[string(r.Kind)] += firedOf(t, r)
		}
		live.sim.ClearFaults()
		if !converged {
			t.Fatalf("step %d (%s): microseg did not converge in 40 syncs under %s", step, strings.Join(what, "; "), describeFaults(faults))
		}
		for _, f := range sample {
			if got := live.trace(f).Allowed; got != newV[f] {
				t.Errorf("step %d (%s): %s allowed=%v on the live manager, %v on the reference", step, strings.Join(what, "; "), f, got, newV[f])
			}
		}
		fig.steps++
		if t.Failed() {
			t.Fatalf("step %d: %s", step, strings.Join(what, "; "))
		}
	}
	retire()

	// The end: a fresh process plans nothing, the objects are the reference's, every flow agrees.
	v := live.startProcess(opts)
	defer v.stop()
	st, err := v.backend.Read(v.ctx, nsxsync.ReadFull)
	if err != nil {
		t.Fatal(err)
	}
	if pl, err := v.backend.Plan(m, st); err != nil || !pl.Empty() {
		t.Fatalf("a fresh plan after the soak is not empty: %v %v", err, summaryOf(pl))
	}
	got, want := live.inventory(), ref.inventory()
	if diff := inventoryDiff(got, want); len(diff) > 0 {
		t.Errorf("microseg's objects differ from the reference's:\n%s", strings.Join(diff, "\n"))
	}
	all := flows(cur)
	liveV, refV := live.verdicts(all), ref.verdicts(all)
	for _, f := range all {
		if liveV[f] != refV[f] {
			t.Errorf("after the soak %s allowed=%v, the reference gives %v", f, liveV[f], refV[f])
		}
	}
	live.checkForeign()
	ref.checkForeign()

	end := heap()
	t.Logf("soak %s seed %d: %d steps in %s; %d syncs (%d failed), %d NSX writes, %d restarts, %d kills mid-sync; faults fired %v; error answers by status %v (409/412: concurrent edits; 0: dropped connections); %d traces after writes, %d exposures; %d extra syncs of the fault-free reference; %d objects of microseg's checked at the end, %d flows; heap %.1f MiB after warm-up (step %d), %.1f MiB at the end; %d goroutines",
		api, *soakSeed, fig.steps, time.Since(start).Round(time.Millisecond), fig.syncs, fig.failedSyncs, fig.writes, fig.restarts, fig.crashes,
		fig.faultsFired, fig.statuses, fig.traces, fig.exposures, fig.refExtraSyncs, len(got), len(all), mib(warm.HeapAlloc), warmAt, mib(end.HeapAlloc), runtime.NumGoroutine())
	// The worlds stay the same size, so the heap must too: allow doubling plus slack for the
	// simulator's and the runtime's caches.
	if warm.HeapAlloc > 0 && end.HeapAlloc > 2*warm.HeapAlloc+64<<20 {
		t.Errorf("the heap grew from %.1f MiB after the warm-up to %.1f MiB at the end", mib(warm.HeapAlloc), mib(end.HeapAlloc))
	}
}

// freshPlan is what a fresh process's full read plans for m, for logs.
func (w *nsxWorld) freshPlan(m *ir.Model, opts processOptions) string {
	p := w.startProcess(opts)
	defer p.stop()
	st, err := p.backend.Read(p.ctx, nsxsync.ReadFull)
	if err != nil {
		return "read: " + err.Error()
	}
	pl, err := p.backend.Plan(m, st)
	if err != nil {
		return "plan: " + err.Error()
	}
	return summaryOf(pl)
}

// retryable: the errors the operator requeues on. A refusal (the model cannot be applied safely)
// would be a finding, not a fault.
func retryable(err error) bool {
	var refused *nsxsync.RefusedError
	return !errors.As(err, &refused)
}

// drawFaults draws the step's faults: each kind now and then, each firing a bounded number of
// times so that the step can converge.
func drawFaults(rng *rand.Rand, owned map[string][]string, step int) nsxsim.Faults {
	f := nsxsim.Faults{Seed: uint64(step)}
	for _, k := range []nsxsim.FaultKind{nsxsim.FaultTooManyRequests, nsxsim.FaultUnavailable, nsxsim.FaultReconfiguring,
		nsxsim.FaultDrop, nsxsim.FaultLatency} {
		if rng.IntN(3) != 0 {
			continue
		}
		r := nsxsim.FaultRule{Kind: k, Probability: 0.05 + 0.2*rng.Float64(), Count: 1 + rng.IntN(4), RetryAfter: 1}
		if k == nsxsim.FaultLatency {
			r.Latency, r.Count = time.Duration(1+rng.IntN(5))*time.Millisecond, 0
		}
		if rng.IntN(2) == 0 {
			r.Method = pick(rng, []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete})
		}
		f.Rules = append(f.Rules, r)
	}
	// Another user edits some of microseg's objects between microseg's reads and writes.
	kinds := slices.Sorted(maps.Keys(owned))
	for range rng.IntN(3) {
		if len(kinds) == 0 {
			break
		}
		kind := pick(rng, kinds)
		f.ConcurrentEdits = append(f.ConcurrentEdits, nsxsim.ConcurrentEdit{Kind: kind, ID: pick(rng, owned[kind]), Count: 1 + rng.IntN(2)})
	}
	return f
}

// firedOf is how often a fault rule fired (the simulator reports it in the rule's JSON).
func firedOf(t *testing.T, r nsxsim.FaultRule) int {
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Fired int }
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out.Fired
}

func describeFaults(f nsxsim.Faults) string {
	var parts []string
	for _, r := range f.Rules {
		parts = append(parts, fmt.Sprintf("%s p=%.2f ×%d %s", r.Kind, r.Probability, r.Count, r.Method))
	}
	for _, e := range f.ConcurrentEdits {
		parts = append(parts, fmt.Sprintf("edit %s ×%d", e.Kind, e.Count))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// stableFlows are the flows between pods the step did not touch (same pod, same labels), whose
// old verdict the old model decides.
func stableFlows(prev, cur *world) []flow {
	before := map[string]string{}
	for _, p := range prev.pods {
		before[string(p.UID)] = fmt.Sprint(p.Labels)
	}
	kept := &world{}
	for _, p := range cur.pods {
		if l, ok := before[string(p.UID)]; ok && l == fmt.Sprint(p.Labels) {
			kept.pods = append(kept.pods, p)
		}
	}
	return flows(kept)
}

func sampleFlows(rng *rand.Rand, fs []flow, n int) []flow {
	rng.Shuffle(len(fs), func(i, j int) { fs[i], fs[j] = fs[j], fs[i] })
	return fs[:min(n, len(fs))]
}

func heap() runtime.MemStats {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
