package nsxsim

import (
	"slices"

	"github.com/microseg/microseg/nsxclient"
)

const sectionL3Redirect = "L3REDIRECT"

// enforcedOnVIF is what a manager reports for DFW sections on workload ports.
const enforcedOnVIF = "VIF"

// handleListSections is GET /firewall/sections: the sections of one layer (type, default LAYER3)
// in evaluation order, optionally filtered by a referenced object id.
func (s *Server) handleListSections(c *call) reply {
	layer := c.query.Get("type")
	if layer == "" {
		layer = nsxclient.SectionLayer3
	}
	locked, lockedSet := c.query.Get("locked"), c.query.Has("locked")
	var f fieldErrors
	f.enum("type", layer, nsxclient.SectionLayer2, nsxclient.SectionLayer3)
	if lockedSet {
		f.enum("locked", locked, "true", "false")
	}
	if err := f.err(); err != nil {
		return fail(err)
	}
	page, err := s.parsePage(c.query, 0)
	if err != nil {
		return fail(err)
	}
	st := s.st
	keep := sectionFilter(st, c)
	var all []nsxclient.FirewallSection
	for _, id := range st.sectionOrder[layer] {
		if lockedSet && st.sections[id].Locked != (locked == "true") {
			continue
		}
		if keep(id) {
			all = append(all, st.sectionView(st.sections[id]))
		}
	}
	out := paginate(all, page)
	for _, sec := range out.Results {
		c.read(KindSection, sec.ID)
	}
	return ok(out)
}

// sectionFilter implements the applied_tos / sources / destinations / services and
// search_invalid_references filters: a section matches when it or one of its rules does.
func sectionFilter(st *state, c *call) func(id string) bool {
	want := refQuery(c)
	if want.empty() {
		return func(string) bool { return true }
	}
	return func(id string) bool {
		sec := st.sections[id]
		if want.invalidOnly && st.hasInvalidRef(sec.AppliedTos) {
			return true
		}
		if !want.invalidOnly && refsHaveAnyID(sec.AppliedTos, want.appliedTos) {
			return true
		}
		for _, r := range st.rules[id] {
			if want.matches(st, r) {
				return true
			}
		}
		return false
	}
}

// handleCreateSection is POST /firewall/sections: an empty section at the requested position.
func (s *Server) handleCreateSection(c *call) reply {
	var in nsxclient.FirewallSection
	if err := decodeBody(c, &in); err != nil {
		return fail(err)
	}
	pos, perr := parsePosition(c.query)
	if perr != nil {
		return fail(perr)
	}
	sec, err := s.st.newSection(in, bodyKeys(c.body), c.user)
	if err != nil {
		return fail(err)
	}
	at, err := s.st.placeSection(sec, pos)
	if err != nil {
		return fail(err)
	}
	s.st.addSection(sec, at)
	return created(s.st.sectionView(sec))
}

// handleGetSection is GET /firewall/sections/{id}.
func (s *Server) handleGetSection(c *call) reply {
	sec, err := s.st.section(c.param("section-id"))
	if err != nil {
		return fail(err)
	}
	c.read(KindSection, sec.ID)
	return ok(s.st.sectionView(sec))
}

// handleUpdateSection is PUT /firewall/sections/{id}: attributes only, rules untouched. A stale
// or missing _revision is a 409 (vendor spec).
func (s *Server) handleUpdateSection(c *call) reply {
	sec, in, err := s.sectionWrite(c)
	if err != nil {
		return fail(err)
	}
	s.st.updateSection(sec, in, c.user)
	return ok(s.st.sectionView(sec))
}

// handleReviseSection is POST /firewall/sections/{id}?action=revise: update and move (default
// insert_top). The default section cannot move.
func (s *Server) handleReviseSection(c *call) reply {
	sec, in, err := s.sectionWrite(c)
	if err != nil {
		return fail(err)
	}
	if err := s.st.moveSection(sec, c); err != nil {
		return fail(err)
	}
	s.st.updateSection(sec, in, c.user)
	return ok(s.st.sectionView(sec))
}

// sectionWrite decodes and checks the body of a section update: revision, fields, immutables.
func (s *Server) sectionWrite(c *call) (*nsxclient.FirewallSection, nsxclient.FirewallSection, *apiError) {
	var in nsxclient.FirewallSection
	sec, err := s.st.section(c.param("section-id"))
	if err != nil {
		return nil, in, err
	}
	if err := decodeBody(c, &in); err != nil {
		return nil, in, err
	}
	if err := checkFirewallRevision(KindSection, sec.ID, bodyRevision(c.body), sec.Revision); err != nil {
		return nil, in, err
	}
	if err := s.st.validateSectionUpdate(sec, in, bodyKeys(c.body)); err != nil {
		return nil, in, err
	}
	return sec, in, nil
}

// moveSection applies the position parameters of a revise to an existing section.
func (st *state) moveSection(sec *nsxclient.FirewallSection, c *call) *apiError {
	pos, err := parsePosition(c.query)
	if err != nil {
		return err
	}
	if sec.IsDefault {
		return errBadRequest(0, moduleFirewall, "The default section %s cannot be moved.", sec.ID)
	}
	order := st.sectionOrder[sec.SectionType]
	rest := slices.DeleteFunc(slices.Clone(order), func(id string) bool { return id == sec.ID })
	at, err := placeIndex(rest, pos, st.defaultSection[sec.SectionType], sec.ID)
	if err != nil {
		return err
	}
	st.sectionOrder[sec.SectionType] = slices.Insert(rest, at, sec.ID)
	return nil
}

