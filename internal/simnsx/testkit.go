package simnsx

import (
	"net/http"
	"strconv"
	"sync"
)

// AfterWrites is a transport for tests that calls a function after every write NSX accepted, for
// instance to check an invariant in every state a change passes through.
type AfterWrites struct {
	// Base carries the requests.
	Base http.RoundTripper
	// IsWrite says which successful non-GET requests count (nil: every one).
	IsWrite func(*http.Request) bool

	mu    sync.Mutex
	after func(*http.Request)
}

// Set installs f (nil: none); it is called after each counted write, from the caller's goroutine.
func (a *AfterWrites) Set(f func(*http.Request)) {
	a.mu.Lock()
	a.after = f
	a.mu.Unlock()
}

// RoundTrip implements http.RoundTripper.
func (a *AfterWrites) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := a.Base.RoundTrip(r)
	if err != nil || resp.StatusCode >= 300 || r.Method == http.MethodGet || (a.IsWrite != nil && !a.IsWrite(r)) {
		return resp, err
	}
	a.mu.Lock()
	f := a.after
	a.mu.Unlock()
	if f != nil {
		f(r)
	}
	return resp, err
}

// Flow is a connection between two of a test's pods (by index) on a protocol and port.
type Flow struct {
	Src, Dst int
	Proto    string
	Port     int
}

// TestPorts are the ports the simulator-backed tests probe.
var TestPorts = []struct {
	Proto string
	Port  int
}{{"TCP", 80}, {"TCP", 443}, {"UDP", 53}}

// PairFlows lists every ordered pair of n pods on every test port.
func PairFlows(n int) []Flow {
	var out []Flow
	for s := range n {
		for d := range n {
			if s == d {
				continue
			}
			for _, p := range TestPorts {
				out = append(out, Flow{Src: s, Dst: d, Proto: p.Proto, Port: p.Port})
			}
		}
	}
	return out
}

// Describe names a flow by its pods' names: "a1→b1 TCP/80".
func (f Flow) Describe(names []string) string {
	return names[f.Src] + "→" + names[f.Dst] + " " + f.Proto + "/" + strconv.Itoa(f.Port)
}
