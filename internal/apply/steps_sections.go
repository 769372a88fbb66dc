package apply

import (
	"context"

	"github.com/microseg/microseg/internal/plan"
	"github.com/microseg/microseg/nsxclient"
)

// Section steps: create, rewrite, move and delete firewall sections.

func (a *applier) createSection(ctx context.Context, s *plan.Step) error {
	body := *s.Section
	rules, err := a.ids.rules(s.Rules)
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
	if len(rules) > 0 && len(rules) <= a.opts.CreateWithRulesLimit {
		a.calls.write()
		out, err := a.c.CreateSectionWithRules(ctx, nsxclient.FirewallSectionRuleList{FirewallSection: body, Rules: rules}, pos)
		if err != nil {
			return err
		}
		a.ids.set(plan.PlaceholderSection, s.Key, out.ID)
		a.sectionRev[out.ID] = out.Revision
		a.learnRules(out.Rules)
		a.cache.learnSection(out.FirewallSection, out.Rules, true, placed)
		return nil
	}
	a.calls.write()
	out, err := a.c.CreateSection(ctx, body, pos)
	if err != nil {
		return err
	}
	id := out.ID
	a.ids.set(plan.PlaceholderSection, s.Key, id)
	a.sectionRev[id] = out.Revision
	a.cache.learnSection(*out, nil, true, placed)
	if len(rules) == 0 {
		return nil
	}
	// A large section: fill it with one create_multiple (each rule carries the section revision).
	return a.retryStale(ctx, "section "+id, func() error {
		rev := a.sectionRev[id]
		withRev := make([]nsxclient.FirewallRule, len(rules))
		for i, r := range rules {
			r.Revision = rev
			withRev[i] = r
		}
		a.calls.write()
		created, err := a.c.CreateRules(ctx, id, withRev, nsxclient.Top())
		if err == nil {
			a.sectionRev[id] = rev + 1
			a.learnRules(created)
			a.cache.learnRulesAtTop(id, created)
			a.cache.learnSectionRevision(id, rev+1)
		}
		return err
	}, a.refreshSection(ctx, id))
}

func (a *applier) learnRules(rules []nsxclient.FirewallRule) {
	a.ids.learnRules(rules)
	for _, r := range rules {
		a.ruleRev[r.ID] = r.Revision
	}
}

// refreshSection re-reads a section's revision and checks it is still microseg's. It runs after a
// stale revision: the section changed under microseg, so the cache forgets its rules until they
// are read again.
func (a *applier) refreshSection(ctx context.Context, id string) func() error {
	return func() error {
		a.cache.invalidateSection(id)
		return a.readSection(ctx, id)
	}
}

// readSection reads a section's revision and checks it is still microseg's.
func (a *applier) readSection(ctx context.Context, id string) error {
	a.calls.read()
	cur, err := a.c.GetSection(ctx, id)
	if err != nil {
		return err
	}
	a.sectionRev[id] = cur.Revision
	return a.mustOwn("section", id, cur.Tags)
}

// writeSection runs UpdateSection, UpdateSectionRules and ReviseSection (with or without rules).
func (a *applier) writeSection(ctx context.Context, s *plan.Step) error {
	id := s.ID
	body := *s.Section
	body.ID = id
	withRules := s.Op == plan.OpUpdateSectionRules || s.WithRules
	var rules []nsxclient.FirewallRule
	if withRules {
		var err error
		if rules, err = a.ids.rules(s.Rules); err != nil {
			return err
		}
		for i := range rules {
			if rules[i].ID != "" {
				rules[i].Revision = revision(a.ruleRev, rules[i].ID, rules[i].Revision)
			}
		}
	}
	var pos nsxclient.Position
	var placed *plan.Position
	if s.Op == plan.OpReviseSection {
		var err error
		if pos, err = a.ids.position(s.Position); err != nil {
			return err
		}
		if placed, err = a.resolved(s.Position); err != nil {
			return err
		}
	}
	if _, ok := a.sectionRev[id]; !ok {
		a.sectionRev[id] = s.Revision
	}
	refresh := a.refreshSection(ctx, id)
	if withRules {
		refresh = func() error {
			if err := a.refreshSection(ctx, id)(); err != nil {
				return err
			}
			// Rules that stay are named by id; bring their revisions up to date, and let NSX
			// create any that someone deleted meanwhile.
			a.calls.read()
			cur, err := a.c.ListRules(ctx, id)
			if err != nil {
				return err
			}
			revs := make(map[string]int64, len(cur))
			for _, r := range cur {
				revs[r.ID] = r.Revision
			}
			for i := range rules {
				if rules[i].ID == "" {
					continue
				}
				if rev, ok := revs[rules[i].ID]; ok {
					rules[i].Revision = rev
				} else {
					rules[i].ID, rules[i].Revision = "", 0
				}
			}
			return nil
		}
	}
	return a.retryStale(ctx, "section "+id, func() error {
		body.Revision = a.sectionRev[id]
		a.calls.write()
		var (
			sec *nsxclient.FirewallSection
			out *nsxclient.FirewallSectionRuleList
			err error
		)
		list := nsxclient.FirewallSectionRuleList{FirewallSection: body, Rules: rules}
		switch {
		case s.Op == plan.OpUpdateSection:
			sec, err = a.c.UpdateSection(ctx, body)
		case s.Op == plan.OpUpdateSectionRules:
			out, err = a.c.UpdateSectionWithRules(ctx, list)
		case s.WithRules:
			out, err = a.c.ReviseSectionWithRules(ctx, list, pos)
		default:
			sec, err = a.c.ReviseSection(ctx, body, pos)
		}
		if err != nil {
			return err
		}
		if out != nil {
			sec = &out.FirewallSection
			a.learnRules(out.Rules)
			a.cache.learnSection(*sec, out.Rules, true, placed)
		} else {
			a.cache.learnSection(*sec, nil, false, placed)
		}
		a.sectionRev[id] = sec.Revision
		return nil
	}, refresh)
}

func (a *applier) deleteSection(ctx context.Context, s *plan.Step) error {
	id, err := a.ids.resolve(s.ID)
	if err != nil {
		return err
	}
	if _, _, isPlaceholder := plan.ParsePlaceholder(s.ID); !isPlaceholder {
		// A delete carries no revision: make sure the section is still microseg's.
		a.calls.read()
		cur, err := a.c.GetSection(ctx, id)
		if err != nil {
			if nsxclient.IsNotFound(err) {
				a.cache.forgetSection(id)
			}
			return ignoreNotFound(err)
		}
		if err := a.mustOwn("section", id, cur.Tags); err != nil {
			return err
		}
	}
	a.calls.write()
	if err := ignoreNotFound(a.c.DeleteSection(ctx, id, true)); err != nil {
		return err
	}
	a.cache.forgetSection(id)
	return nil
}

// Rules. Every rule write changes the section's revision by one.
