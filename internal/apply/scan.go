package apply

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/microseg/microseg/nsxclient"
)

// scan is the rolling verification of NSGroups and IP sets. A section's _revision moves when any
// of its rules changes, so one list of sections finds every change made to microseg's rules; a
// group's changes show only on the group, and NSX lists NSGroups 50 a page. So the cache re-reads
// the NSGroup list and then the IPSet list in rounds, a few pages at each periodic resync, paced by
// nsxsync.Verify so that every group is re-read within the verification window; the cursor is
// kept from one resync to the next. A cursor NSX refuses restarts that list from its first page.
// At the end of each list, the cached groups the round did not see (and microseg did not write
// meanwhile) are read one by one: gone, or missed because the list shifted under the cursor.
type scan struct {
	// started is when the round began (zero: the next step starts one).
	started time.Time
	// list is the list being read: 0 NSGroups, 1 IPSets, 2 done.
	list   int
	cursor string
	// pages is how many pages this round has read, listStart how many it had read when the
	// current list began, and total how many the round takes (see length).
	pages, listStart, total int
	// lastPages is how many pages each list took in the last round (or the full read);
	// listPages is the current list's page count as its first page tells it.
	lastPages [2]int
	listPages int
	// seen are the ids this round listed; fresh the groups microseg wrote during it.
	seen, fresh map[string]bool
}

// written notes a group microseg created or wrote during the round.
func (s *scan) written(id string) {
	if s.fresh != nil {
		s.fresh[id] = true
	}
}

// step reads the pages due now (nsxsync.Verify.Due) and, when a list ends, settles the groups the
// round did not see.
func (s *scan) step(ctx context.Context, client *nsxclient.Client, c *Cache, calls *counter) error {
	now := c.now()
	if s.started.IsZero() {
		// A list is as long as last time, or as the groups the cache now knows need (NSX serves
		// NSGroups 50 a page, IPSets 1,000) if the world has grown since.
		last := [2]int{max(s.lastPages[0], ceilDiv(len(c.groups)+len(c.external), nsGroupsPerPage), 1),
			max(s.lastPages[1], ceilDiv(len(c.ipSets), sectionsPerPage), 1)}
		*s = scan{started: now, lastPages: last, total: last[0] + last[1], seen: map[string]bool{}, fresh: map[string]bool{}}
	}
	restarted := false
	for s.list < 2 {
		// The round's schedule; once it is due in full, the round is read to its end whatever
		// the estimate of its length said.
		if due := c.verify.Due(max(s.total, 1), s.started, now); s.pages >= due && due < s.total {
			break
		}
		next, err := s.page(ctx, client, c, calls)
		if err != nil {
			if s.cursor == "" || restarted || !cursorRefused(err) {
				return err
			}
			// NSX does not say how long a cursor stays valid: read this list again from the start.
			s.cursor, restarted, s.listStart = "", true, s.pages
			continue
		}
		s.pages++
		if next != "" {
			s.cursor = next
			continue
		}
		if err := s.settle(ctx, client, c, calls); err != nil {
			return err
		}
		s.lastPages[s.list] = s.pages - s.listStart
		s.list, s.cursor, s.listStart, s.listPages = s.list+1, "", s.pages, 0
	}
	if s.list == 2 {
		s.started = time.Time{}
	}
	return nil
}

// page reads one page of the current list into the cache and returns the next cursor.
func (s *scan) page(ctx context.Context, client *nsxclient.Client, c *Cache, calls *counter) (string, error) {
	calls.read()
	if s.list == 0 {
		return readPage(s, "NSGroups", func() (nsxclient.Page[nsxclient.NSGroup], error) {
			return client.ListNSGroupsPage(ctx, nsxclient.ListNSGroupsOptions{}, s.cursor)
		}, func(g nsxclient.NSGroup) string { c.seeNSGroup(g); return g.ID })
	}
	return readPage(s, "IPSets", func() (nsxclient.Page[nsxclient.IPSet], error) {
		return client.ListIPSetsPage(ctx, s.cursor)
	}, func(ip nsxclient.IPSet) string { c.seeIPSet(ip); return ip.ID })
}

// readPage fetches a page, records each object (see returns its id) as seen this round, and
// takes the list's length from it.
func readPage[T any](s *scan, what string, fetch func() (nsxclient.Page[T], error), see func(T) string) (string, error) {
	p, err := fetch()
	if err != nil {
		return "", fmt.Errorf("apply: verifying %s: %w", what, err)
	}
	for _, x := range p.Results {
		s.seen[see(x)] = true
	}
	s.learnLength(len(p.Results), p.ResultCount)
	return p.Next, nil
}

// learnLength takes the current list's page count from its first page (NSX sets result_count
// there only): the round's total is then the pages read before this list, this list's, and the
// next list's as last known.
func (s *scan) learnLength(n int, count int64) {
	if s.cursor != "" || n == 0 || count <= 0 {
		return
	}
	s.listPages = ceilDiv(int(count), n)
	s.total = s.listStart + s.listPages
	if s.list == 0 {
		s.total += s.lastPages[1]
	}
}

// settle reads, one by one, the cached groups of the list just finished that the round did not
// see: deleted in NSX, or skipped because the list changed between two pages.
func (s *scan) settle(ctx context.Context, client *nsxclient.Client, c *Cache, calls *counter) error {
	var missed []string
	kind := nsxclient.TargetNSGroup
	if s.list == 0 {
		for id := range c.groups {
			missed = append(missed, id)
		}
		for id := range c.external {
			missed = append(missed, id)
		}
	} else {
		kind = nsxclient.TargetIPSet
		for id := range c.ipSets {
			missed = append(missed, id)
		}
	}
	for _, id := range missed {
		if s.seen[id] || s.fresh[id] {
			continue
		}
		if err := c.refreshGroup(ctx, client, id, kind, calls); err != nil {
			return err
		}
	}
	return nil
}

// nsGroupsPerPage is the most NSGroups NSX lists in one page, whatever page_size says.
const nsGroupsPerPage = 50

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// cursorRefused reports whether NSX refused a request as a client error that a stale cursor can
// cause (not authentication or throttling, which the client handles).
func cursorRefused(err error) bool {
	var apiErr *nsxclient.APIError
	if !errors.As(err, &apiErr) || nsxclient.IsUnauthorized(err) {
		return false
	}
	return apiErr.StatusCode >= 400 && apiErr.StatusCode < 500 && apiErr.StatusCode != http.StatusTooManyRequests
}
