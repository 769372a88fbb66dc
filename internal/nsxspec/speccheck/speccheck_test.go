package speccheck

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestReporterSortsExpectedFromUnexpected(t *testing.T) {
	var l Ledger
	r := l.NewReporter("TestX")
	r.Expect("not in enum")
	r.From("client")(errors.New(`request PATCH /x: action: value "PASS" not in enum`))
	r.From("simulator")(errors.New(`request PATCH /x: action: value "PASS" not in enum`))
	r.From("simulator")(errors.New("response 200: unknown property foo"))
	if r.Hits("not in enum") != 2 || l.Expected.Load() != 2 {
		t.Errorf("hits %d, expected %d", r.Hits("not in enum"), l.Expected.Load())
	}
	if u := l.Unexpected(); len(u) != 1 || u[0] != "TestX: simulator: response 200: unknown property foo" {
		t.Errorf("unexpected = %v", u)
	}
	if got := l.Verdict("table", true, 0, func() []string { return nil }); got != 1 {
		t.Errorf("verdict with a violation = %d", got)
	}
}

func TestCountingMiddlewareCountsOnlyCheckedPaths(t *testing.T) {
	var l Ledger
	checked := func(p string) bool { return p == "/checked" }
	srv := httptest.NewServer(l.CountingHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}), checked))
	defer srv.Close()
	c := &http.Client{Transport: l.CountingTransport(http.DefaultTransport, checked)}
	for _, p := range []string{"/checked", "/other", "/checked"} {
		resp, err := c.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if l.Validated() != 8 {
		t.Errorf("validated = %d (%s), want 2 exchanges × 4 messages", l.Validated(), l.Breakdown())
	}
	if got := l.Verdict("table", true, 9, func() []string { return nil }); got != 1 {
		t.Errorf("verdict below the minimum = %d", got)
	}
	if got := l.Verdict("table", true, 8, func() []string { return []string{"GET /x: no error answer"} }); got != 1 {
		t.Errorf("verdict with a coverage gap = %d", got)
	}
	if got := l.Verdict("table", false, 100, nil); got != 0 {
		t.Errorf("verdict of a partial run = %d", got)
	}
}
