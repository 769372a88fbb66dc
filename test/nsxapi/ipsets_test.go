package nsxapi_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

// TestIPSetCRUD creates, lists (across pages), replaces and deletes IP sets.
func TestIPSetCRUD(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		body := namedIPSet("partners", "10.1.0.0/16", "10.2.0.1", "10.3.0.1-10.3.0.9")
		body.Tags = []nsxclient.Tag{{Scope: "microseg/cluster", Tag: "c1"}}
		body.Description = "ipBlock of policy partners"
		created := try(h.c.CreateIPSet(ctx, body)).must(t)
		if created.ID == "" || created.ResourceType != "IPSet" || created.Revision != 0 {
			t.Errorf("created %+v", created.ManagedResource)
		}
		got := try(h.c.GetIPSet(ctx, created.ID)).must(t)
		equalStrings(t, "addresses", got.IPAddresses, body.IPAddresses)
		if got.Description != body.Description || len(got.Tags) != 1 {
			t.Errorf("read back %+v", got)
		}

		for i := range 6 {
			try(h.c.CreateIPSet(ctx, namedIPSet(fmt.Sprintf("more-%d", i), fmt.Sprintf("fd00::%d", i+1)))).must(t)
		}
		if all := try(h.c.ListIPSets(ctx)).must(t); len(all) != 7 || all[0].ID != created.ID {
			t.Errorf("listed %d IP sets (want 7, the first %s)", len(all), created.ID)
		}

		got.IPAddresses = []string{"172.16.0.0/12"}
		updated := try(h.c.UpdateIPSet(ctx, *got)).must(t)
		if updated.Revision != 1 {
			t.Errorf("revision %d after PUT", updated.Revision)
		}
		equalStrings(t, "addresses after PUT", updated.IPAddresses, []string{"172.16.0.0/12"})

		mustOK(t, h.c.DeleteIPSet(ctx, created.ID, false))
		if _, err := h.c.GetIPSet(ctx, created.ID); !nsxclient.IsNotFound(err) {
			t.Errorf("deleted IP set: want ErrNotFound, got %v", err)
		}
	})
}

// TestIPSetAddAndRemoveAddress changes one address at a time, without a revision.
func TestIPSetAddAndRemoveAddress(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		s := try(h.c.CreateIPSet(ctx, namedIPSet("dynamic", "10.0.0.1"))).must(t)
		mustOK(t, h.c.AddIPSetAddress(ctx, s.ID, "10.0.0.2"))
		mustOK(t, h.c.AddIPSetAddress(ctx, s.ID, "10.0.1.0/24"))
		mustOK(t, h.c.AddIPSetAddress(ctx, s.ID, "10.0.0.2")) // a set: no duplicate
		got := try(h.c.GetIPSet(ctx, s.ID)).must(t)
		equalStrings(t, "after add_ip", got.IPAddresses, []string{"10.0.0.1", "10.0.0.2", "10.0.1.0/24"})
		if got.Revision != 3 {
			t.Errorf("revision %d after three add_ip", got.Revision)
		}
		mustOK(t, h.c.RemoveIPSetAddress(ctx, s.ID, "10.0.0.1"))
		mustOK(t, h.c.RemoveIPSetAddress(ctx, s.ID, "10.9.9.9")) // absent: a no-op
		equalStrings(t, "after remove_ip", try(h.c.GetIPSet(ctx, s.ID)).must(t).IPAddresses, []string{"10.0.0.2", "10.0.1.0/24"})

		err := h.c.AddIPSetAddress(ctx, s.ID, "fd00::1")
		if e := apiError(t, err); e.StatusCode != 400 || e.ErrorCode != nsxclient.ErrCodeFieldValidation {
			t.Errorf("mixing IPv4 and IPv6: %v", err)
		}
		if err := h.c.AddIPSetAddress(ctx, "no-such-set", "10.0.0.3"); !nsxclient.IsNotFound(err) {
			t.Errorf("add_ip on a missing set: want ErrNotFound, got %v", err)
		}
	})
}

// TestIPSetInUse: an IP set a group or a rule names is refused without force.
func TestIPSetInUse(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		inGroup := try(h.c.CreateIPSet(ctx, namedIPSet("in-group", "10.6.0.0/24"))).must(t)
		inRule := try(h.c.CreateIPSet(ctx, namedIPSet("in-rule", "10.7.0.0/24"))).must(t)
		g := namedGroup("holder")
		g.Members = []nsxclient.NSGroupExpression{nsxclient.StaticMember(nsxclient.TargetIPSet, inGroup.ID)}
		group := try(h.c.CreateNSGroup(ctx, g)).must(t)
		r := allowRule("to-set")
		r.Destinations = []nsxclient.ResourceReference{{TargetType: nsxclient.TargetIPSet, TargetID: inRule.ID}}
		sec := try(h.c.CreateSectionWithRules(ctx, withRules(layer3Section("s"), r), nsxclient.Top())).must(t)

		for _, id := range []string{inGroup.ID, inRule.ID} {
			err := h.c.DeleteIPSet(ctx, id, false)
			if !nsxclient.IsInUse(err) {
				t.Fatalf("deleting referenced IP set %s: want ErrInUse, got %v", id, err)
			}
			try(h.c.GetIPSet(ctx, id)).must(t)
			mustOK(t, h.c.DeleteIPSet(ctx, id, true))
		}
		assertInvalidRef(t, "rule destination", try(h.c.GetRule(ctx, sec.ID, sec.Rules[0].ID)).must(t).Destinations, inRule.ID)
		if got := try(h.c.ListNSGroupEffectiveIPAddressMembers(ctx, group.ID)).must(t); slices.Contains(got, "10.6.0.0/24") {
			t.Errorf("a force-deleted IP set still contributes addresses: %q", got)
		}
	})
}
