package nsxapi_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

// TestNotFoundOnEveryObjectKind: every read and write of a missing object is ErrNotFound, with
// NSX's error body and a hint, and is not retried.
func TestNotFoundOnEveryObjectKind(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		sec := try(h.c.CreateSection(ctx, layer3Section("exists"), nsxclient.Top())).must(t)
		const missing = "00000000-0000-4000-8000-000000000000"
		ghostRule := nsxclient.FirewallRule{ID: "999999", Action: nsxclient.ActionAllow}
		var ghostGroup nsxclient.NSGroup
		ghostGroup.ID = missing
		var ghostSet nsxclient.IPSet
		ghostSet.ID = missing
		ghostPort := podPort("ghost", "ls", "10.0.0.1")
		ghostPort.ID = missing
		ghostSection := layer3Section("ghost")
		ghostSection.ID = missing

		calls := map[string]func() error{
			"GetSection":                    func() error { _, err := h.c.GetSection(ctx, missing); return err },
			"UpdateSection":                 func() error { _, err := h.c.UpdateSection(ctx, ghostSection); return err },
			"ReviseSection":                 func() error { _, err := h.c.ReviseSection(ctx, ghostSection, nsxclient.Top()); return err },
			"ListSectionWithRules":          func() error { _, err := h.c.ListSectionWithRules(ctx, missing); return err },
			"UpdateSectionWithRules":        func() error { _, err := h.c.UpdateSectionWithRules(ctx, withRules(ghostSection)); return err },
			"DeleteSection":                 func() error { return h.c.DeleteSection(ctx, missing, true) },
			"ListRules":                     func() error { _, err := h.c.ListRules(ctx, missing); return err },
			"GetRule":                       func() error { _, err := h.c.GetRule(ctx, sec.ID, "999999"); return err },
			"CreateRule in missing section": func() error { _, err := h.c.CreateRule(ctx, missing, allowRule("x"), nsxclient.Top()); return err },
			"UpdateRule":                    func() error { _, err := h.c.UpdateRule(ctx, sec.ID, ghostRule); return err },
			"ReviseRule":                    func() error { _, err := h.c.ReviseRule(ctx, sec.ID, ghostRule, nsxclient.Top()); return err },
			"DeleteRule":                    func() error { return h.c.DeleteRule(ctx, sec.ID, "999999") },
			"GetNSGroup":                    func() error { _, err := h.c.GetNSGroup(ctx, missing); return err },
			"UpdateNSGroup":                 func() error { _, err := h.c.UpdateNSGroup(ctx, ghostGroup); return err },
			"AddNSGroupMembers":             func() error { _, err := h.c.AddNSGroupMembers(ctx, missing, nil); return err },
			"DeleteNSGroup":                 func() error { return h.c.DeleteNSGroup(ctx, missing, true) },
			"GetIPSet":                      func() error { _, err := h.c.GetIPSet(ctx, missing); return err },
			"UpdateIPSet":                   func() error { _, err := h.c.UpdateIPSet(ctx, ghostSet); return err },
			"RemoveIPSetAddress":            func() error { return h.c.RemoveIPSetAddress(ctx, missing, "10.0.0.1") },
			"DeleteIPSet":                   func() error { return h.c.DeleteIPSet(ctx, missing, true) },
			"GetLogicalPort":                func() error { _, err := h.c.GetLogicalPort(ctx, missing); return err },
			"UpdateLogicalPort":             func() error { _, err := h.c.UpdateLogicalPort(ctx, ghostPort); return err },
			"DeleteLogicalPort":             func() error { return h.c.DeleteLogicalPort(ctx, missing, true) },
		}
		for name, call := range calls {
			err := call()
			if !nsxclient.IsNotFound(err) {
				t.Errorf("%s: want ErrNotFound, got %v", name, err)
				continue
			}
			e := apiError(t, err)
			if e.StatusCode != 404 || e.ErrorCode != nsxclient.ErrCodeNotFound || e.Attempts != 1 ||
				!strings.Contains(err.Error(), "does not exist") || nsxclient.IsStaleRevision(err) {
				t.Errorf("%s: %+v (%v)", name, e, err)
			}
		}
	})
}

