package nsxsim

import (
	"slices"

	"github.com/microseg/microseg/nsxclient"
)

// handleListRules is GET /firewall/sections/{id}/rules: the rules in evaluation order, paged.
func (s *Server) handleListRules(c *call) reply {
	st := s.st
	sec, err := st.section(c.param("section-id"))
	if err != nil {
		return fail(err)
	}
	page, err := s.parsePage(c.query, 0)
	if err != nil {
		return fail(err)
	}
	want := refQuery(c)
	var all []nsxclient.FirewallRule
	for i, r := range st.rules[sec.ID] {
		if want.matches(st, r) {
			all = append(all, st.ruleView(r, i))
		}
	}
	out := paginate(all, page)
	c.rulesPaged = len(out.Results)
	for _, r := range out.Results {
		c.read(KindRule, r.ID)
	}
	return ok(out)
}

// handleCreateRule is POST /firewall/sections/{id}/rules: one rule at a position. It answers 200,
// not 201, and the body must carry the section's current _revision (NSX >= 2.4, per VMware's nsxlib, commit f5d7d1a).
func (s *Server) handleCreateRule(c *call) reply {
	st := s.st
	sec, err := st.section(c.param("section-id"))
	if err != nil {
		return fail(err)
	}
	var in nsxclient.FirewallRule
	if err := decodeBody(c, &in); err != nil {
		return fail(err)
	}
	c.rulesWritten = 1
	if err := checkFirewallRevision(KindSection, sec.ID, bodyRevision(c.body), sec.Revision); err != nil {
		return fail(err)
	}
	added, err := s.insertRules(c, sec, []nsxclient.FirewallRule{in}, "")
	if err != nil {
		return fail(err)
	}
	return ok(added[0])
}

// handleCreateMultipleRules is POST …/rules?action=create_multiple. Like nsxlib, every rule must
// carry the section's current _revision.
func (s *Server) handleCreateMultipleRules(c *call) reply {
	st := s.st
	sec, err := st.section(c.param("section-id"))
	if err != nil {
		return fail(err)
	}
	var in nsxclient.FirewallRuleList
	if err := decodeBody(c, &in); err != nil {
		return fail(err)
	}
	c.rulesWritten = len(in.Rules)
	for _, rev := range bodyRuleRevisions(c.body) {
		if err := checkFirewallRevision(KindSection, sec.ID, rev, sec.Revision); err != nil {
			return fail(err)
		}
	}
	var f fieldErrors
	f.required("rules", in.Rules == nil)
	f.maxItems("rules", len(in.Rules), maxRulesPerSection)
	if err := f.err(); err != nil {
		return fail(err)
	}
	added, err := s.insertRules(c, sec, in.Rules, "rules.")
	if err != nil {
		return fail(err)
	}
	return ok(nsxclient.FirewallRuleList{Rules: added})
}

