package apply

import (
	"context"

	"github.com/microseg/microseg/internal/plan"
	"github.com/microseg/microseg/nsxclient"
)

// Rule steps: rule-level changes inside a section microseg owns.

// checkRuleSection confirms, once per apply, that the section of a rule update, move or delete
// still carries the cluster tag: those writes carry the rule's revision, not the section's, so a
// section taken over since the plan was made would not show up as a stale revision.
func (a *applier) checkRuleSection(ctx context.Context, s *plan.Step) error {
	if a.checked[s.SectionID] {
		return nil
	}
	if err := a.readSection(ctx, s.SectionID); err != nil {
		return err
	}
	if known, ok := a.cache.sectionRevision(s.SectionID); ok && known != a.sectionRev[s.SectionID] {
		// The section changed since microseg last saw it: the cache forgets its rules until they
		// are read again (the read-back does).
		a.cache.invalidateSection(s.SectionID)
	}
	a.checked[s.SectionID] = true
	return nil
}

// ruleWritten records a rule write in a section: its revision moved by one.
func (a *applier) ruleWritten(sid string) {
	a.sectionRev[sid]++
	a.cache.learnSectionRevision(sid, a.sectionRev[sid])
}

func (a *applier) sectionRevision(s *plan.Step) int64 {
	if _, ok := a.sectionRev[s.SectionID]; !ok {
		a.sectionRev[s.SectionID] = s.SectionRevision
	}
	return a.sectionRev[s.SectionID]
}

func (a *applier) createRule(ctx context.Context, s *plan.Step) error {
	sid := s.SectionID
	body, err := a.ids.rule(*s.Rule)
	if err != nil {
		return err
	}
	pos, err := a.ids.position(s.Position)
	if err != nil {
		return err
	}
	placed, err := a.resolved(s.Position)
	if err != nil {
		return err
	}
	return a.retryStale(ctx, "section "+sid, func() error {
		rev := a.sectionRevision(s)
		body.Revision = rev
		a.calls.write()
		out, err := a.c.CreateRule(ctx, sid, body, pos)
		if err == nil {
			a.sectionRev[sid] = rev
			a.ruleWritten(sid)
			a.ids.set(plan.PlaceholderRule, s.RuleKey, out.ID)
			a.ruleRev[out.ID] = out.Revision
			a.cache.learnRule(sid, *out, placed)
		}
		return err
	}, a.refreshSection(ctx, sid))
}

func (a *applier) writeRule(ctx context.Context, s *plan.Step) error {
	sid, rid := s.SectionID, s.RuleID
	body, err := a.ids.rule(*s.Rule)
	if err != nil {
		return err
	}
	body.ID = rid
	var pos nsxclient.Position
	var placed *plan.Position
	if s.Op == plan.OpReviseRule {
		if pos, err = a.ids.position(s.Position); err != nil {
			return err
		}
		if placed, err = a.resolved(s.Position); err != nil {
			return err
		}
	}
	if err := a.checkRuleSection(ctx, s); err != nil {
		return err
	}
	a.sectionRevision(s)
	return a.retryStale(ctx, "rule "+rid, func() error {
		body.Revision = revision(a.ruleRev, rid, s.Revision)
		a.calls.write()
		var (
			out *nsxclient.FirewallRule
			err error
		)
		if s.Op == plan.OpReviseRule {
			out, err = a.c.ReviseRule(ctx, sid, body, pos)
		} else {
			out, err = a.c.UpdateRule(ctx, sid, body)
		}
		if err == nil {
			a.ruleRev[rid] = out.Revision
			a.ruleWritten(sid)
			a.cache.learnRule(sid, *out, placed)
		}
		return err
	}, func() error {
		if err := a.refreshSection(ctx, sid)(); err != nil {
			return err
		}
		a.calls.read()
		cur, err := a.c.GetRule(ctx, sid, rid)
		if err != nil {
			return err
		}
		a.ruleRev[rid] = cur.Revision
		return nil
	})
}

func (a *applier) deleteRule(ctx context.Context, s *plan.Step) error {
	sid := s.SectionID
	if err := a.checkRuleSection(ctx, s); err != nil {
		return err
	}
	a.sectionRevision(s)
	return a.retryStale(ctx, "section "+sid, func() error {
		a.calls.write()
		err := ignoreNotFound(a.c.DeleteRule(ctx, sid, s.RuleID))
		if err == nil {
			a.ruleWritten(sid)
			a.cache.forgetRule(sid, s.RuleID)
		}
		return err
	}, a.refreshSection(ctx, sid))
}
