package apply_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/apply"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/nsxsync/manager"
	"github.com/microseg/microseg/internal/plan"
	. "github.com/microseg/microseg/internal/plan/plantest"
	"github.com/microseg/microseg/nsxclient"
)

// cached is a backend that lives across syncs (as the operator's does), with its own clock.
type cached struct {
	e   *env
	b   *manager.Backend
	now time.Time
}

func (e *env) cachedBackend(cfg manager.Config) *cached {
	e.t.Helper()
	c := &cached{e: e, now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	cfg.ClusterID = Cluster
	cfg.Now = func() time.Time { return c.now }
	if cfg.Verify.Period == 0 {
		cfg.Verify = nsxsync.Verify{Window: time.Hour, Period: 5 * time.Minute}
	}
	b, err := manager.Over(e.client, cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	c.b = b
	return c
}

// sync runs the sync path with the given first read.
func (c *cached) sync(m *ir.Model, mode nsxsync.ReadMode) nsxsync.Result {
	c.e.t.Helper()
	res, err := nsxsync.Sync(c.e.ctx, c.b, m, nsxsync.Options{Read: mode})
	if err != nil {
		c.e.t.Fatalf("sync (%s): %v", mode, err)
	}
	return res
}

// state is what the cache holds (a cached read: no call).
func (c *cached) state() plan.State {
	c.e.t.Helper()
	st, err := c.b.Read(c.e.ctx, nsxsync.ReadCached)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if st.Calls() != 0 {
		c.e.t.Fatalf("a cached read made %d calls", st.Calls())
	}
	return st.(*manager.State).State
}

// comparable is a state without the fields NSX derives from positions and times, which microseg
// neither reads nor needs to know: a section's priority and rule count, rules' priority, and the
// modification times and users.
func comparable(st plan.State) string {
	for i := range st.Sections {
		s := &st.Sections[i]
		s.Section.Priority, s.Section.RuleCount = 0, 0
		s.Section.LastModifiedTime, s.Section.LastModifiedUser = 0, ""
		for j := range s.Rules {
			s.Rules = append([]nsxclient.FirewallRule(nil), s.Rules...)
			s.Rules[j].Priority = 0
		}
	}
	for i := range st.NSGroups {
		st.NSGroups[i].LastModifiedTime, st.NSGroups[i].LastModifiedUser = 0, ""
	}
	for i := range st.IPSets {
		st.IPSets[i].LastModifiedTime, st.IPSets[i].LastModifiedUser = 0, ""
	}
	// Only the order of sections (and of rules in a section) means something.
	slices.SortFunc(st.NSGroups, func(a, b nsxclient.NSGroup) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(st.IPSets, func(a, b nsxclient.IPSet) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(st.ExternalGroups, func(a, b plan.ExternalGroup) int { return strings.Compare(a.ID, b.ID) })
	b, _ := json.MarshalIndent(st, "", " ")
	return string(b)
}

// requireCacheIsNSX checks that the cache holds what a full read of NSX finds.
func (c *cached) requireCacheIsNSX(what string) {
	c.e.t.Helper()
	full, err := apply.ReadState(c.e.ctx, c.e.client, apply.ReadOptions{ClusterID: Cluster})
	if err != nil {
		c.e.t.Fatal(err)
	}
	if got, want := comparable(c.state()), comparable(full); got != want {
		c.e.t.Fatalf("%s: the cache differs from NSX:\n%s", what, firstDiff(got, want))
	}
}

// firstDiff shows the lines around the first line where a and b differ.
func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	i := 0
	for i < len(la) && i < len(lb) && la[i] == lb[i] {
		i++
	}
	from := max(0, i-12)
	return fmt.Sprintf("cache:\n%s\nNSX:\n%s", strings.Join(la[from:min(len(la), i+4)], "\n"), strings.Join(lb[from:min(len(lb), i+4)], "\n"))
}

// FuzzCache: a backend that keeps its cache across syncs of random models — planned against the
// cache, as the operator plans syncs that Kubernetes changes trigger — holds after each sync
// exactly what a full read of NSX finds, and converges; hand-made sections inserted between
// microseg's are found by the next incremental read.
func FuzzCache(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		rng := seeded(data)
		e := newEnv(t)
		above := e.handMade("above", nsxclient.FirewallRule{Action: "ALLOW"}, nsxclient.Top())
		if _, err := e.client.CreateNSGroup(e.ctx, nsxclient.NSGroup{ManagedResource: nsxclient.ManagedResource{DisplayName: "corp"}}); err != nil {
			t.Fatal(err)
		}
		c := e.cachedBackend(manager.Config{Anchor: above.ID})
		mode := nsxsync.ReadFull
		for i := range 5 {
			m := randomModel(rng)
			res := c.sync(m, mode)
			if !res.Converged {
				t.Fatalf("sync %d (%s) did not converge", i, mode)
			}
			c.requireCacheIsNSX(fmt.Sprintf("after sync %d (%s)", i, mode))
			e.requireConverged(m, manager.Config{Anchor: above.ID})
			mode = nsxsync.ReadCached
			if rng.IntN(3) == 0 {
				e.intrude(rng)
				mode = nsxsync.ReadIncremental
			}
		}
	})
}

// advance moves the backend's clock by one resync period.
func (c *cached) advance() { c.now = c.now.Add(5 * time.Minute) }

func TestCachedDriftIsRepaired(t *testing.T) {
	m := referenceModel()
	// IP sets too, so that their drift is covered.
	ips := IPSetGroup("10.7.0.1", "10.7.0.2")
	m.Sections[1] = Section(m.Sections[1].Key, Rule("allow-b/in/0", ir.ActionAllow, ir.DirectionIn, gB, From(Ref(gA), Ref(ips)), TCP("80")))
	m = Model(m.Sections, append(m.Groups, ips)...)
	for _, tc := range []struct {
		name string
		// group: the drift is in a group, found by the rolling verification within the window;
		// otherwise it is in a section, found by the next incremental read.
		group bool
		drift func(e *env, st plan.State)
	}{
		{"rule edited", false, func(e *env, st plan.State) {
			s := ownedSections(st)[1]
			r := s.Rules[0]
			r.Action = "DROP"
			if _, err := e.client.UpdateRule(e.ctx, s.Section.ID, r); err != nil {
				t.Fatal(err)
			}
		}},
		{"section deleted", false, func(e *env, st plan.State) {
			if err := e.client.DeleteSection(e.ctx, ownedSections(st)[2].Section.ID, true); err != nil {
				t.Fatal(err)
			}
		}},
		{"section moved to the top and renamed", false, func(e *env, st plan.State) {
			s := ownedSections(st)[3].Section
			s.DisplayName = "renamed"
			if _, err := e.client.ReviseSection(e.ctx, s, nsxclient.Top()); err != nil {
				t.Fatal(err)
			}
		}},
		{"rule added by hand", false, func(e *env, st plan.State) {
			s := ownedSections(st)[0].Section
			if _, err := e.client.CreateRuleAtLatestRevision(e.ctx, s.ID, nsxclient.FirewallRule{DisplayName: "sneaky", Action: "ALLOW"}, nsxclient.Top()); err != nil {
				t.Fatal(err)
			}
		}},
		{"group deleted", true, func(e *env, st plan.State) {
			if err := e.client.DeleteNSGroup(e.ctx, st.NSGroups[0].ID, true); err != nil {
				t.Fatal(err)
			}
		}},
		{"group criteria edited", true, func(e *env, st plan.State) {
			g := st.NSGroups[1]
			g.MembershipCriteria[0].Tag = "evil"
			if _, err := e.client.UpdateNSGroup(e.ctx, g); err != nil {
				t.Fatal(err)
			}
		}},
		{"IP set edited", true, func(e *env, st plan.State) {
			s := st.IPSets[0]
			s.IPAddresses = append(s.IPAddresses, "10.66.0.1")
			if _, err := e.client.UpdateIPSet(e.ctx, s); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.cachedBackend(manager.Config{})
			c.sync(m, nsxsync.ReadFull)
			st, err := apply.ReadState(e.ctx, e.client, apply.ReadOptions{ClusterID: Cluster})
			if err != nil {
				t.Fatal(err)
			}
			tc.drift(e, st)
			// A sync Kubernetes changes trigger plans against the cache: it does not see the drift.
			if res := c.sync(m, nsxsync.ReadCached); res.Reads != 0 || res.Writes != 0 {
				t.Fatalf("a cached sync with nothing to do read %d and wrote %d", res.Reads, res.Writes)
			}
			resyncs := 0
			for {
				c.advance()
				resyncs++
				res := c.sync(m, nsxsync.ReadIncremental)
				if res.Writes > 0 {
					break
				}
				if !tc.group || resyncs >= 12 {
					t.Fatalf("the drift was not repaired by resync %d (window 1h, period 5m)", resyncs)
				}
			}
			t.Logf("repaired at resync %d", resyncs)
			e.requireConverged(m, manager.Config{})
			c.requireCacheIsNSX("after the repair")
		})
	}
}

// TestCachedPlanOfAChangedSection: a sync planned against the cache writes a section someone else
// changed meanwhile. The stale revision (or the changed revision the rule-level check reads)
// invalidates the section, the read-back reads it fresh, and the next sync repairs what the plan
// could not know.
func TestCachedPlanOfAChangedSection(t *testing.T) {
	for _, big := range []bool{false, true} {
		t.Run(fmt.Sprintf("rule-level=%v", big), func(t *testing.T) {
			e := newEnv(t)
			c := e.cachedBackend(manager.Config{})
			var filler []ir.Rule
			if big { // a big section is changed rule by rule
				for i := range 60 {
					filler = append(filler, Rule(fmt.Sprintf("b/in/filler-%d", i), ir.ActionAllow, ir.DirectionIn, gB, From(CIDR(fmt.Sprintf("172.16.%d.0/24", i))), TCP("80")))
				}
			}
			mk := func(port string) *ir.Model {
				return Model([]ir.Section{Section("np-ingress/b", append(slices.Clone(filler),
					Rule("b/in/a", ir.ActionAllow, ir.DirectionIn, gB, From(Ref(gA)), TCP(port)),
					Rule("b/in/rest", ir.ActionDrop, ir.DirectionIn, gB))...)}, gA, gB)
			}
			c.sync(mk("80"), nsxsync.ReadFull)
			st, _ := apply.ReadState(e.ctx, e.client, apply.ReadOptions{ClusterID: Cluster})
			sec := ownedSections(st)[0].Section
			if _, err := e.client.CreateRuleAtLatestRevision(e.ctx, sec.ID, nsxclient.FirewallRule{DisplayName: "sneaky", Action: "ALLOW"}, nsxclient.Top()); err != nil {
				t.Fatal(err)
			}
			m := mk("8080")
			res := c.sync(m, nsxsync.ReadCached)
			if res.Applied.StepsDone == 0 {
				t.Fatalf("nothing was applied: %+v", res.Summary)
			}
			c.requireCacheIsNSX("after the read-back")
			if !res.Converged {
				res = c.sync(m, nsxsync.ReadIncremental)
			}
			if !res.Converged {
				t.Fatalf("not converged after a second sync: %+v", res.Summary)
			}
			e.requireConverged(m, manager.Config{})
			rules, _ := e.client.ListRules(e.ctx, sec.ID)
			if slices.ContainsFunc(rules, func(r nsxclient.FirewallRule) bool { return r.DisplayName == "sneaky" }) {
				t.Fatal("the rule added by hand is still there")
			}
		})
	}
}

// cursorSpoiler replaces the cursor of the next NSGroup list request with one NSX refuses.
type cursorSpoiler struct {
	base  http.RoundTripper
	armed atomic.Bool
	fired atomic.Int32
}

func (s *cursorSpoiler) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && r.URL.Path == "/api/v1/ns-groups" && r.URL.Query().Get("cursor") != "" && s.armed.CompareAndSwap(true, false) {
		q := r.URL.Query()
		q.Set("cursor", "expired")
		r = r.Clone(r.Context())
		r.URL.RawQuery = q.Encode()
		s.fired.Add(1)
	}
	return s.base.RoundTrip(r)
}

