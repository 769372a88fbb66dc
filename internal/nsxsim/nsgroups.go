package nsxsim

import (
	"slices"
	"strings"

	"github.com/microseg/microseg/nsxclient"
)

// handleListGroups is GET /ns-groups. Pages hold at most Options.NSGroupPageSize groups whatever
// page_size says ("The page size is restricted to 50 NSGroups", the vendor spec).
func (s *Server) handleListGroups(c *call) reply {
	page, err := s.parsePage(c.query, s.opts.NSGroupPageSize)
	if err != nil {
		return fail(err)
	}
	populate := c.query.Get("populate_references") == "true"
	memberTypes := splitIDs(c.query.Get("member_types"))
	all := []*nsxclient.NSGroup{}
	for _, g := range s.st.groups.list() {
		if len(memberTypes) == 0 || groupHasMemberType(g.Members, g.MembershipCriteria, memberTypes) {
			all = append(all, g)
		}
	}
	// Only the page's groups are rendered: a manager with many groups is listed in many pages.
	groups := paginate(all, page)
	out := listPage[nsxclient.NSGroup]{Results: make([]nsxclient.NSGroup, len(groups.Results)), Cursor: groups.Cursor, ResultCount: groups.ResultCount}
	for i, g := range groups.Results {
		out.Results[i] = s.st.groupView(g, populate)
		c.read(KindNSGroup, g.ID)
	}
	return ok(out)
}

// handleCreateGroup is POST /ns-groups (201).
func (s *Server) handleCreateGroup(c *call) reply {
	st := s.st
	var in nsxclient.NSGroup
	if err := decodeBody(c, &in); err != nil {
		return fail(err)
	}
	if err := st.validateGroup(in, ""); err != nil {
		return fail(err)
	}
	g := writableGroup(in)
	st.stampCreate(&g.ManagedResource, KindNSGroup, c.user)
	st.groups.put(g.ID, g)
	st.changed()
	return created(st.groupView(g, false))
}

// handleGetGroup is GET /ns-groups/{id}?populate_references=.
func (s *Server) handleGetGroup(c *call) reply {
	g, err := s.st.group(c.param("ns-group-id"))
	if err != nil {
		return fail(err)
	}
	c.read(KindNSGroup, g.ID)
	return ok(s.st.groupView(g, c.query.Get("populate_references") == "true"))
}

// handleUpdateGroup is PUT /ns-groups/{id}: a full replace; stale or missing _revision is 412.
func (s *Server) handleUpdateGroup(c *call) reply {
	st := s.st
	g, err := st.group(c.param("ns-group-id"))
	if err != nil {
		return fail(err)
	}
	validate := func(in nsxclient.NSGroup) *apiError { return st.validateGroup(in, g.ID) }
	meta := func(g *nsxclient.NSGroup) *nsxclient.ManagedResource { return &g.ManagedResource }
	if g, err = replaceObject(st, c, KindNSGroup, g, meta, validate, writableGroup); err != nil {
		return fail(err)
	}
	return ok(st.groupView(g, false))
}

// handleDeleteGroup is DELETE /ns-groups/{id}?force=. Without force, a group referenced by another
// group or by a firewall rule or section is refused with 400/500030 (the status for the rule case
// is UNCONFIRMED). After a forced delete the references stay and read back with is_valid=false.
func (s *Server) handleDeleteGroup(c *call) reply {
	st := s.st
	g, err := st.group(c.param("ns-group-id"))
	if err != nil {
		return fail(err)
	}
	return st.deleteUnlessReferenced(c, KindNSGroup, nsxclient.TargetNSGroup, g.ID, st.groups.remove)
}

// handleAddMembers is POST /ns-groups/{id}?action=ADD_MEMBERS: static members are appended
// (already present ones are kept once). No _revision is needed (vendor spec).
func (s *Server) handleAddMembers(c *call) reply {
	return s.editMembers(c, func(members, delta []nsxclient.NSGroupExpression) []nsxclient.NSGroupExpression {
		for _, m := range delta {
			if !slices.ContainsFunc(members, sameMember(m)) {
				members = append(members, m)
			}
		}
		return members
	})
}

// handleRemoveMembers is POST /ns-groups/{id}?action=REMOVE_MEMBERS. Removing a member the group
// does not have is ignored (UNCONFIRMED; we chose idempotence).
func (s *Server) handleRemoveMembers(c *call) reply {
	return s.editMembers(c, func(members, delta []nsxclient.NSGroupExpression) []nsxclient.NSGroupExpression {
		return slices.DeleteFunc(members, func(m nsxclient.NSGroupExpression) bool {
			return slices.ContainsFunc(delta, sameMember(m))
		})
	})
}

