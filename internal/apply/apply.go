package apply

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/plan"
	"github.com/microseg/microseg/nsxclient"
)

// Options configure Apply.
type Options struct {
	// ClusterID is the cluster whose objects may be written (default: the plan's).
	ClusterID string
	// MaxStaleRetries bounds how often one step is retried after a stale _revision (another
	// writer changed the object between read and write). Default 5.
	MaxStaleRetries int
	// CreateWithRulesLimit is the largest section created with create_with_rules; NSX documents
	// that call as unsupported above 50 rules with many references, so a larger section is
	// created empty and filled with create_multiple. Default 50.
	CreateWithRulesLimit int
}

func (o Options) withDefaults(p *plan.Plan) Options {
	o.ClusterID = cmp.Or(o.ClusterID, p.ClusterID)
	if o.MaxStaleRetries <= 0 {
		o.MaxStaleRetries = 5
	}
	if o.CreateWithRulesLimit <= 0 {
		o.CreateWithRulesLimit = 50
	}
	return o
}

// Result reports what Apply (or Sync) did.
type Result struct {
	// StepsDone of StepsTotal steps completed; on error, the failed step is StepsDone.
	StepsDone  int `json:"stepsDone"`
	StepsTotal int `json:"stepsTotal"`
	// Reads and Writes count client calls (a paged list counts once).
	Reads  int64 `json:"reads"`
	Writes int64 `json:"writes"`
	// StaleRetries counts writes repeated after a stale _revision.
	StaleRetries int `json:"staleRetries"`
	// Warnings are things that did not stop the apply, e.g. a group NSX refused to delete because
	// an object microseg does not own still references it.
	Warnings []string `json:"warnings,omitempty"`
}

// ErrNotOwned is returned (wrapped) when an object microseg was about to write no longer
// carries its cluster tag: someone took it over, and microseg leaves it alone.
var ErrNotOwned = errors.New("object no longer carries microseg's cluster tag, so microseg will not modify it")

