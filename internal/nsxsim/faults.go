package nsxsim

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/microseg/microseg/nsxclient"
)

// FaultKind names an injected failure.
type FaultKind string

// Fault kinds. Their bodies follow what NSX sends (vendor spec ApiError; nsxlib, nsx-operator).
const (
	// FaultUnavailable answers 503 Service Unavailable (global concurrency limit, cluster down).
	FaultUnavailable FaultKind = "unavailable"
	// FaultReconfiguring answers 500 with error_code 607 ("MP cluster is reconfiguring": retry).
	FaultReconfiguring FaultKind = "reconfiguring"
	// FaultTooManyRequests answers 429 with Retry-After, as the per-client limits do.
	FaultTooManyRequests FaultKind = "too_many_requests"
	// FaultLatency delays the request by Latency (real time, and counted as simulated time), then
	// serves it normally.
	FaultLatency FaultKind = "latency"
	// FaultDrop closes the connection without any response.
	FaultDrop FaultKind = "drop"
)

// FaultRule injects one kind of failure into the requests it matches. Every set matcher must
// match; an empty rule matches every /api request.
type FaultRule struct {
	Kind FaultKind `json:"kind"`
	// Method matches the HTTP method ("GET", "POST", ...).
	Method string `json:"method,omitempty"`
	// PathPrefix matches the start of the request path, e.g. "/api/v1/firewall/".
	PathPrefix string `json:"path_prefix,omitempty"`
	// Endpoint matches one route exactly, as named in Stats, e.g.
	// "POST /api/v1/firewall/sections/{section-id}?action=update_with_rules".
	Endpoint string `json:"endpoint,omitempty"`
	// Skip lets the first Skip matching requests through untouched.
	Skip int `json:"skip,omitempty"`
	// Count is how many times the rule fires before it is spent; 0 means without end.
	Count int `json:"count,omitempty"`
	// Probability, when in (0,1), fires the rule on that share of matching requests, drawn from
	// the seeded generator (Faults.Seed) so runs repeat.
	Probability float64 `json:"probability,omitempty"`
	// Latency is the added delay of FaultLatency (JSON: a Go duration string such as "250ms").
	Latency time.Duration `json:"-"`
	// RetryAfter is the Retry-After value in seconds for 429 and 503 (default 1).
	RetryAfter int `json:"retry_after,omitempty"`

	seen, fired int
}

type faultRuleJSON struct {
	Latency string `json:"latency,omitempty"`
	Fired   int    `json:"fired,omitempty"`
}

