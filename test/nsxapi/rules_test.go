package nsxapi_test

import (
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

// TestRulesCreateAtEveryPosition adds rules one at a time (with the section's revision, as NSX
// 2.4+ requires), in bulk (create_multiple), and through the AtLatestRevision helpers.
func TestRulesCreateAtEveryPosition(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		sec := try(h.c.CreateSection(ctx, layer3Section("rules"), nsxclient.Top())).must(t)

		first := allowRule("r1")
		first.Revision = sec.Revision
		r1 := try(h.c.CreateRule(ctx, sec.ID, first, nsxclient.Top())).must(t)
		if r1.ID == "" || r1.SectionID != sec.ID || r1.ResourceType != "FirewallRule" || r1.Direction != nsxclient.DirectionInOut {
			t.Errorf("created rule %+v", r1)
		}
		if s := try(h.c.GetSection(ctx, sec.ID)).must(t); s.Revision != sec.Revision+1 || s.RuleCount != 1 {
			t.Errorf("adding a rule must bump the section: revision %d, rule_count %d", s.Revision, s.RuleCount)
		}

		atLatest := func(name string, pos nsxclient.Position) *nsxclient.FirewallRule {
			t.Helper()
			return try(h.c.CreateRuleAtLatestRevision(ctx, sec.ID, allowRule(name), pos)).must(t)
		}
		r2 := atLatest("r2", nsxclient.Bottom())
		atLatest("r0", nsxclient.Top())
		atLatest("r1b", nsxclient.After(r1.ID))
		atLatest("r1a", nsxclient.Before(r1.ID))
		atLatest("r-default-position", nsxclient.Position{})

		cur := try(h.c.GetSection(ctx, sec.ID)).must(t)
		m1, m2 := allowRule("m1"), allowRule("m2")
		m1.Revision, m2.Revision = cur.Revision, cur.Revision
		bulk := try(h.c.CreateRules(ctx, sec.ID, []nsxclient.FirewallRule{m1, m2}, nsxclient.After(r2.ID))).must(t)
		equalStrings(t, "create_multiple result", ruleNames(bulk), []string{"m1", "m2"})
		try(h.c.CreateRulesAtLatestRevision(ctx, sec.ID, []nsxclient.FirewallRule{allowRule("t1"), allowRule("t2")}, nsxclient.Top())).must(t)
		try(h.c.CreateRulesAtLatestRevision(ctx, sec.ID, []nsxclient.FirewallRule{allowRule("b1")}, nsxclient.Before(bulk[1].ID))).must(t)

		h.calls.reset()
		rules := try(h.c.ListRules(ctx, sec.ID)).must(t)
		equalStrings(t, "rule order", ruleNames(rules),
			[]string{"t1", "t2", "r-default-position", "r0", "r1a", "r1", "r1b", "r2", "m1", "b1", "m2"})
		if pages := len(h.calls.to("GET /firewall/sections/{id}/rules")); pages < 3 {
			t.Errorf("11 rules at %d per page came in %d requests: the list did not page", smallPageSize, pages)
		}
		for i, r := range rules {
			if r.Priority != int64(i+1) || r.SectionID != sec.ID {
				t.Errorf("rule %s: priority %d (want %d), section %q", r.DisplayName, r.Priority, i+1, r.SectionID)
			}
		}
	})
}

