package reliability_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/nsxsync/manager"
	"github.com/microseg/microseg/internal/nsxsync/policy"
	"github.com/microseg/microseg/nsxclient"
)

// process is one run of microseg's NSX side, as the operator holds it: its own client (own
// connections, own session, own adaptive rate) and backend. A fresh process knows nothing of the
// last one and starts with a full read.
type process struct {
	client  *nsxclient.Client
	backend nsxsync.Backend
	tr      *processTransport
	ctx     context.Context
	cancel  context.CancelFunc
}

// processOptions configure a process.
type processOptions struct {
	// crashAfter, when ≥ 0, kills the process right after its crashAfter-th NSX write: that write
	// is answered, and nothing else the process sends reaches NSX again (no cleanup, as a crash).
	crashAfter int
	// afterWrite, when set, runs after every NSX write the process made, with the write's number
	// (1, 2, …) in this process; the next request waits for it.
	afterWrite func(r *http.Request, n int)
	// limits are the compiler's limits (small ones split sections and guards).
	limits ir.Limits
	// policy configures the Policy backend (call size, rules per policy).
	policy policy.Config
	// client adjusts the client's configuration (rate, retries).
	client func(*nsxclient.Config)
}

// errCrashed is what a crashed process's requests get: they never reach NSX.
var errCrashed = errors.New("the process crashed: this request never left it")

// processTransport counts a process's NSX writes, runs the check after each, and plays the crash.
type processTransport struct {
	base       http.RoundTripper
	crashAfter int
	afterWrite func(*http.Request, int)
	cancel     context.CancelFunc

	mu      sync.Mutex
	writes  int
	crashed bool
	// statuses counts the error answers the process got, by status code (0: no answer).
	statuses map[int]int
}

// isWrite tells NSX writes from reads: any method but GET on the Manager or Policy API, except
// the Manager's POST reads.
func isWrite(r *http.Request) bool {
	if r.Method == http.MethodGet {
		return false
	}
	if !strings.HasPrefix(r.URL.Path, "/api/v1/") && !strings.HasPrefix(r.URL.Path, "/policy/api/v1/") {
		return false // logins
	}
	return r.URL.Query().Get("action") != "list_with_rules"
}

func (t *processTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	write := isWrite(r)
	t.mu.Lock()
	if write && t.crashAfter >= 0 && t.writes >= t.crashAfter {
		t.crashed = true // crashAfter 0: the process dies before its first write
	}
	crashed := t.crashed
	t.mu.Unlock()
	if crashed {
		t.cancel()
		return nil, errCrashed
	}
	resp, err := t.base.RoundTrip(r)
	t.countStatus(resp, err)
	if !write {
		return resp, err
	}
	t.mu.Lock()
	t.writes++
	n := t.writes
	crash := t.crashAfter >= 0 && n >= t.crashAfter
	if crash {
		t.crashed = true
	}
	t.mu.Unlock()
	if err == nil && resp.StatusCode < 300 && t.afterWrite != nil {
		t.afterWrite(r, n)
	}
	if crash {
		t.cancel()
	}
	return resp, err
}

func (t *processTransport) countStatus(resp *http.Response, err error) {
	code := 0
	if err == nil {
		code = resp.StatusCode
	}
	if code != 0 && code < 400 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.statuses == nil {
		t.statuses = map[int]int{}
	}
	t.statuses[code]++
}

// Statuses are the error answers the process got, by status code (0: the connection failed).
func (t *processTransport) Statuses() map[int]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.statuses)
}

// Writes is the number of NSX writes the process sent.
func (t *processTransport) Writes() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.writes
}

// startProcess starts microseg's NSX side against w.
func (w *nsxWorld) startProcess(opts processOptions) *process {
	w.t.Helper()
	ctx, cancel := context.WithCancel(w.ctx)
	tr := &processTransport{base: w.baseTransport(), crashAfter: opts.crashAfter, afterWrite: opts.afterWrite, cancel: cancel}
	cfg := w.nsx.ClientConfig()
	cfg.CACertPEM, cfg.Transport = nil, tr
	cfg.MaxRetries, cfg.RetryBaseDelay, cfg.RetryMaxDelay, cfg.MaxRetryAfter = 5, time.Millisecond, 5*time.Millisecond, 5*time.Millisecond
	if opts.client != nil {
		opts.client(&cfg)
	}
	client, err := nsxclient.New(cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	p := &process{client: client, tr: tr, ctx: ctx, cancel: cancel}
	if w.api == policy.API {
		pc := opts.policy
		pc.ClusterID = cluster
		if pc.RealizationPoll == 0 {
			pc.RealizationPoll = time.Millisecond
		}
		p.backend, err = policy.New(client, pc)
	} else {
		p.backend, err = manager.Over(client, manager.Config{ClusterID: cluster, Anchor: w.anchor, Limits: opts.limits})
	}
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

// sync runs the sync path once.
func (p *process) sync(m *ir.Model, mode nsxsync.ReadMode) (nsxsync.Result, error) {
	return nsxsync.Sync(p.ctx, p.backend, m, nsxsync.Options{Read: mode})
}

// stop ends the process: whatever it was doing is abandoned and its connections are closed.
func (p *process) stop() {
	p.cancel()
	if c, ok := p.tr.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
