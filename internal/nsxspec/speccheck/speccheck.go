// Package speccheck is the bookkeeping of the test suites that validate NSX exchanges with
// nsxspec's middleware (test/nsxapi against the vendor's Manager API spec, test/policyapi against
// the Policy API table): how many exchanges were checked, which violations were reported, and
// which a test provoked on purpose. The middleware only reports problems, so counting what it
// checked is what tells a clean run from a wiring mistake that validated nothing.
package speccheck

import (
	"flag"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Ledger is the package-wide account of one test suite. The zero value is ready to use.
type Ledger struct {
	ClientRequests, ClientResponses atomic.Int64
	ServerRequests, ServerResponses atomic.Int64
	// Expected counts violations tests provoked on purpose: they prove the validators are live.
	Expected atomic.Int64

	mu         sync.Mutex
	violations []string
}

// Validated is the number of messages the validators checked.
func (l *Ledger) Validated() int64 {
	return l.ClientRequests.Load() + l.ClientResponses.Load() + l.ServerRequests.Load() + l.ServerResponses.Load()
}

// Unexpected returns the violations no test expected, each with the test that caused it.
func (l *Ledger) Unexpected() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.violations...)
}

// Breakdown describes the counts per side, for a summary line.
func (l *Ledger) Breakdown() string {
	return fmt.Sprintf("client: %d requests, %d responses; simulator: %d requests, %d responses",
		l.ClientRequests.Load(), l.ClientResponses.Load(), l.ServerRequests.Load(), l.ServerResponses.Load())
}

// CountingTransport counts the exchanges the validating transport it wraps checks: requests
// whose path checked accepts, and their responses.
func (l *Ledger) CountingTransport(next http.RoundTripper, checked func(path string) bool) http.RoundTripper {
	return countingTransport{l: l, next: next, checked: checked}
}

type countingTransport struct {
	l       *Ledger
	next    http.RoundTripper
	checked func(string) bool
}

func (c countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	checked := c.checked(req.URL.Path)
	if checked {
		c.l.ClientRequests.Add(1)
	}
	resp, err := c.next.RoundTrip(req)
	if checked && err == nil {
		c.l.ClientResponses.Add(1)
	}
	return resp, err
}

// CountingHandler counts the exchanges the validating handler it wraps checks. A dropped
// connection (the handler aborts) has a validated request and no response.
func (l *Ledger) CountingHandler(next http.Handler, checked func(path string) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := checked(r.URL.Path)
		if ok {
			l.ServerRequests.Add(1)
		}
		next.ServeHTTP(w, r)
		if ok {
			l.ServerResponses.Add(1)
		}
	})
}

// Reporter receives the violations of one test. A test that sends a deliberately invalid
// request declares the violation it expects; matching reports are counted, not failed, and an
// expectation nobody met fails the test (the validator did not notice what it should have).
type Reporter struct {
	l    *Ledger
	test string

	mu           sync.Mutex
	expectations []*expectation
	unexpected   []string
}

type expectation struct {
	fragment string
	hits     int
}

// NewReporter returns the reporter of one test.
func (l *Ledger) NewReporter(test string) *Reporter { return &Reporter{l: l, test: test} }

// Expect declares that a violation whose text contains fragment will be reported.
func (r *Reporter) Expect(fragment string) {
	r.mu.Lock()
	r.expectations = append(r.expectations, &expectation{fragment: fragment})
	r.mu.Unlock()
}

// Hits is how many reports matched the expectations with this fragment.
func (r *Reporter) Hits(fragment string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.expectations {
		if e.fragment == fragment {
			n += e.hits
		}
	}
	return n
}

// From returns the report function for one side ("client", "simulator", ...).
func (r *Reporter) From(side string) func(error) {
	return func(err error) {
		text := side + ": " + err.Error()
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, e := range r.expectations {
			if strings.Contains(text, e.fragment) {
				e.hits++
				r.l.Expected.Add(1)
				return
			}
		}
		r.unexpected = append(r.unexpected, text)
		r.l.mu.Lock()
		r.l.violations = append(r.l.violations, r.test+": "+text)
		r.l.mu.Unlock()
	}
}

// Verify fails t for every unexpected violation and every unmet expectation. Run it after the
// server has finished every request (a cleanup registered before the server's Close).
func (r *Reporter) Verify(t testing.TB) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range r.unexpected {
		t.Errorf("API description violation: %s", v)
	}
	for _, e := range r.expectations {
		if e.hits == 0 {
			t.Errorf("expected the validator to report %q, but it did not: is validation wired in?", e.fragment)
		}
	}
}

// FullRun reports whether every test of the package ran (no -run, -skip or -short), so that
// totals such as a minimum count of validated messages are meaningful.
func FullRun() bool {
	for _, name := range []string{"test.run", "test.skip"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	return !testing.Short()
}

// Verdict is TestMain's judgement of the ledger, printed so that every problem shows at once: 1
// on any unexpected violation of what (e.g. "NSX API spec"), and, when totalsMatter (a full run
// in which validation could happen), on fewer than minValidated messages or on any gap in the
// suite's own coverage list.
func (l *Ledger) Verdict(what string, totalsMatter bool, minValidated int64, gaps func() []string) int {
	if v := l.Unexpected(); len(v) > 0 {
		printList(fmt.Sprintf("FAIL: %d %s violations:", len(v), what), v)
		return 1
	}
	if !totalsMatter {
		return 0 // nothing ran, or only some tests: totals mean nothing
	}
	if n := l.Validated(); n < minValidated {
		fmt.Printf("FAIL: only %d messages were validated against the %s (want at least %d): the validating middleware is not in the path\n",
			n, what, minValidated)
		return 1
	}
	if g := gaps(); len(g) > 0 {
		printList(fmt.Sprintf("FAIL: %d client endpoints lack coverage:", len(g)), g)
		return 1
	}
	return 0
}

func printList(head string, items []string) {
	fmt.Println(head)
	for _, s := range items {
		fmt.Println("  " + s)
	}
}
