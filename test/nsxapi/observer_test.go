package nsxapi_test

import (
	"sync"
	"time"

	"github.com/microseg/microseg/nsxclient"
)

// callLog records every HTTP attempt the harness's clients make (nsxclient.Config.Observer), so
// tests can assert on retries, logins and the waits between attempts.
type callLog struct {
	mu    sync.Mutex
	calls []observedCall
}

// observedCall is one attempt and when it ended.
type observedCall struct {
	nsxclient.CallInfo
	end time.Time
}

// start is when the attempt began talking to NSX (after the client-side rate limiter).
func (c observedCall) start() time.Time { return c.end.Add(-c.Duration) }

func (l *callLog) record(ci nsxclient.CallInfo) {
	now := time.Now()
	l.mu.Lock()
	l.calls = append(l.calls, observedCall{CallInfo: ci, end: now})
	l.mu.Unlock()
}

// snapshot returns the attempts so far, in the order they ended.
func (l *callLog) snapshot() []observedCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]observedCall(nil), l.calls...)
}

func (l *callLog) reset() {
	l.mu.Lock()
	l.calls = nil
	l.mu.Unlock()
}

// to returns the attempts at one endpoint, e.g. "GET /firewall/sections/{id}".
func (l *callLog) to(endpoint string) []observedCall {
	var out []observedCall
	for _, c := range l.snapshot() {
		if c.Endpoint == endpoint {
			out = append(out, c)
		}
	}
	return out
}

// statuses lists the HTTP status of each attempt at endpoint (0: no response).
func (l *callLog) statuses(endpoint string) []int {
	var out []int
	for _, c := range l.to(endpoint) {
		out = append(out, c.StatusCode)
	}
	return out
}
