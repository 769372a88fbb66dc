package nsxsim

import (
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"

	"github.com/microseg/microseg/nsxclient"
)

// maxPageSize is the vendor spec's page_size maximum.
const maxPageSize = 1000

// listPage is NSX's ListResult envelope. It is declared here instead of reusing
// nsxclient.ListResult because result_count must be present (even when 0) on a first page and
// absent on later ones, which omitempty on an int64 cannot express.
type listPage[T any] struct {
	Results     []T    `json:"results"`
	Cursor      string `json:"cursor,omitempty"`
	ResultCount *int64 `json:"result_count,omitempty"`
}

// pageRequest is the parsed page_size / cursor pair of a list call.
type pageRequest struct {
	offset   int
	size     int
	hasInput bool // a cursor was sent: this is not the first page
}

// parsePage reads page_size and cursor. limit caps the page below the requested size (NSGroups are
// "restricted to 50" per the vendor spec's text).
func (s *Server) parsePage(q url.Values, limit int) (pageRequest, *apiError) {
	p := pageRequest{size: s.opts.DefaultPageSize}
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxPageSize {
			var f fieldErrors
			f.add("page_size has invalid value %q; it must be between 0 and %d", v, maxPageSize)
			return p, f.err()
		}
		if n > 0 { // 0 is the spec minimum; treated as "server default"
			p.size = n
		}
	}
	if limit > 0 && p.size > limit {
		p.size = limit
	}
	if c := q.Get("cursor"); c != "" {
		off, ok := decodeCursor(c)
		if !ok {
			return p, errBadRequest(nsxclient.ErrCodeFieldValidation, moduleCommon, "%s{cursor %q is invalid}", fieldValidationIntro, c)
		}
		p.offset, p.hasInput = off, true
	}
	return p, nil
}

// paginate cuts one page out of all. The cursor is emitted only when more results remain, and
// result_count only on the first page (vendor spec: ListResult).
func paginate[T any](all []T, p pageRequest) listPage[T] {
	start := min(p.offset, len(all))
	end := min(start+p.size, len(all))
	page := listPage[T]{Results: append(make([]T, 0, end-start), all[start:end]...)}
	if end < len(all) {
		page.Cursor = encodeCursor(end)
	}
	if !p.hasInput {
		n := int64(len(all))
		page.ResultCount = &n
	}
	return page
}

// Cursors are opaque to clients. They never start with "0000", which nsxlib reads as end-of-list.
const cursorPrefix = "nsxsim:"

func encodeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.Itoa(offset)))
}

func decodeCursor(c string) (int, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(raw), cursorPrefix) {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(raw), cursorPrefix))
	return n, err == nil && n >= 0
}
