package nsxsim

import (
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/microseg/microseg/nsxclient"
)

// The Policy API's storage: objects by path, with indexes of children and of references, so that
// a write can check "does this path exist", "what lives under it" and "who references it"
// without scanning. Stored objects are immutable: a write stores a new *pobj, which lets a
// transaction (policy_tx.go) undo itself by putting the old pointers back, and lets replies
// share stored slices safely.

// pobj is one stored Policy object.
type pobj struct {
	kind   string // one of the nsxclient.Resource* names
	path   string
	parent string // "/infra" for top-level objects
	obj    any    // *nsxclient.PolicyDomain, *PolicyGroup, *SecurityPolicy (without rules), *PolicyRule, *Segment, *SegmentPort
	// refs are the paths this object references (rule groups and scope, policy scope, path
	// expressions); an object being deleted references nothing.
	refs []string
	// deleting is set between a DELETE and the end of NSX's (simulated) removal: the path is
	// hidden from reads and cannot be written (500045).
	deleting bool
	deleteAt time.Time
	// writtenAt is when the intent last changed; realization completes RealizationDelay later.
	writtenAt time.Time
}

// resource returns the fields every Policy object has.
func (o *pobj) resource() *nsxclient.PolicyResource { return policyResourceOf(o.obj) }

func policyResourceOf(obj any) *nsxclient.PolicyResource {
	switch v := obj.(type) {
	case *nsxclient.PolicyDomain:
		return &v.PolicyResource
	case *nsxclient.PolicyGroup:
		return &v.PolicyResource
	case *nsxclient.SecurityPolicy:
		return &v.PolicyResource
	case *nsxclient.PolicyRule:
		return &v.PolicyResource
	case *nsxclient.Segment:
		return &v.PolicyResource
	case *nsxclient.SegmentPort:
		return &v.PolicyResource
	}
	panic("nsxsim: not a Policy object")
}

// policyState is the Policy tree. All access happens under Server.mu.
type policyState struct {
	objs      map[string]*pobj
	children  map[string]map[string]struct{} // parent path → child paths (live and deleting)
	referrers map[string]map[string]struct{} // referenced path → paths of live objects referencing it
	// pendingDeletes lists the paths being deleted, so that sweeping finished deletions does not
	// scan every object.
	pendingDeletes map[string]time.Time
	rng            *rand.Rand // unique ids of Policy objects; separate from the Manager's
	// mirrored maps a segment port's path to the id of the Manager logical port realizing it.
	mirrored map[string]string
}

// infraPath is the root of the tree.
const infraPath = "/infra"

func newPolicyState(seed uint64) *policyState {
	return &policyState{
		objs:           map[string]*pobj{},
		children:       map[string]map[string]struct{}{},
		referrers:      map[string]map[string]struct{}{},
		pendingDeletes: map[string]time.Time{},
		rng:            rand.New(rand.NewPCG(seed^0x9011c7, seed)),
		mirrored:       map[string]string{},
	}
}

// set stores o at path (nil removes it) and keeps the indexes in step. It is the only writer of
// objs; undo is set(path, old).
func (ps *policyState) set(path string, o *pobj) {
	old := ps.objs[path]
	if old != nil {
		ps.unindex(old)
	}
	if o == nil {
		delete(ps.objs, path)
		delete(ps.pendingDeletes, path)
		return
	}
	ps.objs[path] = o
	ps.index(o)
}

func (ps *policyState) index(o *pobj) {
	addTo(ps.children, o.parent, o.path)
	if o.deleting {
		ps.pendingDeletes[o.path] = o.deleteAt
		return
	}
	delete(ps.pendingDeletes, o.path)
	for _, r := range o.refs {
		addTo(ps.referrers, r, o.path)
	}
}

func (ps *policyState) unindex(o *pobj) {
	removeFrom(ps.children, o.parent, o.path)
	if !o.deleting {
		for _, r := range o.refs {
			removeFrom(ps.referrers, r, o.path)
		}
	}
}

func addTo(m map[string]map[string]struct{}, key, v string) {
	s := m[key]
	if s == nil {
		s = map[string]struct{}{}
		m[key] = s
	}
	s[v] = struct{}{}
}

func removeFrom(m map[string]map[string]struct{}, key, v string) {
	if s := m[key]; s != nil {
		delete(s, v)
		if len(s) == 0 {
			delete(m, key)
		}
	}
}

// live returns the object at path unless it is absent or being deleted.
func (ps *policyState) live(path string) *pobj {
	if o := ps.objs[path]; o != nil && !o.deleting {
		return o
	}
	return nil
}

// childrenOf returns the children of parent of one kind, sorted by path; deleting ones only when
// includeDeleting is set.
func (ps *policyState) childrenOf(parent, kind string, includeDeleting bool) []*pobj {
	var out []*pobj
	for p := range ps.children[parent] {
		o := ps.objs[p]
		if o.kind == kind && (includeDeleting || !o.deleting) {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b *pobj) int { return strings.Compare(a.path, b.path) })
	return out
}

// liveReferrers returns the sorted paths of live objects referencing path.
func (ps *policyState) liveReferrers(path string) []string {
	var out []string
	for r := range ps.referrers[path] {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// sweep completes the deletions whose simulated removal time has come.
func (ps *policyState) sweep(now time.Time) {
	for p, at := range ps.pendingDeletes {
		if !now.Before(at) {
			ps.set(p, nil)
		}
	}
}

// newUUID draws a version-4 UUID for unique_id and realization_id.
func (ps *policyState) newUUID() string { return uuidFrom(ps.rng) }

// byKind returns every live object of a kind, sorted by path.
func (ps *policyState) byKind(kind string) []*pobj {
	var out []*pobj
	for _, o := range ps.objs {
		if o.kind == kind && !o.deleting {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b *pobj) int { return strings.Compare(a.path, b.path) })
	return out
}

// adminEdit bumps the revision of the live object at path, as an out-of-band edit would.
func (ps *policyState) adminEdit(path string, now time.Time) {
	o := ps.live(path)
	if o == nil {
		return
	}
	edited := *o
	edited.obj = clonePolicyObject(o.obj)
	r := policyResourceOf(edited.obj)
	r.Revision = nsxclient.RevisionOf(*r.Revision + 1)
	r.LastModifiedUser, r.LastModifiedTime = concurrentEditor, now.UnixMilli()
	edited.writtenAt = now
	ps.set(path, &edited)
}