// TestValidationErrors sends bodies that break NSX's limits. They are invalid against the spec
// too, so the validators must flag them (declared below); the simulator must refuse them with
// NSX's field-validation error, which the client surfaces as an *APIError with the message.
func TestValidationErrors(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		sec := try(h.c.CreateSection(ctx, layer3Section("limits"), nsxclient.Top())).must(t)

		tooManySources := allowRule("129 sources")
		for i := range 129 {
			tooManySources.Sources = append(tooManySources.Sources, ipv4Ref(fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)))
		}
		h.expectSpecViolation("sources: 129 items exceed maxItems 128")
		longTag := allowRule("33-char rule_tag")
		longTag.RuleTag = strings.Repeat("x", 33)
		h.expectSpecViolation("rule_tag: string length 33 exceeds maxLength 32")
		tooManyTags := namedIPSet("31 tags", "10.0.0.1")
		for i := range 31 {
			tooManyTags.Tags = append(tooManyTags.Tags, nsxclient.Tag{Scope: "k", Tag: fmt.Sprint(i)})
		}
		h.expectSpecViolation("tags: 31 items exceed maxItems 30")
		// A reference to an object that does not exist is valid JSON for the spec; only NSX knows.
		dangling := allowRule("dangling group")
		dangling.Sources = []nsxclient.ResourceReference{groupRef("no-such-group")}

		cases := []struct {
			name, field string
			call        func() error
		}{
			{"rule with 129 sources", "sources", func() error {
				_, err := h.c.CreateRuleAtLatestRevision(ctx, sec.ID, tooManySources, nsxclient.Top())
				return err
			}},
			{"rule with a 33-character rule_tag", "rule_tag", func() error {
				_, err := h.c.CreateRuleAtLatestRevision(ctx, sec.ID, longTag, nsxclient.Top())
				return err
			}},
			{"IP set with 31 tags", "tags", func() error { _, err := h.c.CreateIPSet(ctx, tooManyTags); return err }},
			{"rule naming a missing group", "no-such-group", func() error {
				_, err := h.c.CreateRuleAtLatestRevision(ctx, sec.ID, dangling, nsxclient.Top())
				return err
			}},
		}
		for _, c := range cases {
			err := c.call()
			e := apiError(t, err)
			if e.StatusCode != 400 || e.ErrorCode != nsxclient.ErrCodeFieldValidation || e.Attempts != 1 {
				t.Errorf("%s: want 400 error_code 255 after one attempt, got %+v", c.name, e)
			}
			if !strings.Contains(e.Message, c.field) || !strings.Contains(err.Error(), "rejected a field") {
				t.Errorf("%s: the error does not say what is wrong: %v", c.name, err)
			}
			if nsxclient.IsStaleRevision(err) || nsxclient.IsNotFound(err) || nsxclient.IsInUse(err) {
				t.Errorf("%s: misclassified: %v", c.name, err)
			}
		}
		if s := try(h.c.GetSection(ctx, sec.ID)).must(t); s.RuleCount != 0 {
			t.Errorf("refused rules were created: rule_count %d", s.RuleCount)
		}
	})
}

// TestPositionErrors: anchors NSX cannot honour are refused, and bad positions never leave the
// client.
func TestPositionErrors(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	def := defaultSection(t, h)
	for name, pos := range map[string]nsxclient.Position{
		"after the default section":    nsxclient.After(def.ID),
		"an anchor that is no section": nsxclient.Before("no-such-section"),
	} {
		_, err := h.c.CreateSection(ctx, layer3Section("x"), pos)
		if e := apiError(t, err); e.StatusCode != 400 || e.ErrorCode != nsxclient.ErrCodeFieldValidation {
			t.Errorf("%s: %v", name, err)
		}
	}
	h.calls.reset()
	if _, err := h.c.CreateSection(ctx, layer3Section("x"), nsxclient.Before("")); err == nil || !strings.Contains(err.Error(), "anchor") {
		t.Errorf("Before(\"\"): want a client-side error about the anchor, got %v", err)
	}
	if _, err := h.c.GetSection(ctx, " "); err == nil {
		t.Error("an empty id must be refused before any request")
	}
	if n := len(h.calls.snapshot()); n != 0 {
		t.Errorf("invalid arguments reached NSX (%d requests)", n)
	}
	if err := h.c.DeleteRule(ctx, def.ID, try(h.c.ListRules(ctx, def.ID)).must(t)[0].ID); err == nil {
		t.Error("deleting the default rule must fail")
	}
	if err := h.c.DeleteSection(ctx, def.ID, true); err == nil {
		t.Error("deleting the default section must fail")
	}
}

