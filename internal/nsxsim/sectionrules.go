package nsxsim

import "github.com/microseg/microseg/nsxclient"

// The *_with_rules actions read or write a section together with all its rules.

// handleCreateSectionWithRules is POST /firewall/sections?action=create_with_rules (201).
func (s *Server) handleCreateSectionWithRules(c *call) reply {
	st := s.st
	var in nsxclient.FirewallSectionRuleList
	if err := decodeBody(c, &in); err != nil {
		return fail(err)
	}
	c.rulesWritten = len(in.Rules)
	pos, err := parsePosition(c.query)
	if err != nil {
		return fail(err)
	}
	var f fieldErrors
	st.validateSectionFields(&f, in.FirewallSection, bodyKeys(c.body))
	st.validateRuleList(&f, in)
	if err := f.err(); err != nil {
		return fail(err)
	}
	sec, err := st.newSection(in.FirewallSection, bodyKeys(c.body), c.user)
	if err != nil {
		return fail(err)
	}
	at, err := st.placeSection(sec, pos)
	if err != nil {
		return fail(err)
	}
	st.addSection(sec, at)
	rules := make([]*nsxclient.FirewallRule, len(in.Rules))
	for i, r := range in.Rules {
		rules[i] = st.writableRule(r)
		st.assignRuleID(rules[i], sec.ID)
	}
	st.rules[sec.ID] = rules
	return created(st.sectionRuleList(sec))
}

// handleUpdateWithRules is POST /firewall/sections/{id}?action=update_with_rules: new section
// attributes and a replacement rule list. Rules that carry the id of one of the section's rules
// keep that id; rules without a known id get new ids; rules left out are deleted (the semantics
// terraform-provider-nsxt relies on; UNCONFIRMED in the spec text). An id that
// belongs to no rule of this section is treated as absent (a new id is assigned).
func (s *Server) handleUpdateWithRules(c *call) reply {
	sec, in, err := s.withRulesWrite(c)
	if err != nil {
		return fail(err)
	}
	s.st.replaceSectionRules(c, sec, in)
	return ok(s.st.sectionRuleList(sec))
}

// handleReviseWithRules is update_with_rules plus a move (position parameters).
func (s *Server) handleReviseWithRules(c *call) reply {
	sec, in, err := s.withRulesWrite(c)
	if err != nil {
		return fail(err)
	}
	if err := s.st.moveSection(sec, c); err != nil {
		return fail(err)
	}
	s.st.replaceSectionRules(c, sec, in)
	return ok(s.st.sectionRuleList(sec))
}

// handleListWithRules is POST /firewall/sections/{id}?action=list_with_rules (a read, no body).
func (s *Server) handleListWithRules(c *call) reply {
	sec, err := s.st.section(c.param("section-id"))
	if err != nil {
		return fail(err)
	}
	out := s.st.sectionRuleList(sec)
	c.rulesBulk = len(out.Rules)
	c.read(KindSection, sec.ID)
	for _, r := range out.Rules {
		c.read(KindRule, r.ID)
	}
	return ok(out)
}

// withRulesWrite decodes and checks an update_with_rules / revise_with_rules body.
func (s *Server) withRulesWrite(c *call) (*nsxclient.FirewallSection, nsxclient.FirewallSectionRuleList, *apiError) {
	st := s.st
	var in nsxclient.FirewallSectionRuleList
	sec, err := st.section(c.param("section-id"))
	if err != nil {
		return nil, in, err
	}
	if err := decodeBody(c, &in); err != nil {
		return nil, in, err
	}
	c.rulesWritten = len(in.Rules)
	if err := checkFirewallRevision(KindSection, sec.ID, bodyRevision(c.body), sec.Revision); err != nil {
		return nil, in, err
	}
	keys := bodyKeys(c.body)
	if err := st.validateSectionUpdate(sec, in.FirewallSection, keys); err != nil {
		return nil, in, err
	}
	var f fieldErrors
	st.validateRuleList(&f, in)
	if err := f.err(); err != nil {
		return nil, in, err
	}
	if err := st.checkDefaultRuleLast(sec, in.Rules); err != nil {
		return nil, in, err
	}
	return sec, in, nil
}

// validateRuleList checks the rules of a FirewallSectionRuleList body (required, at most 1000).
func (st *state) validateRuleList(f *fieldErrors, in nsxclient.FirewallSectionRuleList) {
	f.required("rules", in.Rules == nil)
	f.maxItems("rules", len(in.Rules), maxRulesPerSection)
	for _, r := range in.Rules {
		st.validateRule(f, "rules.", r, in.SectionType)
	}
}

// checkDefaultRuleLast enforces, for a default section, that the body keeps the default rule (by
// id) as its last rule: a real manager answers 400/100077 "Default rule found at invalid position"
// otherwise (terraform-provider-nsxt issue 153), and the default rule cannot be deleted.
func (st *state) checkDefaultRuleLast(sec *nsxclient.FirewallSection, rules []nsxclient.FirewallRule) *apiError {
	pinned := st.pinnedRule(sec.ID)
	if pinned == "" {
		return nil
	}
	for i, r := range rules {
		if r.ID == pinned && i == len(rules)-1 {
			return nil
		}
	}
	return errBadRequest(errCodeDefaultRulePosition, moduleFirewall,
		"Default rule found at invalid position: %s, should be at end of list", sec.ID)
}

// replaceSectionRules stores the section attributes and the new rule list of a validated body.
func (st *state) replaceSectionRules(c *call, sec *nsxclient.FirewallSection, in nsxclient.FirewallSectionRuleList) {
	old := map[string]*nsxclient.FirewallRule{}
	for _, r := range st.rules[sec.ID] {
		old[r.ID] = r
	}
	rules := make([]*nsxclient.FirewallRule, len(in.Rules))
	for i, r := range in.Rules {
		upd := st.writableRule(r)
		if prev, kept := old[r.ID]; kept {
			delete(old, r.ID) // a repeated id gets a new id the second time
			upd.ID, upd.ResourceType, upd.SectionID, upd.IsDefault = prev.ID, prev.ResourceType, prev.SectionID, prev.IsDefault
			upd.Revision = prev.Revision + 1
		} else {
			st.assignRuleID(upd, sec.ID)
		}
		rules[i] = upd
	}
	for id := range old {
		delete(st.ruleSection, id)
	}
	st.rules[sec.ID] = rules
	st.updateSection(sec, in.FirewallSection, c.user) // bumps the section revision once
}

// sectionRuleList is the read form of a section with its rules.
func (st *state) sectionRuleList(sec *nsxclient.FirewallSection) nsxclient.FirewallSectionRuleList {
	out := nsxclient.FirewallSectionRuleList{FirewallSection: st.sectionView(sec), Rules: st.ruleViews(sec.ID)}
	out.ResourceType = "FirewallSectionRuleList" // as in the vendor's example responses
	return out
}