func (s *Server) editMembers(c *call, edit func(members, delta []nsxclient.NSGroupExpression) []nsxclient.NSGroupExpression) reply {
	st := s.st
	g, err := st.group(c.param("ns-group-id"))
	if err != nil {
		return fail(err)
	}
	var in nsxclient.NSGroupExpressionList
	if err := decodeBody(c, &in); err != nil {
		return fail(err)
	}
	var f fieldErrors
	f.required("members", in.Members == nil)
	f.maxItems("members", len(in.Members), maxGroupMembers)
	for _, m := range in.Members {
		st.validateMember(&f, m, g.ID)
	}
	if err := f.err(); err != nil {
		return fail(err)
	}
	members := edit(cloneExprs(g.Members), cloneExprs(in.Members))
	f.maxItems("members", len(members), maxGroupMembers)
	if err := f.err(); err != nil {
		return fail(err)
	}
	candidate := *g
	candidate.Members = members
	if err := st.checkGroupCycle(&candidate); err != nil {
		return fail(err)
	}
	g.Members = members
	st.touch(&g.ManagedResource, c.user)
	st.changed()
	return ok(st.groupView(g, false))
}

func sameMember(a nsxclient.NSGroupExpression) func(nsxclient.NSGroupExpression) bool {
	return func(b nsxclient.NSGroupExpression) bool {
		return a.TargetType == b.TargetType && a.TargetProperty == b.TargetProperty && a.Op == b.Op && a.Value == b.Value
	}
}

// group finds an NSGroup or returns NSX's 404.
func (st *state) group(id string) (*nsxclient.NSGroup, *apiError) {
	g, found := st.groups.get(id)
	if !found {
		return nil, errNotFound(id)
	}
	return g, nil
}

func checkPrecondition(kind, id string, got *int64, want int64) *apiError {
	if got == nil || *got != want {
		return errStalePrecondition(kind, id, got, want)
	}
	return nil
}

// writableGroup keeps the client-writable fields of a group body.
func writableGroup(in nsxclient.NSGroup) *nsxclient.NSGroup {
	g := &nsxclient.NSGroup{Members: cloneExprs(in.Members), MembershipCriteria: cloneExprs(in.MembershipCriteria)}
	g.DisplayName, g.Description, g.Tags = in.DisplayName, in.Description, slices.Clone(in.Tags)
	return g
}

func cloneExprs(in []nsxclient.NSGroupExpression) []nsxclient.NSGroupExpression {
	if in == nil {
		return nil
	}
	out := make([]nsxclient.NSGroupExpression, len(in))
	for i, e := range in {
		e.TargetResource = nil
		e.Expressions = cloneExprs(e.Expressions)
		out[i] = e
	}
	return out
}

// groupView is the read form of a group: member_count, and with populate_references the
// target_resource of every simple expression.
func (st *state) groupView(g *nsxclient.NSGroup, populate bool) nsxclient.NSGroup {
	v := *g
	v.MemberCount = int64(len(g.Members))
	if populate {
		v.Members = st.populateExprs(g.Members)
		v.MembershipCriteria = st.populateExprs(g.MembershipCriteria)
	}
	return v
}

func (st *state) populateExprs(in []nsxclient.NSGroupExpression) []nsxclient.NSGroupExpression {
	out := cloneExprs(in)
	for i := range out {
		e := &out[i]
		e.Expressions = st.populateExprs(e.Expressions)
		if e.ResourceType == nsxclient.ExprSimple && e.TargetProperty == "id" {
			refs := st.viewRefs([]nsxclient.ResourceReference{{TargetID: e.Value, TargetType: e.TargetType}})
			e.TargetResource = &refs[0]
		}
	}
	return out
}

// maxNamedInError is how many referrers an in-use error names before "...".
const maxNamedInError = 5

// joinFew lists at most maxNamedInError items.
func joinFew(items []string) string {
	if len(items) <= maxNamedInError {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:maxNamedInError], ", ") + ", ..."
}

// groupHasMemberType reports whether a group's static members or criteria (including the parts of
// complex expressions) target one of the given member types: the member_types list filter.
func groupHasMemberType(members, criteria []nsxclient.NSGroupExpression, types []string) bool {
	for _, list := range [][]nsxclient.NSGroupExpression{members, criteria} {
		for _, e := range list {
			if slices.Contains(types, e.TargetType) || groupHasMemberType(nil, e.Expressions, types) {
				return true
			}
		}
	}
	return false
}
