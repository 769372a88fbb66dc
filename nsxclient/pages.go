package nsxclient

import (
	"context"
	"net/http"
	"strconv"
	"strings"
)

// Page is one page of a cursor-paginated list, for callers that spread a long list over time (a
// verification scan that reads a few pages per resync) instead of reading it at once.
type Page[T any] struct {
	Results []T
	// Next is the cursor of the next page; empty on the last page.
	Next string
	// ResultCount is NSX's count across all pages; NSX sets it on the first page only.
	ResultCount int64
}

// ListNSGroupsPage returns the page of NSGroups at cursor (empty: the first page). NSX serves at
// most 50 NSGroups a page. A cursor kept for later may be refused (NSX does not document how long
// one stays valid): start again from the first page then.
func (c *Client) ListNSGroupsPage(ctx context.Context, opts ListNSGroupsOptions, cursor string) (Page[NSGroup], error) {
	r, err := newRequest(http.MethodGet, nsGroupsPath)
	if err != nil {
		return Page[NSGroup]{}, err
	}
	if len(opts.MemberTypes) > 0 {
		r.query.Set("member_types", strings.Join(opts.MemberTypes, ","))
	}
	r.query.Set("populate_references", strconv.FormatBool(opts.PopulateReferences))
	return listPage[NSGroup](ctx, c, r, cursor)
}

// ListIPSetsPage returns the page of IPSets at cursor (empty: the first page), like
// ListNSGroupsPage.
func (c *Client) ListIPSetsPage(ctx context.Context, cursor string) (Page[IPSet], error) {
	r, err := newRequest(http.MethodGet, ipSetsPath)
	if err != nil {
		return Page[IPSet]{}, err
	}
	return listPage[IPSet](ctx, c, r, cursor)
}

// listPage GETs one page. A cursor starting with "0000" marks the end like an absent one (see
// listAll).
func listPage[T any](ctx context.Context, c *Client, r *request, cursor string) (Page[T], error) {
	if cursor != "" {
		r.query.Set("cursor", cursor)
	}
	var lr ListResult[T]
	if err := c.doJSON(ctx, r, &lr); err != nil {
		return Page[T]{}, err
	}
	next := lr.Cursor
	if strings.HasPrefix(next, "0000") {
		next = ""
	}
	return Page[T]{Results: lr.Results, Next: next, ResultCount: lr.ResultCount}, nil
}
