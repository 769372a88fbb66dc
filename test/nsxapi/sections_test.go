package nsxapi_test

import (
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

const defaultL3Section = "Default Layer3 Section"

// TestSectionsCreateAtEveryPosition places sections with every position the API offers and
// checks the resulting evaluation order, read back page by page.
func TestSectionsCreateAtEveryPosition(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		create := func(name string, pos nsxclient.Position) *nsxclient.FirewallSection {
			t.Helper()
			return try(h.c.CreateSection(ctx, layer3Section(name), pos)).must(t)
		}
		s1 := create("s1", nsxclient.Top())
		create("s2", nsxclient.Position{}) // the zero Position is NSX's default, insert_top
		s3 := create("s3", nsxclient.Bottom())
		create("s4", nsxclient.Before(s1.ID))
		create("s5", nsxclient.After(s1.ID))
		try(h.c.CreateSectionWithRules(ctx, withRules(layer3Section("s6"), allowRule("r")), nsxclient.After(s3.ID))).must(t)
		try(h.c.CreateSectionWithRules(ctx, withRules(layer3Section("s7")), nsxclient.Top())).must(t)
		def := defaultSection(t, h)
		create("s8", nsxclient.Before(def.ID)) // just above the default section, like Bottom

		want := []string{"s7", "s2", "s4", "s1", "s5", "s3", "s6", "s8", defaultL3Section}
		h.calls.reset()
		got := try(h.c.ListSections(ctx, nsxclient.ListSectionsOptions{PageSize: 2})).must(t)
		equalStrings(t, "sections in evaluation order", sectionNames(got), want)
		if pages := len(h.calls.to("GET /firewall/sections")); pages != 5 {
			t.Errorf("listing 9 sections 2 per page took %d requests, want 5", pages)
		}
		for i, s := range got {
			if s.Priority != int64(i+1) {
				t.Errorf("section %s: priority %d, want %d (its position)", s.DisplayName, s.Priority, i+1)
			}
		}
	})
}

// TestSectionGetReturnsWhatWasCreated checks every field the client writes and the server-owned
// ones the simulator fills in.
func TestSectionGetReturnsWhatWasCreated(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		g := try(h.c.CreateNSGroup(ctx, namedGroup("web"))).must(t)
		body := layer3Section("web-ingress")
		body.Description = "managed by microseg"
		body.Tags = []nsxclient.Tag{{Scope: "microseg/cluster", Tag: "c1"}, {Scope: "microseg/key", Tag: "ns/web"}}
		body.AppliedTos = []nsxclient.ResourceReference{groupRef(g.ID)}
		body.TCPStrict = true
		created := try(h.c.CreateSection(ctx, body, nsxclient.Top())).must(t)

		got := try(h.c.GetSection(ctx, created.ID)).must(t)
		switch {
		case got.ID != created.ID || got.DisplayName != "web-ingress" || got.Description != "managed by microseg":
			t.Errorf("identity fields: %+v", got.ManagedResource)
		case got.SectionType != nsxclient.SectionLayer3 || !got.Stateful || !got.TCPStrict:
			t.Errorf("type fields: %+v", got)
		case got.Revision != 0 || got.ResourceType != "FirewallSection" || got.CreateUser != testUser || got.CreateTime == 0:
			t.Errorf("server-owned fields: %+v", got.ManagedResource)
		case len(got.Tags) != 2 || got.Tags[1] != body.Tags[1]:
			t.Errorf("tags %+v", got.Tags)
		case len(got.AppliedTos) != 1 || got.AppliedTos[0].TargetID != g.ID || got.AppliedTos[0].TargetDisplayName != "web" ||
			got.AppliedTos[0].IsValid == nil || !*got.AppliedTos[0].IsValid:
			t.Errorf("applied_tos %+v", got.AppliedTos)
		case got.RuleCount != 0 || got.Priority != 1 || got.IsDefault:
			t.Errorf("rule_count %d, priority %d, is_default %v", got.RuleCount, got.Priority, got.IsDefault)
		}
	})
}

