package nsxsync_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/nsxsync/manager"
	"github.com/microseg/microseg/internal/nsxsync/memnsx"
	. "github.com/microseg/microseg/internal/plan/plantest"
)

var (
	gA            = TagGroup("app=a")
	threeSections = ThreeSections
)

func backend(t *testing.T, nsx *memnsx.NSX, cfg manager.Config) nsxsync.Backend {
	t.Helper()
	b, err := nsx.Backend(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSyncCreatesReadsBackAndConverges(t *testing.T) {
	nsx := memnsx.New(Cluster)
	b := backend(t, nsx, manager.Config{})
	m := threeSections()
	before := nsxsync.Syncs()
	res, err := nsxsync.Sync(context.Background(), b, m, nsxsync.Options{Read: nsxsync.ReadFull})
	if err != nil {
		t.Fatal(err)
	}
	if got := nsxsync.Syncs() - before; got != 1 {
		t.Errorf("Syncs moved by %d, want 1", got)
	}
	if !res.Converged || !res.ReadBack || res.Summary.Guarded || res.Writes != int64(res.Summary.Steps) || res.API != manager.API {
		t.Fatalf("first sync (into an empty block: no guard): %+v", res)
	}
	for _, s := range m.Sections {
		if _, ok := res.Owned.Section(s.Key); !ok {
			t.Errorf("the owned index after the sync has no section %s", s.Key)
		}
	}
	// At rest: one read, nothing written, no read-back.
	writes := nsx.Writes
	res, err = nsxsync.Sync(context.Background(), b, m, nsxsync.Options{})
	if err != nil || !res.Converged || res.ReadBack || res.Writes != 0 || nsx.Writes != writes || res.Reads == 0 {
		t.Fatalf("resync at rest: %+v, %v", res, err)
	}
	// Reordered over a block that denies: several writes, guarded, and the guard is gone after.
	reversed := threeSections()
	slices.Reverse(reversed.Sections)
	res, err = nsxsync.Sync(context.Background(), b, reversed, nsxsync.Options{})
	if err != nil || !res.Converged || !res.Summary.Guarded {
		t.Fatalf("reordering: %+v, %v", res, err)
	}
	if len(res.Owned.Guards()) != 0 {
		t.Errorf("the guard is still in NSX after the sync: %v", res.Owned.Guards())
	}
}

func TestDryRunAndRefusalWriteNothing(t *testing.T) {
	nsx := memnsx.New(Cluster)
	b := backend(t, nsx, manager.Config{})
	m := threeSections()
	res, err := nsxsync.Sync(context.Background(), b, m, nsxsync.Options{DryRun: true})
	if err != nil || res.Plan == nil || res.Plan.Empty() || res.Converged || nsx.Writes != 0 || !res.DryRun {
		t.Fatalf("dry run: %+v, %v (%d writes)", res, err, nsx.Writes)
	}
	over := errors.New("the model needs 3 sections; the budget allows 2")
	var asked nsxsync.Plan
	res, err = nsxsync.Sync(context.Background(), b, m, nsxsync.Options{PreApply: func(_ *ir.Model, p nsxsync.Plan) error { asked = p; return over }})
	var refused *nsxsync.RefusedError
	if !errors.As(err, &refused) || !errors.Is(err, over) || asked == nil || res.Plan != asked || nsx.Writes != 0 {
		t.Fatalf("refused: %v (plan given to the check %v, %d writes)", err, asked != nil, nsx.Writes)
	}
}

func TestAnchorIsResolvedByTheBackend(t *testing.T) {
	nsx := memnsx.New(Cluster)
	nsx.AddForeignSection(0, "security team")
	for anchor, ok := range map[string]bool{"security team": true, "no such section": false} {
		_, err := nsxsync.Sync(context.Background(), backend(t, nsx, manager.Config{Anchor: anchor}), threeSections(), nsxsync.Options{})
		var ce *nsxsync.ConfigError
		if ok != (err == nil) || (!ok && !errors.As(err, &ce)) {
			t.Errorf("anchor %q: %v", anchor, err)
		}
	}
	if got := nsx.SectionNames(); got != "security team, microseg np-allow/b, microseg np-allow/c, microseg np-isolate/x, Default Layer3 Section" {
		t.Errorf("DFW: %s", got)
	}
}

func TestProblemsReachTheResult(t *testing.T) {
	nsx := memnsx.New(Cluster)
	m := Model([]ir.Section{Section("csp/db", Rule("db/out/0", ir.ActionAllow, ir.DirectionOut, gA, To(ir.Ref{NSXGroup: "missing"}), TCP("5432")))}, gA)
	res, err := nsxsync.Sync(context.Background(), backend(t, nsx, manager.Config{}), m, nsxsync.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 1 || res.Problems[0].Code != nsxsync.ProblemInvalidReference || res.Problems[0].Object != m.Sections[0].Rules[0].Origin.Object {
		t.Fatalf("problems %+v", res.Problems)
	}
}
