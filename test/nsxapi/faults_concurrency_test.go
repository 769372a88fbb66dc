package nsxapi_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/nsxclient"
)

// Faults from other writers: an administrator editing the object between our read and our
// write, and a manager-wide rate limit under concurrent load.

// readModifyWrite is the loop every NSX client writes around one attempt (read the object,
// apply the change, write it back with the revision read): start over while another writer got
// in between.
func readModifyWrite(ctx context.Context, attempts int, attempt func(context.Context) error) error {
	var err error
	for range attempts {
		if err = attempt(ctx); !nsxclient.IsStaleRevision(err) {
			return err
		}
	}
	return fmt.Errorf("still stale after %d attempts: %w", attempts, err)
}

// TestFaultConcurrentEditBetweenReadAndWrite: the first write after a read meets the
// administrator's edit and fails as stale (409 for sections and rules, 412 for the rest); the
// read-modify-write loop then completes on every kind of object.
func TestFaultConcurrentEditBetweenReadAndWrite(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		sec := try(h.c.CreateSectionWithRules(ctx, withRules(layer3Section("s"), allowRule("r")), nsxclient.Top())).must(t)
		ruleID := sec.Rules[0].ID
		g := try(h.c.CreateNSGroup(ctx, namedGroup("g"))).must(t)
		set := try(h.c.CreateIPSet(ctx, namedIPSet("i", "10.0.0.1"))).must(t)
		port := try(h.c.CreateLogicalPort(ctx, podPort("p", "ls", "10.0.0.2"))).must(t)

		objects := []struct {
			kind, id string
			status   int
			update   func(ctx context.Context) error // one read-modify-write attempt
		}{
			{nsxsim.KindSection, sec.ID, 409, func(ctx context.Context) error {
				s, err := h.c.GetSection(ctx, sec.ID)
				if err != nil {
					return err
				}
				s.Description = "edited by microseg"
				_, err = h.c.UpdateSection(ctx, *s)
				return err
			}},
			{nsxsim.KindRule, ruleID, 409, func(ctx context.Context) error {
				r, err := h.c.GetRule(ctx, sec.ID, ruleID)
				if err != nil {
					return err
				}
				r.Notes = "edited by microseg"
				_, err = h.c.UpdateRule(ctx, sec.ID, *r)
				return err
			}},
			{nsxsim.KindNSGroup, g.ID, 412, func(ctx context.Context) error {
				x, err := h.c.GetNSGroup(ctx, g.ID)
				if err != nil {
					return err
				}
				x.Description = "edited by microseg"
				_, err = h.c.UpdateNSGroup(ctx, *x)
				return err
			}},
			{nsxsim.KindIPSet, set.ID, 412, func(ctx context.Context) error {
				x, err := h.c.GetIPSet(ctx, set.ID)
				if err != nil {
					return err
				}
				x.Description = "edited by microseg"
				_, err = h.c.UpdateIPSet(ctx, *x)
				return err
			}},
			{nsxsim.KindLogicalPort, port.ID, 412, func(ctx context.Context) error {
				x, err := h.c.GetLogicalPort(ctx, port.ID)
				if err != nil {
					return err
				}
				x.Description = "edited by microseg"
				_, err = h.c.UpdateLogicalPort(ctx, *x)
				return err
			}},
		}
		for _, o := range objects {
			h.sim.InjectConcurrentEdit(nsxsim.ConcurrentEdit{Kind: o.kind, ID: o.id, Count: 1})
			err := o.update(ctx)
			if !nsxclient.IsStaleRevision(err) {
				t.Errorf("%s: the write after a concurrent edit: want ErrStaleRevision, got %v", o.kind, err)
				continue
			}
			if e := apiError(t, err); e.StatusCode != o.status {
				t.Errorf("%s: status %d, want %d", o.kind, e.StatusCode, o.status)
			}
			h.sim.InjectConcurrentEdit(nsxsim.ConcurrentEdit{Kind: o.kind, ID: o.id, Count: 2})
			if err := readModifyWrite(ctx, 5, o.update); err != nil {
				t.Errorf("%s: read-modify-write did not complete: %v", o.kind, err)
			}
		}
		if s := try(h.c.GetSection(ctx, sec.ID)).must(t); s.Description != "edited by microseg" || s.LastModifiedUser != testUser {
			t.Errorf("section after the loop: description %q, last modified by %q", s.Description, s.LastModifiedUser)
		}
	})
}