// TestSectionUpdateAndRevise changes a section in place (PUT) and moves it (revise).
func TestSectionUpdateAndRevise(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		a := try(h.c.CreateSection(ctx, layer3Section("a"), nsxclient.Top())).must(t)
		b := try(h.c.CreateSection(ctx, layer3Section("b"), nsxclient.Top())).must(t)
		c := try(h.c.CreateSection(ctx, layer3Section("c"), nsxclient.Bottom())).must(t)
		order := func() []string {
			return sectionNames(try(h.c.ListSections(ctx, nsxclient.ListSectionsOptions{})).must(t))
		}
		equalStrings(t, "initial order", order(), []string{"b", "a", "c", defaultL3Section})

		a.DisplayName, a.Description = "a2", "renamed"
		a.Tags = []nsxclient.Tag{{Scope: "owner", Tag: "microseg"}}
		updated := try(h.c.UpdateSection(ctx, *a)).must(t)
		if updated.Revision != 1 || updated.DisplayName != "a2" || len(updated.Tags) != 1 {
			t.Errorf("after PUT: revision %d, name %q, tags %v", updated.Revision, updated.DisplayName, updated.Tags)
		}
		equalStrings(t, "PUT does not move", order(), []string{"b", "a2", "c", defaultL3Section})

		moved := try(h.c.ReviseSection(ctx, *updated, nsxclient.After(c.ID))).must(t)
		if moved.Revision != 2 {
			t.Errorf("revise: revision %d, want 2", moved.Revision)
		}
		equalStrings(t, "revise after c", order(), []string{"b", "c", "a2", defaultL3Section})

		moved.Description = "top"
		moved = try(h.c.ReviseSection(ctx, *moved, nsxclient.Before(b.ID))).must(t)
		equalStrings(t, "revise before b", order(), []string{"a2", "b", "c", defaultL3Section})

		moved = try(h.c.ReviseSection(ctx, *moved, nsxclient.Bottom())).must(t)
		equalStrings(t, "revise to the bottom", order(), []string{"b", "c", "a2", defaultL3Section})

		try(h.c.ReviseSection(ctx, *moved, nsxclient.Position{})).must(t)
		equalStrings(t, "revise with the zero Position moves to the top", order(), []string{"a2", "b", "c", defaultL3Section})
		if got := try(h.c.GetSection(ctx, a.ID)).must(t); got.Description != "top" || got.Revision != 5 {
			t.Errorf("after four writes: description %q, revision %d", got.Description, got.Revision)
		}
	})
}

// TestSectionWithRulesActions covers create_with_rules, list_with_rules, update_with_rules and
// revise_with_rules, in particular that rules kept by id keep their id.
func TestSectionWithRulesActions(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		other := try(h.c.CreateSection(ctx, layer3Section("other"), nsxclient.Top())).must(t)
		created := try(h.c.CreateSectionWithRules(ctx,
			withRules(layer3Section("bulk"), allowRule("r1"), allowRule("r2"), allowRule("r3")), nsxclient.Bottom())).must(t)
		if created.RuleCount != 3 || len(created.Rules) != 3 {
			t.Fatalf("create_with_rules: rule_count %d, %d rules", created.RuleCount, len(created.Rules))
		}
		read := try(h.c.ListSectionWithRules(ctx, created.ID)).must(t)
		equalStrings(t, "list_with_rules ids", ruleIDs(read.Rules), ruleIDs(created.Rules))
		equalStrings(t, "list_with_rules names", ruleNames(read.Rules), []string{"r1", "r2", "r3"})
		paged := try(h.c.ListRules(ctx, created.ID)).must(t)
		equalStrings(t, "paged rules agree with list_with_rules", ruleIDs(paged), ruleIDs(read.Rules))

		// Keep r1 (changed) and r3, drop r2, add r4 between them.
		r1, r2, r3 := read.Rules[0], read.Rules[1], read.Rules[2]
		r1.Action = nsxclient.ActionDrop
		body := withRules(read.FirewallSection, r1, allowRule("r4"), r3)
		body.Description = "replaced"
		updated := try(h.c.UpdateSectionWithRules(ctx, body)).must(t)
		equalStrings(t, "names after update_with_rules", ruleNames(updated.Rules), []string{"r1", "r4", "r3"})
		if updated.Rules[0].ID != r1.ID || updated.Rules[2].ID != r3.ID {
			t.Errorf("kept rules lost their ids: %q, want %s and %s kept", ruleIDs(updated.Rules), r1.ID, r3.ID)
		}
		if id := updated.Rules[1].ID; id == "" || id == r2.ID || id == r1.ID || id == r3.ID {
			t.Errorf("new rule id %q must be fresh", id)
		}
		if updated.Rules[0].Action != nsxclient.ActionDrop || updated.Description != "replaced" || updated.Revision != read.Revision+1 {
			t.Errorf("update_with_rules result: action %s, description %q, revision %d", updated.Rules[0].Action, updated.Description, updated.Revision)
		}
		_, err := h.c.GetRule(ctx, created.ID, r2.ID)
		if !nsxclient.IsNotFound(err) {
			t.Errorf("the dropped rule must be gone: %v", err)
		}

		// revise_with_rules: the same replacement semantics plus a move.
		revised := try(h.c.ReviseSectionWithRules(ctx,
			withRules(updated.FirewallSection, updated.Rules[2], updated.Rules[0]), nsxclient.Before(other.ID))).must(t)
		equalStrings(t, "rules after revise_with_rules", ruleIDs(revised.Rules), []string{r3.ID, r1.ID})
		equalStrings(t, "sections after revise_with_rules",
			sectionNames(try(h.c.ListSections(ctx, nsxclient.ListSectionsOptions{})).must(t)),
			[]string{"bulk", "other", defaultL3Section})
		if s := try(h.c.GetSection(ctx, created.ID)).must(t); s.RuleCount != 2 {
			t.Errorf("rule_count %d after revise_with_rules, want 2", s.RuleCount)
		}
	})
}

