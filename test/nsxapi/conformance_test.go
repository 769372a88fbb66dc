package nsxapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Spec conformance bookkeeping shared by every test of the package.
//
// Each harness puts nsxspec.ValidatingTransport under the client (requests as the client sends
// them, responses as it receives them) and nsxspec.ValidatingHandler around the simulator
// (requests as the server sees them, responses as it writes them). Both only report problems, so
// this file also counts what they checked: a wiring mistake that validated nothing would
// otherwise look exactly like a clean run. TestMain prints the totals and fails the package on
// any unexpected violation or on a suspiciously small count.

// conformance is the package-wide ledger.
var conformance ledger

type ledger struct {
	// specLoaded is set once a harness found the vendor spec; without it nothing is validated
	// and TestMain does not insist on a count.
	specLoaded atomic.Bool

	clientRequests, clientResponses atomic.Int64
	serverRequests, serverResponses atomic.Int64
	// expected counts violations that tests provoked on purpose (deliberately invalid
	// requests); they prove the validators are live.
	expected atomic.Int64

	mu         sync.Mutex
	violations []string // unexpected ones, with the test that caused them
}

func (l *ledger) addViolation(s string) {
	l.mu.Lock()
	l.violations = append(l.violations, s)
	l.mu.Unlock()
}

func (l *ledger) unexpected() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.violations...)
}

func (l *ledger) validatedExchanges() int64 {
	return l.clientRequests.Load() + l.clientResponses.Load() + l.serverRequests.Load() + l.serverResponses.Load()
}

func (l *ledger) summary() string {
	return fmt.Sprintf("spec conformance: %d messages validated against nsx_api.json "+
		"(client: %d requests, %d responses; simulator: %d requests, %d responses); "+
		"%d deliberate violations caught; %d unexpected violations",
		l.validatedExchanges(), l.clientRequests.Load(), l.clientResponses.Load(),
		l.serverRequests.Load(), l.serverResponses.Load(), l.expected.Load(), len(l.unexpected()))
}

// specChecked mirrors what nsxspec's middleware validates: everything except the session
// endpoints (which the spec does not describe) and the simulator's private /sim/ API.
func specChecked(path string) bool {
	return !strings.HasPrefix(path, "/api/session/") && !strings.HasPrefix(path, "/sim/")
}

// countingTransport counts the exchanges the ValidatingTransport beneath it checked.
type countingTransport struct{ next http.RoundTripper }

func (c countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	checked := specChecked(req.URL.Path)
	if checked {
		conformance.clientRequests.Add(1)
	}
	resp, err := c.next.RoundTrip(req)
	if checked && err == nil {
		conformance.clientResponses.Add(1)
	}
	return resp, err
}

// countingHandler counts the exchanges the ValidatingHandler inside it checked. A dropped
// connection (the simulator aborts the handler) has a validated request and no response.
type countingHandler struct{ next http.Handler }

func (c countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	checked := specChecked(r.URL.Path)
	if checked {
		conformance.serverRequests.Add(1)
	}
	c.next.ServeHTTP(w, r)
	if checked {
		conformance.serverResponses.Add(1)
	}
}

// specReporter receives the violations of one harness. A test that sends a deliberately invalid
// request declares the violation it expects; matching reports are counted, not failed, and an
// expectation nobody met fails the test (the validator did not notice what it should have).
type specReporter struct {
	test string

	mu           sync.Mutex
	expectations []*expectation
	unexpected   []string
}

type expectation struct {
	fragment string
	hits     int
}

func newSpecReporter(test string) *specReporter { return &specReporter{test: test} }

// expect declares that a violation whose text contains fragment will be reported.
func (r *specReporter) expect(fragment string) {
	r.mu.Lock()
	r.expectations = append(r.expectations, &expectation{fragment: fragment})
	r.mu.Unlock()
}

// from returns the report function for one side ("client" or "simulator").
func (r *specReporter) from(side string) func(error) {
	return func(err error) {
		text := side + ": " + err.Error()
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, e := range r.expectations {
			if strings.Contains(text, e.fragment) {
				e.hits++
				conformance.expected.Add(1)
				return
			}
		}
		r.unexpected = append(r.unexpected, text)
		conformance.addViolation(r.test + ": " + text)
	}
}

// verify fails t for every unexpected violation and every unmet expectation. It runs as a
// cleanup, after the server has finished every request.
func (r *specReporter) verify(t *testing.T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range r.unexpected {
		t.Errorf("NSX API spec violation: %s", v)
	}
	for _, e := range r.expectations {
		if e.hits == 0 {
			t.Errorf("expected the spec validator to report %q, but it did not: is validation wired in?", e.fragment)
		}
	}
}
