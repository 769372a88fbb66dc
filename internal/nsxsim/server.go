package nsxsim

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

// Clock tells the simulator the time; tests pass a *FakeClock to expire sessions or to step
// through rate-limit windows without sleeping.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// FakeClock is a manually advanced Clock, safe for concurrent use.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewFakeClock returns a FakeClock reading t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{now: t} }

// Now returns the clock's current time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Options configure a Server. The zero value is usable except that nobody can log in: set Users
// (or ClientCertCNs when serving over TLS with client auth).
type Options struct {
	// Users maps user names to passwords for HTTP Basic and session auth.
	Users map[string]string
	// ClientCertCNs, when non-nil, enables principal-identity auth with client certificates: a
	// request over TLS whose verified peer certificate has one of these subject CNs is
	// authenticated as that CN. An empty non-nil slice accepts any verified certificate. The TLS
	// layer (tls.Config.ClientCAs / ClientAuth) does the verification.
	ClientCertCNs []string
	// NSGroupPageSize caps GET /ns-groups pages ("The page size is restricted to 50 NSGroups",
	// the vendor spec). Default 50.
	NSGroupPageSize int
	// DefaultPageSize is the page size when a list call sends none. Default 1000.
	DefaultPageSize int
	// Clock defaults to the system clock.
	Clock Clock
	// Cost is the simulated latency model; nil means DefaultCostModel().
	Cost *CostModel
	// SessionTimeout is the idle timeout of /api/session/create sessions (NSX default 1800 s).
	SessionTimeout time.Duration
	// Seed makes generated ids (UUIDs of sections, groups, IP sets, ports, session tokens)
	// deterministic. 0 picks a random seed.
	Seed uint64
	// Logf, when set, receives one line per API call.
	Logf func(format string, args ...any)
	// ProtectSimAPI makes the private /sim/v1 endpoints require NSX credentials too.
	ProtectSimAPI bool

	// Policy API behaviour (doc.go lists the choices behind each).

	// PolicyRealizationDelay is how long after a Policy write its realized state stays
	// UNREALIZED before it turns REALIZED (0: realized at once).
	PolicyRealizationDelay time.Duration
	// PolicyDeleteDelay is how long a deleted Policy object stays marked for delete: hidden from
	// reads, listed with include_mark_for_delete_objects, and blocking writes to its path with
	// 400/500045 (0: removed at once).
	PolicyDeleteDelay time.Duration
	// PolicyTieBreakSeed, when not 0, orders security policies (and rules) with equal
	// sequence_numbers by a hash of their paths drawn from this seed instead of by path: NSX
	// leaves their order undefined, and shuffling flushes out reliance on it.
	PolicyTieBreakSeed uint64
	// PolicyPatchKeepsOmittedRules makes a PATCH of a security policy whose body lists rules keep
	// the rules it does not list. By default they are deleted (the documented "full replace").
	PolicyPatchKeepsOmittedRules bool
	// ProtectedPrincipals are the users whose Policy objects only they may change (principal
	// identities created with is_protected); others need X-Allow-Overwrite: true.
	ProtectedPrincipals []string
}

func (o Options) withDefaults() Options {
	if o.NSGroupPageSize <= 0 {
		o.NSGroupPageSize = 50
	}
	if o.DefaultPageSize <= 0 || o.DefaultPageSize > maxPageSize {
		o.DefaultPageSize = maxPageSize
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.Cost == nil {
		c := DefaultCostModel()
		o.Cost = &c
	}
	if o.SessionTimeout <= 0 {
		o.SessionTimeout = 1800 * time.Second
	}
	if o.Seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		o.Seed = binary.LittleEndian.Uint64(b[:]) | 1
	}
	return o
}

// Server simulates one NSX-T Manager. It is safe for concurrent use.
type Server struct {
	opts   Options
	routes []*route

	mu sync.Mutex // guards st, dp and traces
	st *state
	dp dataplaneCache
	// traces are the Traceflow rounds (traceflow_api.go).
	traces traceStore

	sessions *sessionStore
	faults   *faultInjector
	stats    *statsRecorder
}

// New returns a simulator holding only NSX's default LAYER3 and LAYER2 sections.
func New(opts Options) *Server {
	opts = opts.withDefaults()
	s := &Server{
		opts:     opts,
		st:       newState(opts.Seed, opts.Clock, opts.PolicyTieBreakSeed),
		sessions: newSessionStore(opts.Seed, opts.SessionTimeout),
		faults:   newFaultInjector(),
		stats:    newStatsRecorder(),
	}
	s.routes = s.buildRoutes()
	return s
}

// Reset drops every object, fault and counter and returns to the initial state (default sections
// only, same ids as after New for the same seed). Sessions survive.
func (s *Server) Reset() {
	s.mu.Lock()
	s.st = newState(s.opts.Seed, s.opts.Clock, s.opts.PolicyTieBreakSeed)
	s.dp = dataplaneCache{}
	s.traces = traceStore{}
	s.mu.Unlock()
	s.faults.set(Faults{})
	s.stats.reset()
}

func (s *Server) now() time.Time { return s.opts.Clock.Now() }