// TestSectionDelete needs cascade for a section that has rules.
func TestSectionDelete(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		full := try(h.c.CreateSectionWithRules(ctx, withRules(layer3Section("full"), allowRule("r")), nsxclient.Top())).must(t)
		empty := try(h.c.CreateSection(ctx, layer3Section("empty"), nsxclient.Top())).must(t)

		err := h.c.DeleteSection(ctx, full.ID, false)
		if !nsxclient.IsInUse(err) {
			t.Fatalf("deleting a section with rules without cascade: want ErrInUse, got %v", err)
		}
		try(h.c.GetSection(ctx, full.ID)).must(t)

		mustOK(t, h.c.DeleteSection(ctx, full.ID, true))
		mustOK(t, h.c.DeleteSection(ctx, empty.ID, false))
		for _, id := range []string{full.ID, empty.ID} {
			if _, err := h.c.GetSection(ctx, id); !nsxclient.IsNotFound(err) {
				t.Errorf("section %s after delete: want ErrNotFound, got %v", id, err)
			}
		}
		if _, err := h.c.GetRule(ctx, full.ID, full.Rules[0].ID); !nsxclient.IsNotFound(err) {
			t.Errorf("rule of a cascade-deleted section: want ErrNotFound, got %v", err)
		}
		if err := h.c.DeleteSection(ctx, empty.ID, false); !nsxclient.IsNotFound(err) {
			t.Errorf("deleting twice: want ErrNotFound (callers treat it as done), got %v", err)
		}
		equalStrings(t, "sections left", sectionNames(try(h.c.ListSections(ctx, nsxclient.ListSectionsOptions{})).must(t)),
			[]string{defaultL3Section})
	})
}

// TestSectionListFilters checks the reference filters a reconciler uses before deleting a group,
// and the section type filter.
func TestSectionListFilters(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		g1 := try(h.c.CreateNSGroup(ctx, namedGroup("g1"))).must(t)
		g2 := try(h.c.CreateNSGroup(ctx, namedGroup("g2"))).must(t)
		applied := layer3Section("applied-to-g1")
		applied.AppliedTos = []nsxclient.ResourceReference{groupRef(g1.ID)}
		try(h.c.CreateSection(ctx, applied, nsxclient.Top())).must(t)
		fromG2 := allowRule("from-g2")
		fromG2.Sources = []nsxclient.ResourceReference{groupRef(g2.ID)}
		try(h.c.CreateSectionWithRules(ctx, withRules(layer3Section("source-g2"), fromG2), nsxclient.Bottom())).must(t)
		toG1 := allowRule("to-g1")
		toG1.Destinations = []nsxclient.ResourceReference{groupRef(g1.ID)}
		try(h.c.CreateSectionWithRules(ctx, withRules(layer3Section("destination-g1"), toG1), nsxclient.Bottom())).must(t)

		list := func(opts nsxclient.ListSectionsOptions) []string {
			return sectionNames(try(h.c.ListSections(ctx, opts)).must(t))
		}
		equalStrings(t, "applied_tos=g1", list(nsxclient.ListSectionsOptions{AppliedTos: []string{g1.ID}}), []string{"applied-to-g1"})
		equalStrings(t, "sources=g2", list(nsxclient.ListSectionsOptions{Sources: []string{g2.ID}}), []string{"source-g2"})
		equalStrings(t, "destinations=g1", list(nsxclient.ListSectionsOptions{Destinations: []string{g1.ID}}), []string{"destination-g1"})
		equalStrings(t, "LAYER2", list(nsxclient.ListSectionsOptions{Type: nsxclient.SectionLayer2}), []string{"Default Layer2 Section"})
		unlocked := false
		equalStrings(t, "locked=false", list(nsxclient.ListSectionsOptions{Locked: &unlocked}),
			[]string{"applied-to-g1", "source-g2", "destination-g1", defaultL3Section})
	})
}