// handleDeleteSection is DELETE /firewall/sections/{id}?cascade=. A section with rules needs
// cascade=true; without it NSX refuses (the code is UNCONFIRMED: we answer 400
// with the in-use error 500030). The default section cannot be deleted.
func (s *Server) handleDeleteSection(c *call) reply {
	st := s.st
	sec, err := st.section(c.param("section-id"))
	if err != nil {
		return fail(err)
	}
	if sec.IsDefault {
		return fail(errBadRequest(0, moduleFirewall, "The default section %s cannot be deleted.", sec.ID))
	}
	if len(st.rules[sec.ID]) > 0 && c.query.Get("cascade") != "true" {
		return fail(errInUse(KindSection, sec.ID, "it has rules; delete with cascade=true"))
	}
	for _, r := range st.rules[sec.ID] {
		delete(st.ruleSection, r.ID)
	}
	delete(st.rules, sec.ID)
	delete(st.sections, sec.ID)
	st.sectionOrder[sec.SectionType] = slices.DeleteFunc(st.sectionOrder[sec.SectionType], func(id string) bool { return id == sec.ID })
	st.changed()
	return ok(nil)
}

// section finds a section or returns NSX's 404.
func (st *state) section(id string) (*nsxclient.FirewallSection, *apiError) {
	sec, found := st.sections[id]
	if !found {
		return nil, errNotFound(id)
	}
	return sec, nil
}

func checkFirewallRevision(kind, id string, got *int64, want int64) *apiError {
	if got == nil || *got != want {
		return errStaleFirewall(kind, id, got, want)
	}
	return nil
}

// validateSectionFields checks what a client may write on a section.
func (st *state) validateSectionFields(f *fieldErrors, in nsxclient.FirewallSection, keys map[string]bool) {
	f.managed(&in.ManagedResource)
	f.required("section_type", in.SectionType == "")
	f.enum("section_type", in.SectionType, nsxclient.SectionLayer2, nsxclient.SectionLayer3, sectionL3Redirect)
	f.required("stateful", !keys["stateful"])
	if in.SectionType == nsxclient.SectionLayer2 && in.Stateful {
		f.add("stateful: a LAYER2 section can only be stateless")
	}
	st.checkRefs(f, "applied_tos", in.AppliedTos, sectionAppliedToTypes)
}

// validateSectionUpdate also refuses changing section_type or stateful, which NSX does not allow
// in place (terraform-provider-nsxt treats both as ForceNew).
func (st *state) validateSectionUpdate(sec *nsxclient.FirewallSection, in nsxclient.FirewallSection, keys map[string]bool) *apiError {
	var f fieldErrors
	st.validateSectionFields(&f, in, keys)
	if in.SectionType != "" && in.SectionType != sec.SectionType {
		f.add("section_type cannot be changed from %s", sec.SectionType)
	}
	if keys["stateful"] && in.Stateful != sec.Stateful {
		f.add("stateful cannot be changed on an existing section")
	}
	return f.err()
}

// newSection validates a create body and builds the stored section (not yet placed).
func (st *state) newSection(in nsxclient.FirewallSection, keys map[string]bool, user string) (*nsxclient.FirewallSection, *apiError) {
	var f fieldErrors
	st.validateSectionFields(&f, in, keys)
	if err := f.err(); err != nil {
		return nil, err
	}
	sec := st.writableSection(in)
	st.stampCreate(&sec.ManagedResource, "FirewallSection", user)
	return sec, nil
}

// writableSection keeps only the client-writable fields of a section body.
func (st *state) writableSection(in nsxclient.FirewallSection) *nsxclient.FirewallSection {
	sec := &nsxclient.FirewallSection{
		SectionType: in.SectionType,
		Stateful:    in.Stateful,
		AppliedTos:  st.nameRefs(in.AppliedTos),
		TCPStrict:   in.TCPStrict,
		EnforcedOn:  enforcedOnVIF,
	}
	sec.DisplayName, sec.Description, sec.Tags = in.DisplayName, in.Description, slices.Clone(in.Tags)
	return sec
}

// placeSection returns where a new section goes in its layer; addSection then inserts it there.
func (st *state) placeSection(sec *nsxclient.FirewallSection, pos position) (int, *apiError) {
	return placeIndex(st.sectionOrder[sec.SectionType], pos, st.defaultSection[sec.SectionType], sec.ID)
}

func (st *state) addSection(sec *nsxclient.FirewallSection, at int) {
	st.sections[sec.ID] = sec
	st.sectionOrder[sec.SectionType] = slices.Insert(st.sectionOrder[sec.SectionType], at, sec.ID)
	st.changed()
}

// updateSection stores new attribute values; the rules and the position stay.
func (st *state) updateSection(sec *nsxclient.FirewallSection, in nsxclient.FirewallSection, user string) {
	upd := st.writableSection(in)
	upd.SectionType, upd.Stateful, upd.IsDefault = sec.SectionType, sec.Stateful, sec.IsDefault
	st.stampUpdate(&upd.ManagedResource, sec.ManagedResource, user)
	*sec = *upd
	st.changed()
}

// sectionView is the read form of a section: rule_count, priority and reference validity filled.
func (st *state) sectionView(sec *nsxclient.FirewallSection) nsxclient.FirewallSection {
	v := *sec
	v.AppliedTos = st.viewRefs(sec.AppliedTos)
	v.RuleCount = int64(len(st.rules[sec.ID]))
	v.Priority = int64(slices.Index(st.sectionOrder[sec.SectionType], sec.ID) + 1)
	return v
}
