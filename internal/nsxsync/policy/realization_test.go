package policy_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/nsxsync/policy"
	. "github.com/microseg/microseg/internal/plan/plantest"
	"github.com/microseg/microseg/nsxclient"
)

func TestSyncWaitsForRealization(t *testing.T) {
	e := newEnv(t, nsxsim.Options{PolicyRealizationDelay: 30 * time.Millisecond})
	e.addPods(fourPods()...)
	b := e.backend(policy.Config{RealizationPoll: 5 * time.Millisecond})
	start := time.Now()
	res := e.sync(b, threeTiers(), nsxsync.ReadFull)
	if !res.Converged || time.Since(start) < 30*time.Millisecond {
		t.Fatalf("converged %v after %s; want convergence only once NSX realized the change (30ms)", res.Converged, time.Since(start))
	}
	if res.Applied.Reads == 0 {
		t.Fatal("apply read no realization state")
	}
}

func TestUnrealizedChangesAreNotConverged(t *testing.T) {
	e := newEnv(t, nsxsim.Options{PolicyRealizationDelay: 200 * time.Millisecond})
	e.addPods(fourPods()...)
	b := e.backend(policy.Config{RealizationTimeout: 10 * time.Millisecond, RealizationPoll: time.Millisecond})
	m := threeTiers()
	_, err := nsxsync.Sync(e.ctx, b, m, nsxsync.Options{})
	if !errors.Is(err, policy.ErrNotRealized) {
		t.Fatalf("sync = %v; want ErrNotRealized", err)
	}
	// Nothing is left to write, but the next sync still has a realization to see.
	res, err := nsxsync.Sync(e.ctx, b, m, nsxsync.Options{Read: nsxsync.ReadIncremental, DryRun: true})
	if err != nil || res.Converged || res.Summary.Steps != 0 {
		t.Fatalf("dry run before realization: converged %v, %d calls, %v; want not converged with nothing to write", res.Converged, res.Summary.Steps, err)
	}
	time.Sleep(200 * time.Millisecond)
	res = e.sync(b, m, nsxsync.ReadIncremental)
	if !res.Converged || res.Writes != 0 {
		t.Fatalf("after realization: converged %v with %d writes; want converged, nothing written", res.Converged, res.Writes)
	}
}

func TestRealizationErrorsAreReported(t *testing.T) {
	e := newEnv(t, nsxsim.Options{})
	e.addPods(fourPods()...)
	e.sim.InjectRealizationError(nsxsim.RealizationFault{PathPrefix: "/infra/domains/default/security-policies/ms-cluster-a-dev.np-isolate",
		Message: "DFW rule realization failed on host tn-7", ErrorCode: 500012})
	_, err := nsxsync.Sync(e.ctx, e.backend(policy.Config{}), threeTiers(), nsxsync.Options{})
	var re *nsxclient.RealizationError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "tn-7") {
		t.Fatalf("sync = %v; want the realization error with NSX's alarm", err)
	}
}

func TestConcurrentEditIsRetriedAndOverwritten(t *testing.T) {
	e := newEnv(t, nsxsim.Options{})
	e.addPods(fourPods()...)
	b := e.backend(policy.Config{})
	m := threeTiers()
	e.sync(b, m, nsxsync.ReadFull)
	p := ownedPolicy(t, e, "np-allow/b")
	e.sim.InjectConcurrentEdit(nsxsim.ConcurrentEdit{Kind: nsxsim.KindSecurityPolicy, ID: p.Path})
	// The model changes np-allow/b: c may reach b on 80 too.
	m2 := threeTiers()
	for i := range m2.Sections {
		if m2.Sections[i].Key == "np-allow/b" {
			a, bb, c := TagGroup("app=a"), TagGroup("app=b"), TagGroup("app=c")
			m2.Sections[i] = Section("np-allow/b", Rule("b/in/0", ir.ActionAllow, ir.DirectionIn, bb, From(Ref(a), Ref(c)), TCP("80")))
		}
	}
	res := e.sync(b, m2, nsxsync.ReadIncremental)
	if res.Applied.StaleRetries == 0 || !res.Converged {
		t.Fatalf("stale retries %d, converged %v; want the concurrent edit retried over and the sync converged", res.Applied.StaleRetries, res.Converged)
	}
}