// defaultSection returns NSX's default LAYER3 section, which stays last.
func defaultSection(t *testing.T, h *harness) nsxclient.FirewallSection {
	t.Helper()
	all := try(h.c.ListSections(t.Context(), nsxclient.ListSectionsOptions{})).must(t)
	last := all[len(all)-1]
	if !last.IsDefault {
		t.Fatalf("the last section %q is not the default one", last.DisplayName)
	}
	return last
}

// TestSectionListFilterWithSeveralIDs: ListSectionsOptions documents that the id filters keep
// sections referencing "one of these object ids", and the client sends them comma-separated.
func TestSectionListFilterWithSeveralIDs(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	g1 := try(h.c.CreateNSGroup(ctx, namedGroup("g1"))).must(t)
	g2 := try(h.c.CreateNSGroup(ctx, namedGroup("g2"))).must(t)
	for _, g := range []*nsxclient.NSGroup{g1, g2} {
		r := allowRule("from-" + g.DisplayName)
		r.Sources = []nsxclient.ResourceReference{groupRef(g.ID)}
		try(h.c.CreateSectionWithRules(ctx, withRules(layer3Section("source-"+g.DisplayName), r), nsxclient.Bottom())).must(t)
	}
	got := try(h.c.ListSections(ctx, nsxclient.ListSectionsOptions{Sources: []string{g1.ID, g2.ID}})).must(t)
	equalStrings(t, "sections whose rules use g1 or g2", sectionNames(got), []string{"source-g1", "source-g2"})
}

// TestSectionListLockedFilter: locked=true must keep only locked sections; the simulator has
// no way to lock one, so none.
func TestSectionListLockedFilter(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	try(h.c.CreateSection(ctx, layer3Section("unlocked"), nsxclient.Top())).must(t)
	locked := true
	got := try(h.c.ListSections(ctx, nsxclient.ListSectionsOptions{Locked: &locked})).must(t)
	equalStrings(t, "locked sections", sectionNames(got), nil)
}

// TestDefaultSectionKeepsItsRuleLast: the default section can take rules through
// update_with_rules only if its default rule stays last, and cannot move or go.
func TestDefaultSectionKeepsItsRuleLast(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		def := defaultSection(t, h)
		read := try(h.c.ListSectionWithRules(ctx, def.ID)).must(t)
		if len(read.Rules) != 1 || !read.Rules[0].IsDefault || read.Rules[0].Action != nsxclient.ActionAllow {
			t.Fatalf("default section rules: %+v", read.Rules)
		}
		defaultRule := read.Rules[0]

		_, err := h.c.UpdateSectionWithRules(ctx, withRules(read.FirewallSection, defaultRule, allowRule("after-default")))
		if e := apiError(t, err); e.StatusCode != 400 || e.ErrorCode != 100077 {
			t.Errorf("a rule after the default rule: want 400 error_code 100077, got %v", err)
		}
		updated := try(h.c.UpdateSectionWithRules(ctx, withRules(read.FirewallSection, allowRule("before-default"), defaultRule))).must(t)
		equalStrings(t, "default section rules", ruleNames(updated.Rules), []string{"before-default", "Default Layer3 Rule"})
		if updated.Rules[1].ID != defaultRule.ID {
			t.Errorf("the default rule changed id: %s → %s", defaultRule.ID, updated.Rules[1].ID)
		}
		if _, err := h.c.ReviseSection(ctx, updated.FirewallSection, nsxclient.Top()); apiError(t, err).StatusCode != 400 {
			t.Errorf("moving the default section: %v", err)
		}
		if _, err := h.c.ReviseRule(ctx, def.ID, updated.Rules[1], nsxclient.Top()); apiError(t, err).StatusCode != 400 {
			t.Errorf("moving the default rule: %v", err)
		}
	})
}