// insertRules validates rules and inserts them as one block at the request's position.
func (s *Server) insertRules(c *call, sec *nsxclient.FirewallSection, in []nsxclient.FirewallRule, field string) ([]nsxclient.FirewallRule, *apiError) {
	st := s.st
	var f fieldErrors
	for _, r := range in {
		st.validateRule(&f, field, r, sec.SectionType)
	}
	if len(st.rules[sec.ID])+len(in) > maxRulesPerSection {
		f.add("rules: a section holds at most %d rules", maxRulesPerSection)
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	pos, err := parsePosition(c.query)
	if err != nil {
		return nil, err
	}
	at, err := placeIndex(ruleIDs(st.rules[sec.ID]), pos, st.pinnedRule(sec.ID), "")
	if err != nil {
		return nil, err
	}
	block := make([]*nsxclient.FirewallRule, len(in))
	for i, r := range in {
		block[i] = st.writableRule(r)
		st.assignRuleID(block[i], sec.ID)
	}
	st.rules[sec.ID] = slices.Insert(st.rules[sec.ID], at, block...)
	st.touch(&sec.ManagedResource, c.user)
	st.changed()
	out := make([]nsxclient.FirewallRule, len(block))
	for i, r := range block {
		out[i] = st.ruleView(r, at+i)
	}
	return out, nil
}

// handleGetRule is GET /firewall/sections/{sid}/rules/{rid}.
func (s *Server) handleGetRule(c *call) reply {
	_, i, r, err := s.st.rule(c.param("section-id"), c.param("rule-id"))
	if err != nil {
		return fail(err)
	}
	c.read(KindRule, r.ID)
	return ok(s.st.ruleView(r, i))
}

// handleGetRuleByID is GET /firewall/rules/{rid}, which needs no section id.
func (s *Server) handleGetRuleByID(c *call) reply {
	id := c.param("rule-id")
	_, i, r, err := s.st.rule(s.st.ruleSection[id], id)
	if err != nil {
		return fail(err)
	}
	c.read(KindRule, r.ID)
	return ok(s.st.ruleView(r, i))
}

// ruleEdit is a validated update of an existing rule.
type ruleEdit struct {
	sec   *nsxclient.FirewallSection
	index int
	old   *nsxclient.FirewallRule
	in    nsxclient.FirewallRule
}

// handleUpdateRule is PUT /firewall/sections/{sid}/rules/{rid}. The body carries the rule's own
// _revision from the last GET of it (the exact interplay with the section revision is
// UNCONFIRMED); stale or missing is a 409.
func (s *Server) handleUpdateRule(c *call) reply {
	e, err := s.ruleWrite(c)
	if err != nil {
		return fail(err)
	}
	return ok(s.st.ruleView(s.st.replaceRule(c, e), e.index))
}

// handleReviseRule is POST …/rules/{rid}?action=revise: update and move (default insert_top).
func (s *Server) handleReviseRule(c *call) reply {
	st := s.st
	e, err := s.ruleWrite(c)
	if err != nil {
		return fail(err)
	}
	pos, err := parsePosition(c.query)
	if err != nil {
		return fail(err)
	}
	if e.old.IsDefault {
		return fail(errBadRequest(0, moduleFirewall, "The default rule %s cannot be moved.", e.old.ID))
	}
	sid := e.sec.ID
	rest := slices.Delete(slices.Clone(st.rules[sid]), e.index, e.index+1)
	at, err := placeIndex(ruleIDs(rest), pos, st.pinnedRule(sid), e.old.ID)
	if err != nil {
		return fail(err)
	}
	upd := st.replaceRule(c, e)
	st.rules[sid] = slices.Insert(slices.Delete(st.rules[sid], e.index, e.index+1), at, upd)
	return ok(st.ruleView(upd, at))
}

// ruleWrite decodes and checks the body of a rule update.
func (s *Server) ruleWrite(c *call) (ruleEdit, *apiError) {
	st := s.st
	var e ruleEdit
	var err *apiError
	if e.sec, e.index, e.old, err = st.rule(c.param("section-id"), c.param("rule-id")); err != nil {
		return e, err
	}
	if err := decodeBody(c, &e.in); err != nil {
		return e, err
	}
	c.rulesWritten = 1
	if err := checkFirewallRevision(KindRule, e.old.ID, bodyRevision(c.body), e.old.Revision); err != nil {
		return e, err
	}
	var f fieldErrors
	st.validateRule(&f, "", e.in, e.sec.SectionType)
	return e, f.err()
}

// replaceRule stores the validated body in place of the old rule; position and id stay.
func (st *state) replaceRule(c *call, e ruleEdit) *nsxclient.FirewallRule {
	upd := st.writableRule(e.in)
	upd.ID, upd.ResourceType, upd.SectionID, upd.IsDefault = e.old.ID, e.old.ResourceType, e.old.SectionID, e.old.IsDefault
	upd.Revision = e.old.Revision + 1
	st.rules[e.sec.ID][e.index] = upd
	st.touch(&e.sec.ManagedResource, c.user)
	st.changed()
	return upd
}

// handleDeleteRule is DELETE /firewall/sections/{sid}/rules/{rid}; the default rule stays.
func (s *Server) handleDeleteRule(c *call) reply {
	st := s.st
	sec, i, r, err := st.rule(c.param("section-id"), c.param("rule-id"))
	if err != nil {
		return fail(err)
	}
	if r.IsDefault {
		return fail(errBadRequest(0, moduleFirewall, "The default rule %s cannot be deleted.", r.ID))
	}
	st.rules[sec.ID] = slices.Delete(st.rules[sec.ID], i, i+1)
	delete(st.ruleSection, r.ID)
	st.touch(&sec.ManagedResource, c.user)
	st.changed()
	return ok(nil)
}

// rule finds a rule of a section, or NSX's 404 for whichever id is unknown.
func (st *state) rule(sectionID, ruleID string) (*nsxclient.FirewallSection, int, *nsxclient.FirewallRule, *apiError) {
	sec, err := st.section(sectionID)
	if err != nil {
		if sectionID == "" {
			err = errNotFound(ruleID)
		}
		return nil, 0, nil, err
	}
	i, r := st.sectionRule(sec.ID, ruleID)
	if r == nil {
		return nil, 0, nil, errNotFound(ruleID)
	}
	return sec, i, r, nil
}

// pinnedRule is the id of the section's default rule, which stays last, or "".
func (st *state) pinnedRule(sectionID string) string {
	rules := st.rules[sectionID]
	if n := len(rules); n > 0 && rules[n-1].IsDefault {
		return rules[n-1].ID
	}
	return ""
}

func ruleIDs(rules []*nsxclient.FirewallRule) []string {
	ids := make([]string, len(rules))
	for i, r := range rules {
		ids[i] = r.ID
	}
	return ids
}
