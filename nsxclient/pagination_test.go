package nsxclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// pagedIPSets serves n IPSets in pages of size, with cursors "c<offset>"; lastCursor is what the
// last page carries ("" or a "0000..." end marker). failPage, if > 0, answers that page with
// failStatus instead.
func pagedIPSets(t *testing.T, n, size int, lastCursor string, failPage, failStatus int) *fakeNSX {
	return newFakeNSX(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		offset := 0
		if c := r.URL.Query().Get("cursor"); c != "" {
			if !strings.HasPrefix(c, "c") {
				t.Errorf("client followed cursor %q, which marks the end", c)
				writeNSXError(w, 400, 0, "bad cursor")
				return
			}
			offset, _ = strconv.Atoi(c[1:])
		}
		if failPage > 0 && offset/size+1 == failPage {
			writeNSXError(w, failStatus, 0, "page failed")
			return
		}
		res := ListResult[IPSet]{}
		for i := offset; i < min(offset+size, n); i++ {
			res.Results = append(res.Results, IPSet{ManagedResource: ManagedResource{ID: fmt.Sprintf("ips-%d", i)}})
		}
		if offset == 0 {
			res.ResultCount = int64(n)
		}
		if offset+size < n {
			res.Cursor = fmt.Sprintf("c%d", offset+size)
		} else {
			res.Cursor = lastCursor
		}
		writeJSON(w, 200, res)
	})
}

func TestListFollowsCursorsAcrossPages(t *testing.T) {
	f := pagedIPSets(t, 7, 3, "", 0, 0)
	got, err := f.client().ListIPSets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 7 || got[0].ID != "ips-0" || got[6].ID != "ips-6" {
		t.Fatalf("got %d items: %v", len(got), got)
	}
	reqs := f.requests()
	var cursors []string
	for _, r := range reqs {
		cursors = append(cursors, r.Query.Get("cursor"))
	}
	if want := []string{"", "c3", "c6"}; fmt.Sprint(cursors) != fmt.Sprint(want) {
		t.Errorf("cursors sent = %q, want %q", cursors, want)
	}
}

func TestListStopsAtZeroCursor(t *testing.T) {
	f := pagedIPSets(t, 5, 3, "0000ABCDEF", 0, 0)
	got, err := f.client().ListIPSets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Errorf("got %d items, want 5", len(got))
	}
	if n := len(f.requests()); n != 2 {
		t.Errorf("%d requests, want 2 (the 0000 cursor ends the list)", n)
	}
}

func TestListNSGroupsFollowsShortPages(t *testing.T) {
	const total = 120
	f := newFakeNSX(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		offset, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
		res := ListResult[NSGroup]{}
		for i := offset; i < min(offset+50, total); i++ { // NSX caps NSGroup pages at 50
			res.Results = append(res.Results, NSGroup{ManagedResource: ManagedResource{ID: strconv.Itoa(i)}})
		}
		if offset+50 < total {
			res.Cursor = strconv.Itoa(offset + 50)
		}
		writeJSON(w, 200, res)
	})
	got, err := f.client().ListNSGroups(context.Background(), ListNSGroupsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != total {
		t.Fatalf("got %d groups, want %d", len(got), total)
	}
	for i, g := range got {
		if g.ID != strconv.Itoa(i) {
			t.Fatalf("group %d has id %s: order not kept", i, g.ID)
		}
	}
	if n := len(f.requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestListFailingLaterPageReturnsErrorNotPartialResult(t *testing.T) {
	f := pagedIPSets(t, 10, 3, "", 3, http.StatusForbidden)
	got, err := f.client().ListIPSets(context.Background())
	if err == nil {
		t.Fatal("expected an error")
	}
	if got != nil {
		t.Errorf("got a partial result of %d items", len(got))
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusForbidden {
		t.Errorf("error is not the page's *APIError: %v", err)
	}
	if !strings.Contains(err.Error(), "page 3") {
		t.Errorf("error does not say which page failed: %v", err)
	}
}

func TestListRetriesAFailingPage(t *testing.T) {
	inner := pagedIPSets(t, 6, 3, "", 0, 0)
	var failed atomic.Bool
	f := newFakeNSX(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if r.URL.Query().Get("cursor") == "c3" && failed.CompareAndSwap(false, true) {
			writeNSXError(w, http.StatusServiceUnavailable, 0, "busy")
			return
		}
		inner.handler(w, r, body)
	})
	got, err := f.client().ListIPSets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 {
		t.Errorf("got %d items, want 6", len(got))
	}
}

func TestListRepeatedCursorIsAnError(t *testing.T) {
	f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 200, ListResult[IPSet]{Results: []IPSet{{}}, Cursor: "same"})
	})
	_, err := f.client().ListIPSets(context.Background())
	if err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("want a repeated-cursor error, got %v", err)
	}
	if n := len(f.requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestListRulesPagesInOrder(t *testing.T) {
	f := newFakeNSX(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if r.URL.Query().Get("cursor") == "" {
			writeJSON(w, 200, ListResult[FirewallRule]{Results: []FirewallRule{{ID: "1"}, {ID: "2"}}, Cursor: "next"})
			return
		}
		writeJSON(w, 200, ListResult[FirewallRule]{Results: []FirewallRule{{ID: "3"}}})
	})
	got, err := f.client().ListRules(context.Background(), "sec-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].ID != "1" || got[2].ID != "3" {
		t.Errorf("rules = %v", got)
	}
	for _, r := range f.requests() {
		if r.EscapedPath != "/api/v1/firewall/sections/sec-1/rules" {
			t.Errorf("page request to %s", r.EscapedPath)
		}
	}
}
