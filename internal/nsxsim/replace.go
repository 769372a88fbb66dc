package nsxsim

import "github.com/microseg/microseg/nsxclient"

// replaceObject is the PUT of an object with a _revision (IP sets, logical ports, NSGroups):
// the body must carry the object's current _revision (412 otherwise) and pass validate; its
// writable fields then replace cur's, with the update's timestamp and user. It returns the
// updated object.
func replaceObject[T any](st *state, c *call, kind string, cur *T, meta func(*T) *nsxclient.ManagedResource,
	validate func(T) *apiError, writable func(T) *T) (*T, *apiError) {
	var in T
	if err := decodeBody(c, &in); err != nil {
		return nil, err
	}
	old := *meta(cur)
	if err := checkPrecondition(kind, old.ID, bodyRevision(c.body), old.Revision); err != nil {
		return nil, err
	}
	if err := validate(in); err != nil {
		return nil, err
	}
	upd := writable(in)
	st.stampUpdate(meta(upd), old, c.user)
	*cur = *upd
	st.changed()
	return cur, nil
}

// deleteUnlessReferenced is the DELETE of a group-like object (force=true deletes it anyway,
// leaving the references to read back with is_valid=false); without force an object that a rule
// or an NSGroup still references is refused with 400/500030.
func (st *state) deleteUnlessReferenced(c *call, kind, targetType, id string, remove func(string)) reply {
	if by := st.referrers(targetType, id); len(by) > 0 && c.query.Get("force") != "true" {
		return fail(errInUse(kind, id, "referenced by "+joinFew(by)))
	}
	remove(id)
	st.changed()
	return ok(nil)
}
