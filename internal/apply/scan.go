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
	// pages is how many pages this round has read; total how many the last round (or the full
	// read) took.
	pages, total int
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
		// A round is as long as the last one, or as the groups the cache now knows need (NSX
		// serves NSGroups 50 a page, IPSets 1,000): the world may have grown since.
		total := max(s.total, ceilDiv(len(c.groups)+len(c.external), nsGroupsPerPage)+ceilDiv(len(c.ipSets), sectionsPerPage))
		*s = scan{started: now, total: total, seen: map[string]bool{}, fresh: map[string]bool{}}
	}
	due := c.verify.Due(max(s.total, 1), s.started, now)
	restarted := false
	for s.pages < due && s.list < 2 {
		next, err := s.page(ctx, client, c, calls)
		if err != nil {
			if s.cursor == "" || restarted || !cursorRefused(err) {
				return err
			}
			// NSX does not say how long a cursor stays valid: read this list again from the start.
			s.cursor, restarted = "", true
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
		s.list, s.cursor = s.list+1, ""
	}
	if s.list == 2 {
		s.total, s.started = s.pages, time.Time{}
	}
	return nil
}

// page reads one page of the current list into the cache and returns the next cursor.
func (s *scan) page(ctx context.Context, client *nsxclient.Client, c *Cache, calls *counter) (string, error) {
	calls.read()
	if s.list == 0 {
		p, err := client.ListNSGroupsPage(ctx, nsxclient.ListNSGroupsOptions{}, s.cursor)
		if err != nil {
			return "", fmt.Errorf("apply: verifying NSGroups: %w", err)
		}
		for _, g := range p.Results {
			c.seeNSGroup(g)
			s.seen[g.ID] = true
		}
		return p.Next, nil
	}
	p, err := client.ListIPSetsPage(ctx, s.cursor)
	if err != nil {
		return "", fmt.Errorf("apply: verifying IPSets: %w", err)
	}
	for _, ip := range p.Results {
		c.seeIPSet(ip)
		s.seen[ip.ID] = true
	}
	return p.Next, nil
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