// TestStaleRevisions: a write with the _revision of an earlier read is refused, 409 for firewall
// sections and rules, 412 for everything else, and both read as ErrStaleRevision.
func TestStaleRevisions(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		sec := try(h.c.CreateSectionWithRules(ctx, withRules(layer3Section("s"), allowRule("r")), nsxclient.Top())).must(t)
		rule := sec.Rules[0]
		group := try(h.c.CreateNSGroup(ctx, namedGroup("g"))).must(t)
		ipset := try(h.c.CreateIPSet(ctx, namedIPSet("i", "10.0.0.1"))).must(t)
		port := try(h.c.CreateLogicalPort(ctx, podPort("p", "ls", "10.0.0.2"))).must(t)

		// Another writer gets in first on each object.
		try(h.c.UpdateSection(ctx, sec.FirewallSection)).must(t)
		staleForSection := try(h.c.GetRule(ctx, sec.ID, rule.ID)).must(t)
		try(h.c.UpdateRule(ctx, sec.ID, rule)).must(t)
		try(h.c.UpdateNSGroup(ctx, *group)).must(t)
		try(h.c.UpdateIPSet(ctx, *ipset)).must(t)
		try(h.c.UpdateLogicalPort(ctx, *port)).must(t)

		staleRuleForCreate := allowRule("late")
		staleRuleForCreate.Revision = sec.Revision
		cases := []struct {
			name   string
			status int
			call   func() error
		}{
			{"PUT section", 409, func() error { _, err := h.c.UpdateSection(ctx, sec.FirewallSection); return err }},
			{"revise section", 409, func() error { _, err := h.c.ReviseSection(ctx, sec.FirewallSection, nsxclient.Top()); return err }},
			{"update_with_rules", 409, func() error { _, err := h.c.UpdateSectionWithRules(ctx, *sec); return err }},
			{"revise_with_rules", 409, func() error { _, err := h.c.ReviseSectionWithRules(ctx, *sec, nsxclient.Top()); return err }},
			{"POST rule with the section's old revision", 409, func() error {
				_, err := h.c.CreateRule(ctx, sec.ID, staleRuleForCreate, nsxclient.Top())
				return err
			}},
			{"create_multiple with the section's old revision", 409, func() error {
				_, err := h.c.CreateRules(ctx, sec.ID, []nsxclient.FirewallRule{staleRuleForCreate}, nsxclient.Top())
				return err
			}},
			{"PUT rule", 409, func() error { _, err := h.c.UpdateRule(ctx, sec.ID, *staleForSection); return err }},
			{"revise rule", 409, func() error { _, err := h.c.ReviseRule(ctx, sec.ID, *staleForSection, nsxclient.Top()); return err }},
			{"PUT NSGroup", 412, func() error { _, err := h.c.UpdateNSGroup(ctx, *group); return err }},
			{"PUT IPSet", 412, func() error { _, err := h.c.UpdateIPSet(ctx, *ipset); return err }},
			{"PUT logical port", 412, func() error { _, err := h.c.UpdateLogicalPort(ctx, *port); return err }},
		}
		for _, c := range cases {
			err := c.call()
			if !nsxclient.IsStaleRevision(err) || !errors.Is(err, nsxclient.ErrStaleRevision) {
				t.Errorf("%s: want ErrStaleRevision, got %v", c.name, err)
				continue
			}
			if e := apiError(t, err); e.StatusCode != c.status || e.Attempts != 1 || !strings.Contains(err.Error(), "read it again") {
				t.Errorf("%s: status %d (want %d), attempts %d, message %v", c.name, e.StatusCode, c.status, e.Attempts, err)
			}
		}
	})
}

// TestCanceledContext: a call whose context is already done makes no request and says why.
func TestCanceledContext(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := h.c.ListNSGroups(ctx, nsxclient.ListNSGroupsOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("want context.Canceled, got %v", err)
	}
}