// MarshalJSON renders Latency as a duration string and reports how often the rule fired.
func (r FaultRule) MarshalJSON() ([]byte, error) {
	type plain FaultRule
	out := struct {
		plain
		faultRuleJSON
	}{plain: plain(r), faultRuleJSON: faultRuleJSON{Fired: r.fired}}
	if r.Latency > 0 {
		out.faultRuleJSON.Latency = r.Latency.String()
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads Latency as a duration string ("250ms") or a number of milliseconds.
func (r *FaultRule) UnmarshalJSON(b []byte) error {
	type plain FaultRule
	var in struct {
		plain
		Latency json.RawMessage `json:"latency"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*r = FaultRule(in.plain)
	if len(in.Latency) > 0 {
		var str string
		if json.Unmarshal(in.Latency, &str) == nil {
			d, err := time.ParseDuration(str)
			if err != nil {
				return fmt.Errorf("latency: %w", err)
			}
			r.Latency = d
		} else {
			var ms float64
			if err := json.Unmarshal(in.Latency, &ms); err != nil {
				return fmt.Errorf("latency: %w", err)
			}
			r.Latency = time.Duration(ms * float64(time.Millisecond))
		}
	}
	return nil
}

// ConcurrentEdit simulates an administrator who edits an object between a client's read and its
// write: after the AfterReads-th time the client is shown a matching object (by GET or in a list
// page), that object's _revision is bumped, so the client's next write with the revision it read
// gets 409 (sections, rules) or 412 (groups, IP sets, ports, and every Policy object).
type ConcurrentEdit struct {
	// Kind is one of KindSection, KindRule, KindNSGroup, KindIPSet, KindLogicalPort, or a Policy
	// resource type: KindPolicyGroup, KindSecurityPolicy, KindPolicyRule, KindSegmentPort, ...
	Kind string `json:"kind"`
	// ID limits the edit to one object (for Policy objects, its path); empty means whichever
	// object of Kind is read.
	ID string `json:"id,omitempty"`
	// AfterReads is how many reads trigger an edit (default 1).
	AfterReads int `json:"after_reads,omitempty"`
	// Count is how many edits happen in all (default 1).
	Count int `json:"count,omitempty"`

	reads, edits int
}

// Faults is the whole fault configuration; SetFaults replaces it.
type Faults struct {
	// Seed drives Probability draws; the same seed and request sequence give the same faults.
	Seed uint64 `json:"seed,omitempty"`
	// RateLimitPerSecond answers 429 to a user's requests above this many per clock second
	// (NSX's client_api_rate_limit, default 100 on a real manager; 0 here means off).
	RateLimitPerSecond int              `json:"rate_limit_per_second,omitempty"`
	Rules              []FaultRule      `json:"rules,omitempty"`
	ConcurrentEdits    []ConcurrentEdit `json:"concurrent_edits,omitempty"`
	// RealizationErrors make matching Policy intents realize with ERROR (policy_realization.go).
	RealizationErrors []RealizationFault `json:"realization_errors,omitempty"`
}

// faultInjector holds the active Faults and their counters.
type faultInjector struct {
	mu      sync.Mutex
	cfg     Faults
	rng     *rand.Rand
	windows map[string]rateWindow
}

type rateWindow struct {
	second int64
	count  int
}

func newFaultInjector() *faultInjector {
	f := &faultInjector{}
	f.set(Faults{})
	return f
}

func (f *faultInjector) set(cfg Faults) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cfg.Rules = append([]FaultRule(nil), cfg.Rules...)
	cfg.ConcurrentEdits = append([]ConcurrentEdit(nil), cfg.ConcurrentEdits...)
	cfg.RealizationErrors = append([]RealizationFault(nil), cfg.RealizationErrors...)
	f.cfg = cfg
	f.rng = rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0xfa017))
	f.windows = map[string]rateWindow{}
}

func (f *faultInjector) get() Faults {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.cfg
	out.Rules = append([]FaultRule(nil), f.cfg.Rules...)
	out.ConcurrentEdits = append([]ConcurrentEdit(nil), f.cfg.ConcurrentEdits...)
	out.RealizationErrors = append([]RealizationFault(nil), f.cfg.RealizationErrors...)
	return out
}

func (f *faultInjector) addRule(r FaultRule) {
	f.mu.Lock()
	f.cfg.Rules = append(f.cfg.Rules, r)
	f.mu.Unlock()
}

func (f *faultInjector) addEdit(e ConcurrentEdit) {
	f.mu.Lock()
	f.cfg.ConcurrentEdits = append(f.cfg.ConcurrentEdits, e)
	f.mu.Unlock()
}

// faultDecision is what the injector decided for one request.
type faultDecision struct {
	latency    time.Duration
	drop       bool
	err        *apiError
	retryAfter int
}

func (d faultDecision) reply() reply {
	rep := fail(d.err)
	if d.retryAfter > 0 {
		rep.header = http.Header{"Retry-After": {strconv.Itoa(d.retryAfter)}}
	}
	return rep
}

func (r *FaultRule) matches(endpoint, method, path string) bool {
	return (r.Method == "" || strings.EqualFold(r.Method, method)) &&
		(r.PathPrefix == "" || strings.HasPrefix(path, r.PathPrefix)) &&
		(r.Endpoint == "" || r.Endpoint == endpoint)
}

// before rolls the fault rules for one request. Latency rules add up; the first failing rule that
// fires decides the outcome.
func (f *faultInjector) before(endpoint, method, path string) faultDecision {
	f.mu.Lock()
	defer f.mu.Unlock()
	var d faultDecision
	for i := range f.cfg.Rules {
		r := &f.cfg.Rules[i]
		if !r.matches(endpoint, method, path) || (r.Count > 0 && r.fired >= r.Count) {
			continue
		}
		if r.Kind != FaultLatency && (d.err != nil || d.drop) {
			continue // the outcome is decided; later failure rules neither count nor fire
		}
		r.seen++
		if r.seen <= r.Skip {
			continue
		}
		if r.Probability > 0 && r.Probability < 1 && f.rng.Float64() >= r.Probability {
			continue
		}
		r.fired++
		retryAfter := r.RetryAfter
		if retryAfter <= 0 {
			retryAfter = 1
		}
		switch r.Kind {
		case FaultLatency:
			d.latency += r.Latency
		case FaultDrop:
			d.drop = true
		case FaultUnavailable:
			d.err = newAPIError(http.StatusServiceUnavailable, 0, moduleCommon,
				"Service unavailable: the API concurrency limit was reached or the cluster is unavailable. Retry later.")
			d.retryAfter = retryAfter
		case FaultReconfiguring:
			d.err = newAPIError(http.StatusInternalServerError, nsxclient.ErrCodeReconfiguring, moduleCommon,
				"API transaction aborted as MP cluster is reconfiguring.")
		case FaultTooManyRequests:
			d.err = newAPIError(http.StatusTooManyRequests, 0, moduleCommon,
				"Client exceeded the API concurrency or rate limit.")
			d.retryAfter = retryAfter
		}
	}
	return d
}

// rateLimit counts a request of who in the current clock second and refuses it with 429 above
// the limit ("Client 'admin' exceeded request rate of 100 per second.", NSX's message). Refused
// requests do not count.
func (f *faultInjector) rateLimit(now time.Time, who string) faultDecision {
	f.mu.Lock()
	defer f.mu.Unlock()
	limit := f.cfg.RateLimitPerSecond
	if limit <= 0 {
		return faultDecision{}
	}
	sec := now.Unix()
	w := f.windows[who]
	if w.second != sec {
		w = rateWindow{second: sec}
	}
	if w.count >= limit {
		return faultDecision{retryAfter: 1, err: newAPIError(http.StatusTooManyRequests, 0, moduleCommon,
			"Client '%s' exceeded request rate of %d per second.", who, limit)}
	}
	w.count++
	f.windows[who] = w
	return faultDecision{}
}

// noteReads counts reads against the concurrent edits and returns the objects to edit now.
func (f *faultInjector) noteReads(reads []objectRef) []objectRef {
	if len(reads) == 0 {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var edit []objectRef
	for i := range f.cfg.ConcurrentEdits {
		e := &f.cfg.ConcurrentEdits[i]
		count, after := max(e.Count, 1), max(e.AfterReads, 1)
		for _, ref := range reads {
			if e.edits >= count || ref.kind != e.Kind || (e.ID != "" && e.ID != ref.id) {
				continue
			}
			e.reads++
			if e.reads >= after {
				e.reads = 0
				e.edits++
				edit = append(edit, ref)
			}
		}
	}
	return edit
}

// applyConcurrentEdits bumps the revisions of objects the concurrent editor touches. Called with
// s.mu held, after the reply that showed the old revision has been built.
func (s *Server) applyConcurrentEdits(reads []objectRef) {
	for _, ref := range s.faults.noteReads(reads) {
		s.st.adminEdit(ref)
	}
}

// concurrentEditor is the user the simulated administrator edits as.
const concurrentEditor = "admin-concurrent-edit"

// adminEdit bumps an object's _revision as an out-of-band edit would.
func (st *state) adminEdit(ref objectRef) {
	switch ref.kind {
	case KindSection:
		if sec, ok := st.sections[ref.id]; ok {
			st.touch(&sec.ManagedResource, concurrentEditor)
		}
	case KindRule:
		sid := st.ruleSection[ref.id]
		if _, r := st.sectionRule(sid, ref.id); r != nil {
			r.Revision++
			st.touch(&st.sections[sid].ManagedResource, concurrentEditor)
		}
	case KindNSGroup:
		if g, ok := st.groups.get(ref.id); ok {
			st.touch(&g.ManagedResource, concurrentEditor)
		}
	case KindIPSet:
		if ip, ok := st.ipsets.get(ref.id); ok {
			st.touch(&ip.ManagedResource, concurrentEditor)
		}
	case KindLogicalPort:
		if p, ok := st.ports.get(ref.id); ok {
			st.touch(&p.ManagedResource, concurrentEditor)
		}
	default:
		st.pol.adminEdit(ref.id, st.clock.Now())
	}
	st.changed()
}

// SetFaults replaces the fault configuration and resets its counters.
func (s *Server) SetFaults(f Faults) { s.faults.set(f) }

// CurrentFaults returns the fault configuration in force.
func (s *Server) CurrentFaults() Faults { return s.faults.get() }

// InjectFault adds one fault rule to the configuration.
func (s *Server) InjectFault(r FaultRule) { s.faults.addRule(r) }

// InjectConcurrentEdit adds one concurrent-editor fault.
func (s *Server) InjectConcurrentEdit(e ConcurrentEdit) { s.faults.addEdit(e) }

// InjectRealizationError makes Policy intents under a path prefix realize with ERROR.
func (s *Server) InjectRealizationError(f RealizationFault) {
	s.faults.mu.Lock()
	s.faults.cfg.RealizationErrors = append(s.faults.cfg.RealizationErrors, f)
	s.faults.mu.Unlock()
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() { s.faults.set(Faults{}) }