// TestVerificationSpreadsOverResyncsAndSurvivesARefusedCursor: with NSGroups served 2 a page, the
// rolling verification reads a few pages at each resync, keeps its cursor from one to the next,
// starts the list again when NSX refuses the cursor, and still finds a group edited in NSX within
// the window.
func TestVerificationSpreadsOverResyncsAndSurvivesARefusedCursor(t *testing.T) {
	spoiler := &cursorSpoiler{}
	e := newEnvWith(t, nsxsim.Options{NSGroupPageSize: 2}, func(base http.RoundTripper) http.RoundTripper {
		spoiler.base = base
		return spoiler
	})
	var rules []ir.Rule
	var groups []ir.Group
	for i := range 30 {
		g := TagGroup(fmt.Sprintf("app=g%d", i))
		groups = append(groups, g)
		rules = append(rules, Rule(fmt.Sprintf("g%d/in", i), ir.ActionAllow, ir.DirectionIn, g, From(Ref(gA)), TCP("80")))
	}
	m := Model([]ir.Section{Section("np-ingress/many", rules...)}, append(groups, gA)...)
	c := e.cachedBackend(manager.Config{})
	c.sync(m, nsxsync.ReadFull)
	st, _ := apply.ReadState(e.ctx, e.client, apply.ReadOptions{ClusterID: Cluster})
	// Edit the group listed last (the simulator lists NSGroups in creation order).
	g := st.NSGroups[len(st.NSGroups)-1]
	g.MembershipCriteria[0].Tag = "evil"
	if _, err := e.client.UpdateNSGroup(e.ctx, g); err != nil {
		t.Fatal(err)
	}
	spoiler.armed.Store(true)
	var perResync []int64
	for resyncs := 1; ; resyncs++ {
		c.advance()
		before := e.sim.Stats().Endpoints["GET /api/v1/ns-groups"].Calls
		res := c.sync(m, nsxsync.ReadIncremental)
		perResync = append(perResync, e.sim.Stats().Endpoints["GET /api/v1/ns-groups"].Calls-before)
		if res.Writes > 0 {
			break
		}
		if resyncs >= 12 {
			t.Fatalf("the edited group was not repaired within the window; NSGroup pages per resync: %v", perResync)
		}
	}
	if spoiler.fired.Load() != 1 {
		t.Fatal("the refused cursor was never sent: the scan did not page across resyncs")
	}
	// 31 groups, 2 a page: 16 pages (+1 restarted) over at most 10 resyncs, never all at once.
	if slices.Max(perResync) >= 16 || len(perResync) < 2 {
		t.Fatalf("NSGroup pages per resync: %v", perResync)
	}
	t.Logf("NSGroup pages per resync until the repair: %v", perResync)
	e.requireConverged(m, manager.Config{})
	c.requireCacheIsNSX("after the repair")
}
