package nsxsync

import (
	"math"
	"time"
)

// DefaultVerifyWindow is how long a backend may go without re-reading an object whose changes it
// cannot see cheaply (the operator's --nsx-verify-window).
const DefaultVerifyWindow = time.Hour

// Verify paces a backend's rolling verification: the objects NSX gives no cheap change signal for
// (in the Manager API, NSGroups and IP sets: a section's _revision moves when any of its rules
// changes, a group's only when the group itself does, and listing groups costs a call per 50) are
// re-read a few pages at every periodic resync (ReadIncremental), in rounds, so that each one is
// re-read within Window. A backend reads, in each step, the pages Due says, resuming from where the
// previous step stopped.
type Verify struct {
	// Window bounds the time between two reads of the same object (default DefaultVerifyWindow).
	Window time.Duration
	// Period is the expected time between two steps: the resync period.
	Period time.Duration
}

// WithDefaults fills in the default window.
func (v Verify) WithDefaults() Verify {
	if v.Window <= 0 {
		v.Window = DefaultVerifyWindow
	}
	return v
}

// Due is how many of a round's total pages must have been read by the end of a step taken at now,
// for a round that started at start. The round is spread evenly over span = Window − 2·Period:
// page j is read at the first step at or after start + j·span/total − Period, so within one
// Period before that time; the round ends before start + span and the next one starts at the
// following step, less than Window − Period after start. Rounds read their pages in the same
// order, so with steps every Period the same page is read again less than Window later. Due is
// at least 1, and total when Window is no longer than three periods.
func (v Verify) Due(total int, start, now time.Time) int {
	v = v.WithDefaults()
	if total <= 0 {
		return 0
	}
	span := v.Window - 2*v.Period
	if span <= v.Period {
		return total
	}
	frac := float64(now.Sub(start)+v.Period) / float64(span)
	return min(total, max(1, int(math.Ceil(frac*float64(total)))))
}
