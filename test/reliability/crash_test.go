package reliability_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
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
	crashK     = flag.String("crash.k", "", "crash points to try, e.g. 0,7,31 (default: every write of the change)")
	crashLarge = flag.Bool("crash.large", false, "crash at every write of a larger change (more namespaces, pods and policies)")
)

// A crash at every write: for a change of many NSX writes (sections, rules, groups, a guard),
// microseg is killed right after write k — for every k — with no cleanup, and a fresh process
// (new client, new backend, full read) takes over. It must converge to the model with nothing of
// microseg's left that the model does not name and nothing duplicated, leave other users'
// objects alone, and Traceflow after every write of both processes (so across the crash: the
// state the crash left is the state after write k) never allows a flow that both the old and
// the new configuration deny, on every pod pair and every port the policies name.
func TestCrashAtEveryWrite(t *testing.T) {
	for _, c := range []crashCase{
		// The Manager backend with NSX's limits: sections, rules, groups, the copy guard.
		// Sections of at most 2 rules, so that the change spans many sections.
		{name: "manager", api: manager.API, limits: ir.Limits{MaxRulesPerSection: 2}, minWrites: 50},
		// The Policy backend split into calls of at most 3 objects: groups, a guard, policies
		// changed in pieces, the unguard, the cleanup.
		{name: "policy-multi-call", api: policy.API, policy: policy.Config{MaxObjectsPerCall: 3, MaxRulesPerPolicy: 3}, minWrites: 50},
		// The Policy backend's usual path: the whole change in one hierarchical PATCH.
		{name: "policy-single-patch", api: policy.API, minWrites: 1},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t) })
	}
}

type crashCase struct {
	name      string
	api       string
	limits    ir.Limits
	policy    policy.Config
	minWrites int
}

// crashWorlds draws the old and the new world: the same pods, namespaces relabeled, every
// policy redrawn.
func crashWorlds(seed uint64, large bool) (oldW, newW *world) {
	rng := rand.New(rand.NewPCG(seed, 99))
	namespaces, pods := 4, 2
	if large {
		namespaces, pods = 8, 3
	}
	oldW = newWorld(rng, namespaces, pods)
	newW = oldW.clone()
	newW.drawPolicies(rng)
	for range namespaces / 2 {
		newW.relabelNamespace(rng)
	}
	return oldW, newW
}

func (c crashCase) run(t *testing.T) {
	start := time.Now()
	settings := compile.Settings{Limits: c.limits}
	oldW, newW := crashWorlds(1, *crashLarge)
	oldM, err := oldW.compile(cluster, settings)
	if err != nil {
		t.Fatal(err)
	}
	newM, err := newW.compile(cluster, settings)
	if err != nil {
		t.Fatal(err)
	}
	fs := flows(oldW)
	opts := processOptions{crashAfter: -1, limits: c.limits, policy: c.policy}

	// What each configuration alone allows, and what NSX holds of microseg's once the new one is
	// realized on a fresh manager: the reference the crashed runs must end at.
	ref := c.realize(t, oldW, newM, opts)
	newV, refInventory := ref.verdicts(fs), ref.inventory()
	old := c.realize(t, oldW, oldM, opts)
	oldV := old.verdicts(fs)
	var bothDeny []flow
	for _, f := range fs {
		if !oldV[f] && !newV[f] {
			bothDeny = append(bothDeny, f)
		}
	}

	// The change uninterrupted: how many writes it takes, and what they are.
	full := c.realize(t, oldW, oldM, opts)
	p := full.startProcess(opts)
	res, err := p.sync(newM, nsxsync.ReadFull)
	p.stop()
	if err != nil || !res.Converged {
		t.Fatalf("the uninterrupted change: converged %v, %v", res.Converged, err)
	}
	writes := p.tr.Writes()
	t.Logf("the change: %d NSX writes (%v, guarded %v); %d flows traced, %d denied by both configurations",
		writes, res.Summary.Ops, res.Summary.Guarded, len(fs), len(bothDeny))
	if writes < c.minWrites {
		t.Fatalf("the change takes %d writes, want at least %d", writes, c.minWrites)
	}
	c.requireCoverage(t, res.Summary)

	ks := crashPoints(t, writes)
	var totalA, totalB, checked, extraSyncs int
	for _, k := range ks {
		a, b, n, extra := c.crashAt(t, k, oldW, oldM, newM, opts, bothDeny, fs, newV, refInventory)
		totalA, totalB, checked, extraSyncs = totalA+a, totalB+b, checked+n, extraSyncs+extra
	}
	t.Logf("crashed after each of k=%d..%d (%d runs): %d writes before the crashes, %d by the fresh processes, %d states traced (%d flows each), %d syncs beyond the first; %s",
		ks[0], ks[len(ks)-1], len(ks), totalA, totalB, checked, len(bothDeny), extraSyncs, time.Since(start).Round(time.Millisecond))
}

