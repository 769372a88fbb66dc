package nsxsim

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/microseg/microseg/nsxclient"
)

// Every Policy write, whether one PATCH of a group or a hierarchical PATCH of thousands of
// objects, runs as one transaction: its operations are applied in order, then the result is
// checked as a whole (references resolve, nothing deleted is still referenced, rules suit their
// policy), and either all of it is kept or all of it is undone. That is how the hierarchical
// API resolves dependencies inside the tree (a group and the rule using it may come in any
// order) and why a failed call changes nothing (the simulator's strict reading; NSX does not
// document rollback).

// writeMode says how a write treats _revision.
type writeMode int

const (
	// writePatch: PATCH; a _revision in the body must be current, none is not checked.
	writePatch writeMode = iota
	// writePut: PUT; replacing an object needs its current _revision.
	writePut
	// writeTree: hierarchical PATCH with enforce_revision_check=false; _revision is ignored.
	writeTree
	// writeTreeChecked: hierarchical PATCH with enforce_revision_check=true; like writePatch.
	writeTreeChecked
)

// policyTx is one Policy write in progress.
type policyTx struct {
	s         *Server
	ps        *policyState
	user      string
	overwrite bool // X-Allow-Overwrite: true
	now       time.Time
	undo      []func()

	written      map[string]bool // paths created or updated
	deleted      map[string]bool // paths deleted
	rulesChanged map[string]bool // policies whose rule set changed
	// objects counts the objects written or deleted, for the cost model.
	objects int
}

func (s *Server) beginPolicyTx(c *call) *policyTx {
	s.st.pol.sweep(s.now())
	return &policyTx{
		s: s, ps: s.st.pol, user: c.user, now: s.now(),
		overwrite:    c.r.Header.Get("X-Allow-Overwrite") == "true",
		written:      map[string]bool{},
		deleted:      map[string]bool{},
		rulesChanged: map[string]bool{},
	}
}

// put stores o (nil removes the path), remembering how to undo it.
func (tx *policyTx) put(path string, o *pobj) {
	old := tx.ps.objs[path]
	tx.ps.set(path, o)
	tx.undo = append(tx.undo, func() { tx.ps.set(path, old) })
}

func (tx *policyTx) rollback() {
	for i := len(tx.undo) - 1; i >= 0; i-- {
		tx.undo[i]()
	}
	tx.undo = nil
}

// finish checks the result and keeps it, or undoes everything and returns why.
func (tx *policyTx) finish() *apiError {
	if err := tx.check(); err != nil {
		tx.rollback()
		return err
	}
	tx.commit()
	return nil
}

// upsert creates or updates the object at path from a JSON object body.
func (tx *policyTx) upsert(path string, body []byte, mode writeMode) *apiError {
	kind, parent, id, ok := parsePolicyPath(path)
	if !ok {
		return errPolicyNotFound(path)
	}
	if why := validPolicyID(id); why != "" {
		return errPolicyInvalid(path, "%s", why)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return errPolicyInvalid(path, "the body is not a JSON object")
	}
	existing := tx.ps.objs[path]
	if existing != nil && existing.deleting {
		return errPendingDelete(path)
	}
	if parent != infraPath && tx.ps.live(parent) == nil {
		return errPolicyNotFound(parent)
	}
	if err := checkBodyIdentity(path, kind, id, fields); err != nil {
		return err
	}
	if err := tx.checkRevision(path, existing, fields, mode); err != nil {
		return err
	}
	if existing != nil {
		if err := tx.mayModify(existing); err != nil {
			return err
		}
	}
	obj, err := tx.buildObject(kind, existing, fields, mode)
	if err != nil {
		return errPolicyInvalid(path, "%v", err)
	}
	tx.stamp(kind, path, parent, id, obj, existing)
	if err := tx.normalize(path, parent, obj, existing); err != nil {
		return err
	}
	if err := errPolicyInvalidAll(path, validatePolicyObject(obj)); err != nil {
		return err
	}
	tx.put(path, &pobj{kind: kind.name, path: path, parent: parent, obj: obj, refs: policyRefs(obj), writtenAt: tx.now})
	tx.written[path] = true
	tx.objects++
	if kind.name == nsxclient.ResourceRule {
		tx.rulesChanged[parent] = true
	}
	if raw, ok := fields["rules"]; ok && kind.name == nsxclient.ResourceSecurityPolicy {
		return tx.replaceRules(path, raw, mode)
	}
	if kind.name == nsxclient.ResourceSecurityPolicy && mode == writePut {
		return tx.replaceRules(path, json.RawMessage("[]"), mode) // PUT replaces the rules too
	}
	return nil
}

