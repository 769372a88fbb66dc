package nsxconn

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/go-logr/logr"
)

// DefaultFileCheckInterval is how often a file-backed setting (the NSX client certificate, the CA
// bundle) looks at its files for a new version.
const DefaultFileCheckInterval = 10 * time.Second

// DefaultCertCheckInterval is DefaultFileCheckInterval (the name the client certificate had first).
const DefaultCertCheckInterval = DefaultFileCheckInterval

// fileBacked is a value loaded from files and loaded again when they change, so that a rotated
// Secret (cert-manager, a re-mounted volume) takes effect without a restart. At most every
// interval it compares the files' modification times and sizes with the last load; a reload that
// fails (a key written before its certificate, say) keeps the last good value, is logged, and is
// tried again at the next check. It is safe for concurrent use.
type fileBacked[T any] struct {
	files    []string
	load     func() (T, error)
	interval time.Duration
	now      func() time.Time
	log      logr.Logger
	what     string // for the log: "NSX client certificate"

	mu        sync.Mutex
	value     T
	loaded    []fileStamp
	checkedAt time.Time
}

type fileStamp struct {
	mod  time.Time
	size int64
}

// newFileBacked loads the value once, so that a wrong path or content fails at start with a
// clear error. interval <= 0 means DefaultFileCheckInterval.
func newFileBacked[T any](what string, files []string, load func() (T, error), interval time.Duration, log logr.Logger) (*fileBacked[T], error) {
	if interval <= 0 {
		interval = DefaultFileCheckInterval
	}
	f := &fileBacked[T]{files: files, load: load, interval: interval, now: time.Now, log: log, what: what}
	if err := f.reload(); err != nil {
		return nil, err
	}
	return f, nil
}

// get returns the current value, reloading it first when the check is due and the files changed.
func (f *fileBacked[T]) get() T {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.now().Sub(f.checkedAt) >= f.interval {
		if err := f.reload(); err != nil {
			f.log.Error(err, "Keeping the previous version", "what", f.what)
		}
	}
	return f.value
}

// reload loads the value if the files changed since the last load. Callers hold mu (or own f).
func (f *fileBacked[T]) reload() error {
	f.checkedAt = f.now()
	stamps := make([]fileStamp, len(f.files))
	for i, name := range f.files {
		st, err := os.Stat(name)
		if err != nil {
			return fmt.Errorf("%s: %w", f.what, err)
		}
		stamps[i] = fileStamp{mod: st.ModTime(), size: st.Size()}
	}
	if f.loaded != nil && equalStamps(stamps, f.loaded) {
		return nil
	}
	v, err := f.load()
	if err != nil {
		return err
	}
	f.value, f.loaded = v, stamps
	return nil
}

func equalStamps(a, b []fileStamp) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}
