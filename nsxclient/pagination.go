package nsxclient

import (
	"context"
	"fmt"
	"strings"
)

// listAll GETs every page of a cursor-paginated list and returns all results in order.
//
// NSX returns a cursor while more pages exist. The last page has no cursor, but some versions
// send one starting with "0000" there instead (nsxlib treats that as the end too), so the loop
// stops on either. NSGroup lists are capped at 50 per page whatever page_size says, so many
// pages are normal. If any page fails, the whole list fails: a partial list would make a
// reconciler believe objects are missing and recreate or delete them.
func listAll[T any](ctx context.Context, c *Client, r *request) ([]T, error) {
	var all []T
	seen := map[string]bool{}
	for page := 1; ; page++ {
		var lr ListResult[T]
		if err := c.doJSON(ctx, r, &lr); err != nil {
			if page == 1 {
				return nil, err
			}
			return nil, fmt.Errorf("nsx: listing %s failed on page %d after %d items; returning nothing rather than a partial list: %w",
				r.shownPath(), page, len(all), err)
		}
		all = append(all, lr.Results...)
		if lr.Cursor == "" || strings.HasPrefix(lr.Cursor, "0000") {
			return all, nil
		}
		if seen[lr.Cursor] {
			return nil, fmt.Errorf("nsx: listing %s: NSX returned cursor %q twice (page %d); stopping to avoid an endless loop", r.shownPath(), lr.Cursor, page)
		}
		seen[lr.Cursor] = true
		r.query.Set("cursor", lr.Cursor)
	}
}