// requireCoverage fails when the change does not exercise what a crash can interrupt.
func (c crashCase) requireCoverage(t *testing.T, s nsxsync.Summary) {
	t.Helper()
	var want []string
	switch {
	case c.api == manager.API:
		want = []string{"CreateGroup", "DeleteGroup", "CreateSection", "DeleteSection"}
		if s.Ops["CreateRule"]+s.Ops["UpdateRule"]+s.Ops["DeleteRule"]+s.Ops["ReviseRule"] == 0 {
			t.Errorf("the change writes no single rule: %v", s.Ops)
		}
	case s.Steps > 1:
		want = []string{"CreateGroup", "DeleteGroup", "CreatePolicy", "DeletePolicy"}
	}
	for _, op := range want {
		if s.Ops[op] == 0 {
			t.Errorf("the change has no %s: %v", op, s.Ops)
		}
	}
	if c.minWrites > 1 && !s.Guarded {
		t.Errorf("the change is not guarded: %v", s.Ops)
	}
}

// crashPoints are the k to try: -crash.k, or every write of the change (0: before the first).
func crashPoints(t *testing.T, writes int) []int {
	if *crashK == "" {
		ks := make([]int, writes+1)
		for i := range ks {
			ks[i] = i
		}
		return ks
	}
	var ks []int
	for _, s := range strings.Split(*crashK, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			t.Fatalf("-crash.k: %v", err)
		}
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// realize is a fresh manager holding the world's pods and m.
func (c crashCase) realize(t *testing.T, wd *world, m *ir.Model, opts processOptions) *nsxWorld {
	t.Helper()
	w := startNSX(t, c.api, false, nsxsim.Options{})
	w.syncPorts(wd)
	p := w.startProcess(opts)
	defer p.stop()
	if res, err := p.sync(m, nsxsync.ReadFull); err != nil || !res.Converged {
		t.Fatalf("realizing a model: converged %v, %v", res.Converged, err)
	}
	return w
}

// crashAt kills a process after write k of the change and lets a fresh one finish it. It returns
// the writes of each process, the states traced and the syncs the fresh process needed beyond
// its first.
func (c crashCase) crashAt(t *testing.T, k int, oldW *world, oldM, newM *ir.Model, opts processOptions,
	bothDeny, fs []flow, newV map[flow]bool, refInventory map[string]int) (writesA, writesB, traced, extraSyncs int) {
	t.Helper()
	w := c.realize(t, oldW, oldM, opts)
	exposed := 0
	check := func(who string) func(*http.Request, int) {
		return func(r *http.Request, n int) {
			traced++
			for _, f := range bothDeny {
				if w.trace(f).Allowed {
					exposed++
					t.Errorf("k=%d, %s, after its write %d (%s %s): %s is allowed, though the old and the new configuration deny it",
						k, who, n, r.Method, r.URL.Path, f)
				}
			}
		}
	}
	first := opts
	first.crashAfter, first.afterWrite = k, check("the first process")
	a := w.startProcess(first)
	_, errA := a.sync(newM, nsxsync.ReadFull)
	a.stop()
	writesA = a.tr.Writes()
	if errA == nil && writesA < k {
		t.Fatalf("k=%d: the first process finished after %d writes", k, writesA)
	}

	second := opts
	second.afterWrite = check("the fresh process")
	b := w.startProcess(second)
	defer b.stop()
	res, err := b.sync(newM, nsxsync.ReadFull)
	for err == nil && !res.Converged && extraSyncs < 3 {
		extraSyncs++
		res, err = b.sync(newM, nsxsync.ReadIncremental)
	}
	writesB = b.tr.Writes()
	if err != nil || !res.Converged {
		t.Fatalf("k=%d: the fresh process did not converge: converged %v after %d syncs, %v", k, res.Converged, 1+extraSyncs, err)
	}

	// A third process's full read plans nothing.
	v := w.startProcess(opts)
	defer v.stop()
	st, err := v.backend.Read(v.ctx, nsxsync.ReadFull)
	if err != nil {
		t.Fatal(err)
	}
	if pl, err := v.backend.Plan(newM, st); err != nil || !pl.Empty() {
		t.Fatalf("k=%d: a fresh plan after the recovery is not empty: %v %v", k, err, summaryOf(pl))
	}
	if diff := inventoryDiff(w.inventory(), refInventory); len(diff) > 0 {
		t.Errorf("k=%d: microseg's objects in NSX differ from the model's realization:\n%s", k, strings.Join(diff, "\n"))
	}
	for _, f := range fs {
		if got := w.trace(f).Allowed; got != newV[f] {
			t.Errorf("k=%d: after the recovery %s allowed=%v, the new configuration alone gives %v", k, f, got, newV[f])
		}
	}
	w.checkForeign()
	if exposed > 0 {
		t.Logf("k=%d: %d exposures", k, exposed)
	}
	return writesA, writesB, traced, extraSyncs
}

func summaryOf(p nsxsync.Plan) string {
	if p == nil {
		return "no plan"
	}
	return fmt.Sprintf("%+v", p.Summary().Ops)
}
