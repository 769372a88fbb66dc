package nsxsim

import (
	"net/http"
	"slices"
	"strings"

	"github.com/microseg/microseg/nsxclient"
)

// Handlers of the Policy API's per-object endpoints and lists. The object's path is the request
// path without /policy/api/v1.

const policyPrefix = "/policy/api/v1"

func objectPath(c *call) string { return strings.TrimPrefix(c.r.URL.Path, policyPrefix) }

// policyWrite runs do as one transaction and answers status without a body, or the error.
func (s *Server) policyWrite(c *call, status int, do func(tx *policyTx) *apiError) reply {
	tx := s.beginPolicyTx(c)
	if err := do(tx); err != nil {
		tx.rollback()
		return fail(err)
	}
	if err := tx.finish(); err != nil {
		return fail(err)
	}
	c.policyWritten += tx.objects
	return reply{status: status}
}

// handlePolicyGet is GET of one object; a security policy comes with its rules.
func (s *Server) handlePolicyGet(c *call) reply {
	s.st.pol.sweep(s.now())
	o := s.st.pol.live(objectPath(c))
	if o == nil {
		return fail(errPolicyNotFound(objectPath(c)))
	}
	c.read(o.kind, o.path)
	if o.kind == nsxclient.ResourceSecurityPolicy {
		sp := s.policyWithRules(o, c.user)
		c.rulesPaged += len(sp.Rules)
		return ok(sp)
	}
	return ok(s.policyView(o, c.user))
}

// handlePolicyPatch is PATCH of one object: 204 without a body.
func (s *Server) handlePolicyPatch(c *call) reply {
	return s.policyWrite(c, http.StatusNoContent, func(tx *policyTx) *apiError {
		return tx.upsert(objectPath(c), c.body, writePatch)
	})
}

// handlePolicyPut is PUT of one object: 200 with the stored object.
func (s *Server) handlePolicyPut(c *call) reply {
	rep := s.policyWrite(c, http.StatusOK, func(tx *policyTx) *apiError {
		return tx.upsert(objectPath(c), c.body, writePut)
	})
	if rep.status != http.StatusOK {
		return rep
	}
	o := s.st.pol.live(objectPath(c))
	if o.kind == nsxclient.ResourceSecurityPolicy {
		return ok(s.policyWithRules(o, c.user))
	}
	return ok(s.policyView(o, c.user))
}

// handlePolicyDelete is DELETE of one object: 204. A security policy goes with its rules; any
// other object with children is in use.
func (s *Server) handlePolicyDelete(c *call) reply {
	return s.policyWrite(c, http.StatusNoContent, func(tx *policyTx) *apiError {
		return tx.delete(objectPath(c), false)
	})
}

// handlePolicyList lists the children of one kind under the path's parent, sorted by id (rules
// by sequence_number), paged.
func (s *Server) handlePolicyList(c *call) reply {
	s.st.pol.sweep(s.now())
	collectionPath := objectPath(c)
	parent, collection := collectionPath[:strings.LastIndex(collectionPath, "/")], collectionPath[strings.LastIndex(collectionPath, "/")+1:]
	parentKind := ""
	if parent != infraPath {
		po := s.st.pol.live(parent)
		if po == nil {
			return fail(errPolicyNotFound(parent))
		}
		parentKind = po.kind
	}
	kind := kindByCollection(parentKind, collection)
	page, err := s.parsePage(c.query, 0)
	if err != nil {
		return fail(err)
	}
	includeDeleting := c.query.Get("include_mark_for_delete_objects") == "true"
	var objs []*pobj
	if kind.name == nsxclient.ResourceRule {
		objs = s.sortedRules(parent, includeDeleting)
	} else {
		objs = s.st.pol.childrenOf(parent, kind.name, includeDeleting)
	}
	objs = s.filterList(c, objs)
	views := make([]any, 0, len(objs))
	for _, o := range objs {
		views = append(views, s.listView(c, o))
	}
	out := paginate(views, page)
	for _, v := range out.Results {
		r := policyResourceOf(v)
		c.read(r.ResourceType, r.Path)
		if kind.name == nsxclient.ResourceRule {
			c.rulesPaged++
		}
	}
	return ok(out)
}

// listView is an object as a list shows it: without rules; rule_count on request.
func (s *Server) listView(c *call, o *pobj) any {
	v := s.policyView(o, c.user)
	if sp, isPolicy := v.(*nsxclient.SecurityPolicy); isPolicy && c.query.Get("include_rule_count") == "true" {
		sp.RuleCount = int64(len(s.st.pol.childrenOf(o.path, nsxclient.ResourceRule, false)))
	}
	return v
}

// filterList applies member_types to group lists: a group is listed when all its member types
// are among those asked for.
func (s *Server) filterList(c *call, objs []*pobj) []*pobj {
	want := c.query.Get("member_types")
	if want == "" {
		return objs
	}
	allowed := strings.Split(want, ",")
	return slices.DeleteFunc(objs, func(o *pobj) bool {
		g, isGroup := o.obj.(*nsxclient.PolicyGroup)
		if !isGroup {
			return false
		}
		for _, mt := range groupMemberTypes(g) {
			if !slices.Contains(allowed, mt) {
				return true
			}
		}
		return false
	})
}

// groupMemberTypes are the member types a group's expressions select.
func groupMemberTypes(g *nsxclient.PolicyGroup) []string {
	var out []string
	var walk func(list []nsxclient.PolicyExpression)
	walk = func(list []nsxclient.PolicyExpression) {
		for _, e := range list {
			switch e.ResourceType {
			case nsxclient.ExprCondition:
				out = append(out, e.MemberType)
			case nsxclient.ExprNested:
				walk(e.Expressions)
			case nsxclient.ExprIPAddress:
				out = append(out, "IPAddress")
			case nsxclient.ExprPath:
				out = append(out, "Path")
			}
		}
	}
	walk(g.Expression)
	slices.Sort(out)
	return slices.Compact(out)
}
