package apply

import (
	"context"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/plan"
	"github.com/microseg/microseg/nsxclient"
)

// Group steps: create, repair and delete NSGroups and IPSets.

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
		a.cache.learnIPSet(*out)
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
	a.cache.learnNSGroup(*out)
	return nil
}

func (a *applier) updateGroup(ctx context.Context, s *plan.Step) error {
	id := s.ID
	rev := revision(a.groupRev, id, s.Revision)
	if s.IPSet != nil {
		return replaceGroup(ctx, a, nsxclient.TargetIPSet, id, rev, *s.IPSet,
			func(x *nsxclient.IPSet) *nsxclient.ManagedResource { return &x.ManagedResource }, a.c.UpdateIPSet, a.c.GetIPSet, a.cache.learnIPSet)
	}
	body, err := a.ids.nsGroup(*s.NSGroup)
	if err != nil {
		return err
	}
	return replaceGroup(ctx, a, nsxclient.TargetNSGroup, id, rev, body,
		func(x *nsxclient.NSGroup) *nsxclient.ManagedResource { return &x.ManagedResource }, a.c.UpdateNSGroup, a.c.GetNSGroup, a.cache.learnNSGroup)
}

// replaceGroup PUTs body (an NSGroup or an IPSet, whose common fields meta returns) as group id
// through putGroup, with update and get the client's calls for its kind, and hands the reply to
// the cache (learn).
func replaceGroup[T any](ctx context.Context, a *applier, kind, id string, rev int64, body T, meta func(*T) *nsxclient.ManagedResource,
	update func(context.Context, T) (*T, error), get func(context.Context, string) (*T, error), learn func(T)) error {
	return a.putGroup(ctx, kind, id, rev, func(rev int64) (int64, error) {
		m := meta(&body)
		m.ID, m.Revision = id, rev
		out, err := update(ctx, body)
		if err != nil {
			return 0, err
		}
		learn(*out)
		return meta(out).Revision, nil
	}, func() (int64, []nsxclient.Tag, error) {
		cur, err := get(ctx, id)
		if err != nil {
			return 0, nil, err
		}
		m := meta(cur)
		return m.Revision, m.Tags, nil
	})
}

// putGroup replaces a group (kind nsxclient.TargetNSGroup or TargetIPSet) at revision rev with
// put (which returns the new revision). On a stale revision it re-reads the group with get, checks
// that it is still microseg's and retries at the revision read; the cache forgets the group's
// content until a reply or a read tells it again.
func (a *applier) putGroup(ctx context.Context, kind, id string, rev int64,
	put func(rev int64) (int64, error), get func() (int64, []nsxclient.Tag, error)) error {
	return a.retryStale(ctx, kind+" "+id, func() error {
		a.calls.write()
		newRev, err := put(rev)
		if err == nil {
			a.groupRev[id] = newRev
		}
		return err
	}, func() error {
		a.cache.invalidateGroup(id, kind)
		a.calls.read()
		curRev, tags, err := get()
		if err != nil {
			return err
		}
		rev = curRev
		return a.mustOwn(kind, id, tags)
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
				if nsxclient.IsNotFound(err) {
					a.cache.forgetGroup(id)
				}
				return ignoreNotFound(err)
			}
			tags = cur.Tags
		} else {
			cur, err := a.c.GetNSGroup(ctx, id)
			if err != nil {
				if nsxclient.IsNotFound(err) {
					a.cache.forgetGroup(id)
				}
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
	if err = ignoreNotFound(err); err == nil {
		a.cache.forgetGroup(id)
	}
	return err
}

// ignoreNotFound treats "already gone" as success for deletes.
func ignoreNotFound(err error) error {
	if nsxclient.IsNotFound(err) {
		return nil
	}
	return err
}

// Sections.
