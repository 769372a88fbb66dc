package policyapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// The conformance ledger: how many Policy exchanges the validators checked, and the violations
// they reported. A wiring mistake that validated nothing would otherwise look like a clean run.

var ledger book

type book struct {
	clientRequests, clientResponses atomic.Int64
	serverRequests, serverResponses atomic.Int64
	expected                        atomic.Int64

	mu         sync.Mutex
	violations []string
}

func (b *book) add(v string) {
	b.mu.Lock()
	b.violations = append(b.violations, v)
	b.mu.Unlock()
}

func (b *book) unexpected() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.violations...)
}

func (b *book) validated() int64 {
	return b.clientRequests.Load() + b.clientResponses.Load() + b.serverRequests.Load() + b.serverResponses.Load()
}

func (b *book) summary() string {
	return fmt.Sprintf("policy API table: %d messages validated (client: %d requests, %d responses; simulator: %d requests, %d responses); %d deliberate violations caught; %d unexpected",
		b.validated(), b.clientRequests.Load(), b.clientResponses.Load(), b.serverRequests.Load(), b.serverResponses.Load(),
		b.expected.Load(), len(b.unexpected()))
}

func isPolicyPath(p string) bool {
	return strings.HasPrefix(p, "/policy/api/v1/") || p == "/policy/api/v1"
}

// countingTransport counts the Policy exchanges the validating transport beneath it checked.
type countingTransport struct{ next http.RoundTripper }

func (c countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	policy := isPolicyPath(req.URL.Path)
	if policy {
		ledger.clientRequests.Add(1)
	}
	resp, err := c.next.RoundTrip(req)
	if policy && err == nil {
		ledger.clientResponses.Add(1)
	}
	return resp, err
}

// countingHandler counts the Policy exchanges the validating handler inside it checked.
type countingHandler struct{ next http.Handler }

func (c countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	policy := isPolicyPath(r.URL.Path)
	if policy {
		ledger.serverRequests.Add(1)
	}
	c.next.ServeHTTP(w, r)
	if policy {
		ledger.serverResponses.Add(1)
	}
}

// reporter collects the violations of one harness; a test that sends an invalid request on
// purpose declares the violation it expects.
type reporter struct {
	test         string
	mu           sync.Mutex
	expectations map[string]int
	unexpected   []string
}

func (r *reporter) expect(fragment string) {
	r.mu.Lock()
	r.expectations[fragment] += 0
	r.mu.Unlock()
}

func (r *reporter) from(side string) func(error) {
	return func(err error) {
		text := side + ": " + err.Error()
		r.mu.Lock()
		defer r.mu.Unlock()
		for f := range r.expectations {
			if strings.Contains(text, f) {
				r.expectations[f]++
				ledger.expected.Add(1)
				return
			}
		}
		r.unexpected = append(r.unexpected, text)
		ledger.add(r.test + ": " + text)
	}
}

func (r *reporter) verify(t *testing.T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range r.unexpected {
		t.Errorf("API table violation: %s", v)
	}
	for f, hits := range r.expectations {
		if hits == 0 {
			t.Errorf("expected the validator to report %q, but it did not", f)
		}
	}
}
