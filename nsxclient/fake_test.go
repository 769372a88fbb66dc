package nsxclient

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sync"
	"testing"
	"time"
)

// Test credentials. They are distinctive so that the redaction tests can grep for them.
const (
	testUser     = "svc-microseg"
	testPassword = "Pa55-W0rd-n3ver-printed!"
)

// recorded is one request the fake NSX received.
type recorded struct {
	Method      string
	EscapedPath string
	Query       url.Values
	Body        []byte
	Header      http.Header
}

// fakeNSX is an httptest TLS server that records every request and answers through a handler
// set by the test. It is deliberately dumb: each test scripts exactly the answers it needs.
type fakeNSX struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	reqs    []recorded
	handler func(w http.ResponseWriter, r *http.Request, body []byte)
}

func newFakeNSX(t *testing.T, handler func(w http.ResponseWriter, r *http.Request, body []byte)) *fakeNSX {
	t.Helper()
	f := &fakeNSX{t: t, handler: handler}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{Method: r.Method, EscapedPath: r.URL.EscapedPath(), Query: r.URL.Query(), Body: body, Header: r.Header.Clone()})
		h := f.handler
		f.mu.Unlock()
		h(w, r, body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// setHandler replaces the handler; safe while the server runs.
func (f *fakeNSX) setHandler(h func(w http.ResponseWriter, r *http.Request, body []byte)) {
	f.mu.Lock()
	f.handler = h
	f.mu.Unlock()
}

// currentHandler returns the handler, for wrapping it.
func (f *fakeNSX) currentHandler() func(w http.ResponseWriter, r *http.Request, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.handler
}

func (f *fakeNSX) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

// apiRequests returns the recorded requests except session logins and logouts.
func (f *fakeNSX) apiRequests() []recorded {
	var out []recorded
	for _, r := range f.requests() {
		if r.EscapedPath != sessionCreatePath && r.EscapedPath != sessionDestroyPath {
			out = append(out, r)
		}
	}
	return out
}

// config returns a Config for the fake: Basic auth, the fake's trusted transport, no rate limit
// and millisecond backoffs so that retry tests run fast.
func (f *fakeNSX) config() Config {
	return Config{
		Host:           f.srv.URL,
		Credentials:    StaticCredentials(testUser, testPassword),
		Transport:      f.srv.Client().Transport,
		RateLimit:      -1,
		RetryBaseDelay: time.Millisecond,
		RetryMaxDelay:  2 * time.Millisecond,
		Timeout:        5 * time.Second,
	}
}

func (f *fakeNSX) client(mutate ...func(*Config)) *Client {
	f.t.Helper()
	cfg := f.config()
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		f.t.Fatalf("New: %v", err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeNSXError(w http.ResponseWriter, status int, code int64, msg string) {
	writeJSON(w, status, APIErrorBody{HTTPStatus: http.StatusText(status), ErrorCode: code, ErrorMessage: msg, ModuleName: "test"})
}

// dropConnection closes the connection without answering, as a crashed proxy or a reset would.
func dropConnection(t *testing.T, w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		t.Errorf("response writer cannot hijack")
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	_ = conn.Close()
}

// sleepRecorder replaces Client.sleep: it records the requested waits and returns at once.
type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleepRecorder) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// jsonEqual compares two JSON documents semantically.
func jsonEqual(t *testing.T, got []byte, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("body %q is not JSON: %v", got, err)
		return false
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expected JSON %q: %v", want, err)
	}
	return reflect.DeepEqual(g, w)
}

// observerLog collects CallInfo values.
type observerLog struct {
	mu    sync.Mutex
	calls []CallInfo
}

func (o *observerLog) observe(ci CallInfo) {
	o.mu.Lock()
	o.calls = append(o.calls, ci)
	o.mu.Unlock()
}

func (o *observerLog) all() []CallInfo {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]CallInfo(nil), o.calls...)
}