// TestRuleGetUpdateReviseDelete changes one rule's every writable field, moves it, and deletes it.
func TestRuleGetUpdateReviseDelete(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		g := try(h.c.CreateNSGroup(ctx, namedGroup("clients"))).must(t)
		ipset := try(h.c.CreateIPSet(ctx, namedIPSet("nets", "10.20.0.0/16"))).must(t)
		sec := try(h.c.CreateSectionWithRules(ctx,
			withRules(layer3Section("s"), allowRule("a"), allowRule("b"), allowRule("c")), nsxclient.Top())).must(t)
		b := sec.Rules[1]

		got := try(h.c.GetRule(ctx, sec.ID, b.ID)).must(t)
		if got.DisplayName != "b" || got.Revision != 0 || got.Priority != 2 || got.IPProtocol != nsxclient.IPProtocolIPv4IPv6 {
			t.Errorf("GetRule: %+v", got)
		}

		got.Action = nsxclient.ActionDrop
		got.Direction = nsxclient.DirectionIn
		got.IPProtocol = nsxclient.IPProtocolIPv4
		got.Sources = []nsxclient.ResourceReference{groupRef(g.ID), ipv4Ref("192.0.2.0/24")}
		got.Destinations = []nsxclient.ResourceReference{{TargetType: nsxclient.TargetIPSet, TargetID: ipset.ID}}
		got.DestinationsExcluded = true
		got.Services = []nsxclient.FirewallService{nsxclient.L4PortSet(nsxclient.L4ProtocolTCP, "443", "8000-8080")}
		got.Logged, got.Notes, got.RuleTag = true, "ticket SEC-1", "microseg-abc"
		updated := try(h.c.UpdateRule(ctx, sec.ID, *got)).must(t)
		if updated.Revision != 1 || updated.ID != b.ID || updated.Priority != 2 {
			t.Errorf("UpdateRule: revision %d, id %s, priority %d", updated.Revision, updated.ID, updated.Priority)
		}
		reread := try(h.c.GetRule(ctx, sec.ID, b.ID)).must(t)
		switch {
		case reread.Action != nsxclient.ActionDrop || reread.Direction != nsxclient.DirectionIn || reread.IPProtocol != nsxclient.IPProtocolIPv4:
			t.Errorf("action/direction/protocol: %+v", reread)
		case len(reread.Sources) != 2 || reread.Sources[0].TargetDisplayName != "clients" || reread.Sources[1].TargetID != "192.0.2.0/24":
			t.Errorf("sources %+v", reread.Sources)
		case len(reread.Destinations) != 1 || reread.Destinations[0].TargetDisplayName != "nets" || !reread.DestinationsExcluded:
			t.Errorf("destinations %+v (excluded %v)", reread.Destinations, reread.DestinationsExcluded)
		case len(reread.Services) != 1 || reread.Services[0].Service == nil || len(reread.Services[0].Service.DestinationPorts) != 2:
			t.Errorf("services %+v", reread.Services)
		case !reread.Logged || reread.Notes != "ticket SEC-1" || reread.RuleTag != "microseg-abc":
			t.Errorf("logged/notes/rule_tag: %+v", reread)
		}

		reread.DisplayName = "b-moved"
		moved := try(h.c.ReviseRule(ctx, sec.ID, *reread, nsxclient.After(sec.Rules[2].ID))).must(t)
		if moved.Revision != 2 || moved.Priority != 3 {
			t.Errorf("ReviseRule: revision %d, priority %d", moved.Revision, moved.Priority)
		}
		moved = try(h.c.ReviseRule(ctx, sec.ID, *moved, nsxclient.Top())).must(t)
		equalStrings(t, "after moving b to the top", ruleNames(try(h.c.ListRules(ctx, sec.ID)).must(t)), []string{"b-moved", "a", "c"})
		moved = try(h.c.ReviseRule(ctx, sec.ID, *moved, nsxclient.Before(sec.Rules[2].ID))).must(t)
		try(h.c.ReviseRule(ctx, sec.ID, *moved, nsxclient.Bottom())).must(t)
		equalStrings(t, "after moving b to the bottom", ruleNames(try(h.c.ListRules(ctx, sec.ID)).must(t)), []string{"a", "c", "b-moved"})

		mustOK(t, h.c.DeleteRule(ctx, sec.ID, b.ID))
		if _, err := h.c.GetRule(ctx, sec.ID, b.ID); !nsxclient.IsNotFound(err) {
			t.Errorf("deleted rule: want ErrNotFound, got %v", err)
		}
		if err := h.c.DeleteRule(ctx, sec.ID, b.ID); !nsxclient.IsNotFound(err) {
			t.Errorf("deleting twice: want ErrNotFound, got %v", err)
		}
		if s := try(h.c.GetSection(ctx, sec.ID)).must(t); s.RuleCount != 2 {
			t.Errorf("rule_count %d, want 2", s.RuleCount)
		}
	})
}

// namedIPSet is an IPSet body.
func namedIPSet(name string, addresses ...string) nsxclient.IPSet {
	s := nsxclient.IPSet{IPAddresses: addresses}
	s.DisplayName = name
	return s
}