// checkBodyIdentity refuses a body whose id or resource_type contradicts its path.
func checkBodyIdentity(path string, kind *policyKind, id string, fields map[string]json.RawMessage) *apiError {
	var probe struct {
		ID           *string `json:"id"`
		ResourceType *string `json:"resource_type"`
	}
	b, _ := json.Marshal(map[string]json.RawMessage{"id": fields["id"], "resource_type": fields["resource_type"]})
	if err := json.Unmarshal(b, &probe); err != nil {
		return errPolicyInvalid(path, "id and resource_type must be strings")
	}
	if probe.ID != nil && *probe.ID != "" && *probe.ID != id {
		return errPolicyInvalid(path, "the body's id %q differs from the id in the path %q", *probe.ID, id)
	}
	if probe.ResourceType != nil && *probe.ResourceType != "" && *probe.ResourceType != kind.name {
		return errPolicyInvalid(path, "resource_type %q does not match the path, which names a %s", *probe.ResourceType, kind.name)
	}
	return nil
}

func (tx *policyTx) checkRevision(path string, existing *pobj, fields map[string]json.RawMessage, mode writeMode) *apiError {
	var rev *int64
	if raw, ok := fields["_revision"]; ok && string(raw) != "null" {
		var n int64
		if err := json.Unmarshal(raw, &n); err != nil {
			return errPolicyInvalid(path, "_revision must be an integer")
		}
		rev = &n
	}
	if existing == nil || mode == writeTree {
		return nil
	}
	current := *existing.resource().Revision
	switch {
	case mode == writePut && (rev == nil || *rev != current):
		return errPolicyStale(path, rev, current)
	case rev != nil && *rev != current:
		return errPolicyStale(path, rev, current)
	}
	return nil
}

// mayModify refuses changes to objects owned by a protected principal identity unless the
// caller overrides.
func (tx *policyTx) mayModify(o *pobj) *apiError {
	owner := o.resource().CreateUser
	if owner == tx.user || tx.overwrite || !slices.Contains(tx.s.opts.ProtectedPrincipals, owner) {
		return nil
	}
	return errNotOwner(tx.user, o.kind, o.path, owner)
}

// replaceRules makes the rules in raw (a JSON array) the policy's whole rule set. Rules left
// out are deleted, unless Options.PolicyPatchKeepsOmittedRules and this is a PATCH.
func (tx *policyTx) replaceRules(policyPath string, raw json.RawMessage, mode writeMode) *apiError {
	var rules []json.RawMessage
	if err := json.Unmarshal(raw, &rules); err != nil {
		return errPolicyInvalid(policyPath, "rules must be a list of rules")
	}
	keep := map[string]bool{}
	for i, r := range rules {
		var probe struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(r, &probe); err != nil || probe.ID == "" {
			return errPolicyInvalid(policyPath, "rules[%d] has no id: every rule needs one (the client chooses it)", i)
		}
		if keep[probe.ID] {
			return errPolicyInvalid(policyPath, "rule id %q appears twice", probe.ID)
		}
		keep[probe.ID] = true
		ruleMode := writeTree // the policy's own revision covers its embedded rules
		if err := tx.upsert(childPath(policyPath, policyKinds[nsxclient.ResourceRule], probe.ID), r, ruleMode); err != nil {
			return err
		}
	}
	if mode == writePatch && tx.s.opts.PolicyPatchKeepsOmittedRules {
		return nil
	}
	for _, o := range tx.ps.childrenOf(policyPath, nsxclient.ResourceRule, false) {
		if !keep[o.resource().ID] {
			if err := tx.delete(o.path, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// delete removes the object at path. Its live children go with it when cascade is set (a
// hierarchical delete, or any delete of a security policy, whose rules always go with it);
// otherwise an object with children is in use.
func (tx *policyTx) delete(path string, cascade bool) *apiError {
	o := tx.ps.live(path)
	if o == nil {
		return errPolicyNotFound(path) // absent, or already being deleted: hidden, as from GET
	}
	if o.resource().SystemOwned {
		return errPolicyInvalid(path, "%s is created by NSX and cannot be deleted", o.kind)
	}
	if err := tx.mayModify(o); err != nil {
		return err
	}
	var kids []*pobj
	for _, k := range policyKinds {
		if k.parentKind == o.kind {
			kids = append(kids, tx.ps.childrenOf(path, k.name, false)...)
		}
	}
	if len(kids) > 0 && !cascade && o.kind != nsxclient.ResourceSecurityPolicy {
		var names []string
		for _, k := range kids {
			names = append(names, k.path)
		}
		return newAPIError(http.StatusBadRequest, nsxclient.ErrCodeResourceInUse, modulePolicy,
			"The object path=[%s] cannot be deleted as it has children (%s); delete them first.", path, joinFew(names))
	}
	for _, k := range kids {
		if err := tx.delete(k.path, true); err != nil {
			return err
		}
	}
	if delay := tx.s.opts.PolicyDeleteDelay; delay > 0 {
		marked := *o
		marked.deleting, marked.deleteAt = true, tx.now.Add(delay)
		marked.obj = withMarkedForDelete(o.obj)
		tx.put(path, &marked)
	} else {
		tx.put(path, nil)
	}
	tx.deleted[path] = true
	tx.objects++
	if o.kind == nsxclient.ResourceRule {
		tx.rulesChanged[o.parent] = true
	}
	return nil
}