// StepError is the error of the step that stopped an apply.
type StepError struct {
	Index int
	Step  plan.Step
	Err   error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("apply: step %d (%s %s %s): %v", e.Index+1, e.Step.Op, e.Step.Key, e.Step.RuleKey, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// Apply executes the plan's steps in order. It resolves placeholders to the ids NSX assigned to
// objects created by earlier steps, sends the newest _revision it knows for every write, and on a
// stale revision re-reads the object, checks that it still carries microseg's cluster tag, and
// retries (at most MaxStaleRetries times). It stops at the first error and returns what was done
// so far: plans are idempotent, so the next sync re-plans from the state NSX is then in.
func Apply(ctx context.Context, client *nsxclient.Client, p *plan.Plan, opts Options) (Result, error) {
	if opts.ClusterID != "" && p.ClusterID != "" && opts.ClusterID != p.ClusterID {
		return Result{}, fmt.Errorf("apply: the plan is for cluster %q, not %q", p.ClusterID, opts.ClusterID)
	}
	var c counter
	a := newApplier(client, p, opts, &c)
	return a.run(ctx, p)
}

// applier carries one Apply.
type applier struct {
	c     *nsxclient.Client
	opts  Options
	calls *counter
	ids   *ids
	// Newest known _revision per object id; absent means "as the plan saw it".
	sectionRev, ruleRev, groupRev map[string]int64
	// checked holds the sections whose ownership was confirmed before a rule write.
	checked map[string]bool
	res     Result
}

func newApplier(client *nsxclient.Client, p *plan.Plan, opts Options, c *counter) *applier {
	return &applier{
		c: client, opts: opts.withDefaults(p), calls: c, ids: newIDs(),
		sectionRev: map[string]int64{}, ruleRev: map[string]int64{}, groupRev: map[string]int64{},
		checked: map[string]bool{},
	}
}

func (a *applier) run(ctx context.Context, p *plan.Plan) (Result, error) {
	a.res.StepsTotal = len(p.Steps)
	defer func() { a.res.Reads, a.res.Writes = a.calls.reads.Load(), a.calls.writes.Load() }()
	for i := range p.Steps {
		if err := ctx.Err(); err != nil {
			return a.result(), &StepError{Index: i, Step: p.Steps[i], Err: err}
		}
		if err := a.step(ctx, &p.Steps[i]); err != nil {
			return a.result(), &StepError{Index: i, Step: p.Steps[i], Err: err}
		}
		a.res.StepsDone++
	}
	return a.result(), nil
}

func (a *applier) result() Result {
	r := a.res
	r.Reads, r.Writes = a.calls.reads.Load(), a.calls.writes.Load()
	r.Warnings = slices.Clone(a.res.Warnings)
	return r
}

func (a *applier) step(ctx context.Context, s *plan.Step) error {
	switch s.Op {
	case plan.OpCreateGroup:
		return a.createGroup(ctx, s)
	case plan.OpUpdateGroup:
		return a.updateGroup(ctx, s)
	case plan.OpDeleteGroup:
		return a.deleteGroup(ctx, s)
	case plan.OpCreateSection:
		return a.createSection(ctx, s)
	case plan.OpUpdateSection, plan.OpUpdateSectionRules, plan.OpReviseSection:
		return a.writeSection(ctx, s)
	case plan.OpCreateRule:
		return a.createRule(ctx, s)
	case plan.OpUpdateRule, plan.OpReviseRule:
		return a.writeRule(ctx, s)
	case plan.OpDeleteRule:
		return a.deleteRule(ctx, s)
	case plan.OpDeleteSection:
		return a.deleteSection(ctx, s)
	}
	return fmt.Errorf("apply: unknown step %q", s.Op)
}

// revision returns the newest known revision of id, or the plan's.
func revision(known map[string]int64, id string, planned int64) int64 {
	if v, ok := known[id]; ok {
		return v
	}
	return planned
}

// mustOwn refuses to touch an object without the cluster tag.
func (a *applier) mustOwn(kind, id string, tags []nsxclient.Tag) error {
	if !plan.Owned(tags, a.opts.ClusterID) {
		return fmt.Errorf("%s %s: %w", kind, id, ErrNotOwned)
	}
	return nil
}

func (a *applier) warn(format string, args ...any) {
	a.res.Warnings = append(a.res.Warnings, fmt.Sprintf(format, args...))
}

// Groups.

func (a *applier) createGroup(ctx context.Context, s *plan.Step) error {
	a.calls.write()
	if s.IPSet != nil {
		body := *s.IPSet
		out, err := a.c.CreateIPSet(ctx, body)
		if err != nil {
			return err
		}
		a.ids.set(plan.PlaceholderGroup, s.Key, out.ID)
		a.groupRev[out.ID] = out.Revision
		return nil
	}
	body, err := a.ids.nsGroup(*s.NSGroup)
	if err != nil {
		return err
	}
	out, err := a.c.CreateNSGroup(ctx, body)
	if err != nil {
		return err
	}
	a.ids.set(plan.PlaceholderGroup, s.Key, out.ID)
	a.groupRev[out.ID] = out.Revision
	return nil
}

func (a *applier) updateGroup(ctx context.Context, s *plan.Step) error {
	id := s.ID
	rev := revision(a.groupRev, id, s.Revision)
	if s.IPSet != nil {
		body := *s.IPSet
		return a.retryStale(ctx, "IPSet "+id, func() error {
			body.ID, body.Revision = id, rev
			a.calls.write()
			out, err := a.c.UpdateIPSet(ctx, body)
			if err == nil {
				a.groupRev[id] = out.Revision
			}
			return err
		}, func() error {
			a.calls.read()
			cur, err := a.c.GetIPSet(ctx, id)
			if err != nil {
				return err
			}
			rev = cur.Revision
			return a.mustOwn("IPSet", id, cur.Tags)
		})
	}
	body, err := a.ids.nsGroup(*s.NSGroup)
	if err != nil {
		return err
	}
	return a.retryStale(ctx, "NSGroup "+id, func() error {
		body.ID, body.Revision = id, rev
		a.calls.write()
		out, err := a.c.UpdateNSGroup(ctx, body)
		if err == nil {
			a.groupRev[id] = out.Revision
		}
		return err
	}, func() error {
		a.calls.read()
		cur, err := a.c.GetNSGroup(ctx, id)
		if err != nil {
			return err
		}
		rev = cur.Revision
		return a.mustOwn("NSGroup", id, cur.Tags)
	})
}

// deleteGroup deletes a group without force. A group another (foreign) object still uses stays,
// with a warning: microseg does not break references it does not own.
func (a *applier) deleteGroup(ctx context.Context, s *plan.Step) error {
	id, err := a.ids.resolve(s.ID)
	if err != nil {
		return err
	}
	ipset := s.GroupKind == ir.KindIPSet
	if _, _, isPlaceholder := plan.ParsePlaceholder(s.ID); !isPlaceholder {
		// A delete carries no revision: make sure the object is still microseg's.
		a.calls.read()
		var tags []nsxclient.Tag
		if ipset {
			cur, err := a.c.GetIPSet(ctx, id)
			if err != nil {
				return ignoreNotFound(err)
			}
			tags = cur.Tags
		} else {
			cur, err := a.c.GetNSGroup(ctx, id)
			if err != nil {
				return ignoreNotFound(err)
			}
			tags = cur.Tags
		}
		if err := a.mustOwn("group", id, tags); err != nil {
			return err
		}
	}
	a.calls.write()
	if ipset {
		err = a.c.DeleteIPSet(ctx, id, false)
	} else {
		err = a.c.DeleteNSGroup(ctx, id, false)
	}
	if nsxclient.IsInUse(err) {
		// Nothing of microseg's uses it any more (its rules were rewritten by earlier steps), so
		// the user is an object microseg does not manage: leave the group rather than break it.
		a.warn("group %s (%s) was not deleted: NSX says it is still in use: %v", id, s.Key, err)
		return nil
	}
	return ignoreNotFound(err)
}

// ignoreNotFound treats "already gone" as success for deletes.
func ignoreNotFound(err error) error {
	if nsxclient.IsNotFound(err) {
		return nil
	}
	return err
}

// Sections.

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
	if len(rules) > 0 && len(rules) <= a.opts.CreateWithRulesLimit {
		a.calls.write()
		out, err := a.c.CreateSectionWithRules(ctx, nsxclient.FirewallSectionRuleList{FirewallSection: body, Rules: rules}, pos)
		if err != nil {
			return err
		}
		a.ids.set(plan.PlaceholderSection, s.Key, out.ID)
		a.sectionRev[out.ID] = out.Revision
		a.learnRules(out.Rules)
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

// refreshSection re-reads a section's revision and checks it is still microseg's.
func (a *applier) refreshSection(ctx context.Context, id string) func() error {
	return func() error {
		a.calls.read()
		cur, err := a.c.GetSection(ctx, id)
		if err != nil {
			return err
		}
		a.sectionRev[id] = cur.Revision
		return a.mustOwn("section", id, cur.Tags)
	}
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
	if s.Op == plan.OpReviseSection {
		var err error
		if pos, err = a.ids.position(s.Position); err != nil {
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
			return ignoreNotFound(err)
		}
		if err := a.mustOwn("section", id, cur.Tags); err != nil {
			return err
		}
	}
	a.calls.write()
	return ignoreNotFound(a.c.DeleteSection(ctx, id, true))
}

// Rules. Every rule write changes the section's revision by one.

// checkRuleSection confirms, once per apply, that the section of a rule update, move or delete
// still carries the cluster tag: those writes carry the rule's revision, not the section's, so a
// section taken over since the plan was made would not show up as a stale revision.
func (a *applier) checkRuleSection(ctx context.Context, s *plan.Step) error {
	if a.checked[s.SectionID] {
		return nil
	}
	if err := a.refreshSection(ctx, s.SectionID)(); err != nil {
		return err
	}
	a.checked[s.SectionID] = true
	return nil
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
	return a.retryStale(ctx, "section "+sid, func() error {
		rev := a.sectionRevision(s)
		body.Revision = rev
		a.calls.write()
		out, err := a.c.CreateRule(ctx, sid, body, pos)
		if err == nil {
			a.sectionRev[sid] = rev + 1
			a.ids.set(plan.PlaceholderRule, s.RuleKey, out.ID)
			a.ruleRev[out.ID] = out.Revision
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
	if s.Op == plan.OpReviseRule {
		if pos, err = a.ids.position(s.Position); err != nil {
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
			a.sectionRev[sid]++
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
			a.sectionRev[sid]++
		}
		return err
	}, a.refreshSection(ctx, sid))
}
