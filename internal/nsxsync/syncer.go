package nsxsync

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"time"

	"github.com/microseg/microseg/internal/ir"
)

// Syncer runs the sync path for a long-lived caller — the operator, and the benchmarks that
// measure what the operator costs — and decides how much of NSX each sync reads:
//
//   - ReadFull for the first sync and after a failed one (a restart or a leader change starts a
//     new process, hence a new Syncer and a new backend cache);
//   - ReadIncremental for a periodic resync: when ResyncPeriod has passed since NSX was last
//     checked, and for every sync that no Kubernetes change triggered (a requeue);
//   - ReadCached for a sync a Kubernetes change triggered in between: it plans against what the
//     backend knows NSX holds, and reads only what its own writes need;
//   - and no NSX call at all when a Kubernetes change leaves the compiled model byte-identical to
//     the one the last sync brought NSX to (pods coming and going inside tag-based groups change
//     no NSX object): that sync's result stands.
//
// A sync that did not converge (NSX changed while microseg wrote, or keeps an object differently)
// makes the next one incremental. A Syncer is not safe for concurrent use: the operator runs one
// sync at a time.
type Syncer struct {
	cfg SyncerConfig
	// last is the last sync that brought NSX to a model (or, in dry-run, planned it).
	last *lastSync
	// checked is when NSX was last read for change detection (ReadFull or ReadIncremental).
	checked time.Time
	// needFull: no sync has succeeded yet, or the last one failed.
	needFull bool
	// needCheck: the last sync did not converge.
	needCheck bool
}

// SyncerConfig configures a Syncer.
type SyncerConfig struct {
	// Backend is the NSX API the syncs go through.
	Backend Backend
	// DryRun plans without writing (Options.DryRun).
	DryRun bool
	// ResyncPeriod is the longest time between two syncs that read NSX for changes made by others.
	ResyncPeriod time.Duration
	// PreApply is Options.PreApply.
	PreApply func(desired *ir.Model, p Plan) error
	// Now is the clock (default time.Now); benchmarks advance it to stand for the resync period.
	Now func() time.Time
}

type lastSync struct {
	fingerprint [sha256.Size]byte
	result      Result
}

// Run is what one Syncer.Sync did.
type Run struct {
	Result
	// Mode is the read mode the sync used (meaningless when Skipped).
	Mode ReadMode `json:"mode"`
	// Skipped: NSX was not contacted, because the model is the one the last sync brought NSX to;
	// Result is that sync's.
	Skipped bool `json:"skipped,omitempty"`
}

// NewSyncer returns a Syncer whose first sync reads NSX in full.
func NewSyncer(cfg SyncerConfig) *Syncer {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Syncer{cfg: cfg, needFull: true}
}

// Sync brings NSX to model. triggered says that Kubernetes changes (rather than the resync timer or
// a retry) started this sync.
func (s *Syncer) Sync(ctx context.Context, model *ir.Model, triggered bool) (Run, error) {
	start := s.cfg.Now()
	due := start.Sub(s.checked) >= s.cfg.ResyncPeriod
	fp, ok := Fingerprint(model)
	if l := s.last; ok && l != nil && triggered && !due && !s.needFull && !s.needCheck && l.fingerprint == fp {
		return Run{Result: l.result, Skipped: true}, nil
	}
	s.last = nil
	mode := s.mode(triggered, due)
	res, err := Sync(ctx, s.cfg.Backend, model, Options{DryRun: s.cfg.DryRun, Read: mode, PreApply: s.cfg.PreApply})
	run := Run{Result: res, Mode: mode}
	if err != nil {
		s.needFull = true
		return run, err
	}
	s.needFull = false
	if mode != ReadCached {
		s.checked = start
	}
	s.needCheck = !s.cfg.DryRun && !res.Converged
	if ok && (s.cfg.DryRun || res.Converged) {
		s.last = &lastSync{fingerprint: fp, result: res}
	}
	return run, nil
}

func (s *Syncer) mode(triggered, due bool) ReadMode {
	switch {
	case s.needFull:
		return ReadFull
	case due || !triggered || s.needCheck:
		return ReadIncremental
	}
	return ReadCached
}

// UntilResync is how long until the next periodic resync is due (at least a second).
func (s *Syncer) UntilResync() time.Duration {
	return max(s.cfg.ResyncPeriod-s.cfg.Now().Sub(s.checked), time.Second)
}

// Fingerprint identifies a model by content (the compiler's output is deterministic): two models
// with the same fingerprint need the same NSX objects. ok is false when the model cannot be
// encoded.
func Fingerprint(m *ir.Model) (fp [sha256.Size]byte, ok bool) {
	b, err := json.Marshal(m)
	if err != nil {
		return [sha256.Size]byte{}, false
	}
	return sha256.Sum256(b), true
}