// TestFaultConcurrentEditWhileAddingRules: CreateRuleAtLatestRevision re-reads the section's
// revision until it wins, and gives up with an explanation when the section never settles.
func TestFaultConcurrentEditWhileAddingRules(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	sec := try(h.c.CreateSection(ctx, layer3Section("busy"), nsxclient.Top())).must(t)

	h.sim.InjectConcurrentEdit(nsxsim.ConcurrentEdit{Kind: nsxsim.KindSection, ID: sec.ID, Count: 3})
	h.calls.reset()
	try(h.c.CreateRuleAtLatestRevision(ctx, sec.ID, allowRule("patient"), nsxclient.Top())).must(t)
	if got := h.calls.statuses("POST /firewall/sections/{id}/rules"); fmt.Sprint(got) != "[409 409 409 200]" {
		t.Errorf("rule create attempts %v, want three stale then success", got)
	}

	h.sim.InjectConcurrentEdit(nsxsim.ConcurrentEdit{Kind: nsxsim.KindSection, ID: sec.ID, Count: 100})
	_, err := h.c.CreateRulesAtLatestRevision(ctx, sec.ID, []nsxclient.FirewallRule{allowRule("never")}, nsxclient.Top())
	if !nsxclient.IsStaleRevision(err) || !strings.Contains(err.Error(), "kept changing") {
		t.Errorf("a section that never settles: want ErrStaleRevision explaining the give-up, got %v", err)
	}
	h.sim.ClearFaults()
	equalStrings(t, "rules", ruleNames(try(h.c.ListRules(ctx, sec.ID)).must(t)), []string{"patient"})
}

// TestFaultRateLimitUnderConcurrentLoad: many goroutines share one client against a manager
// that allows 25 requests per second; every operation completes, none twice.
func TestFaultRateLimitUnderConcurrentLoad(t *testing.T) {
	h := newHarness(t, withAuthMode(nsxclient.AuthSession), withClient(withConfig(func(c *nsxclient.Config) {
		c.MaxRetries = 60
		c.MaxRetryAfter = 100 * time.Millisecond
		c.RetryMaxDelay = 100 * time.Millisecond
	})))
	ctx := t.Context()
	h.sim.SetFaults(nsxsim.Faults{RateLimitPerSecond: 25})

	const workers, perWorker = 8, 2
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				name := fmt.Sprintf("set-%d-%d", w, i)
				set, err := h.c.CreateIPSet(ctx, namedIPSet(name, fmt.Sprintf("10.%d.%d.1", w, i)))
				if err == nil {
					err = h.c.AddIPSetAddress(ctx, set.ID, fmt.Sprintf("10.%d.%d.2", w, i))
				}
				if err == nil {
					_, err = h.c.GetIPSet(ctx, set.ID)
				}
				if err != nil {
					errs <- fmt.Errorf("%s: %w", name, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	h.sim.ClearFaults()
	sets := try(h.c.ListIPSets(ctx)).must(t)
	seen := map[string]bool{}
	for _, s := range sets {
		if seen[s.DisplayName] || len(s.IPAddresses) != 2 {
			t.Errorf("IP set %s: duplicate or incomplete (%v)", s.DisplayName, s.IPAddresses)
		}
		seen[s.DisplayName] = true
	}
	if len(sets) != workers*perWorker {
		t.Errorf("%d IP sets, want %d", len(sets), workers*perWorker)
	}
	throttled := countWhere(h.calls.snapshot(), func(c observedCall) bool { return c.StatusCode == 429 })
	if throttled == 0 {
		t.Error("no request was throttled: the load did not exceed the limit, so the test proved nothing")
	}
	t.Logf("%d attempts were throttled with 429", throttled)
}
