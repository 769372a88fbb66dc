package nsxsync

import (
	"testing"
	"time"
)

// TestVerifyReadsEveryPageWithinTheWindow steps a rolling verification every period and checks
// that the same page is never left unread for a whole window, for several sizes.
func TestVerifyReadsEveryPageWithinTheWindow(t *testing.T) {
	for _, tc := range []struct {
		window, period time.Duration
		total          int
	}{
		{time.Hour, 5 * time.Minute, 145},
		{time.Hour, 5 * time.Minute, 3},
		{time.Hour, 7 * time.Minute, 1401},
		{10 * time.Minute, 3 * time.Minute, 40},
		{time.Minute, 5 * time.Minute, 10},
	} {
		v := Verify{Window: tc.window, Period: tc.period}
		t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		lastRead := make([]time.Time, tc.total)
		start, done := t0, 0
		maxPerStep := 0
		for step := range 200 {
			now := t0.Add(time.Duration(step) * tc.period)
			due := v.Due(tc.total, start, now)
			if due < done {
				t.Fatalf("%+v: due %d fell below the %d pages already read", tc, due, done)
			}
			n := max(due-done, 0)
			maxPerStep = max(maxPerStep, n)
			for j := done; j < due; j++ {
				if !lastRead[j].IsZero() && now.Sub(lastRead[j]) >= max(tc.window, tc.period+1) {
					t.Fatalf("%+v: page %d read again after %s", tc, j, now.Sub(lastRead[j]))
				}
				lastRead[j] = now
			}
			done = due
			if done == tc.total {
				start, done = now.Add(tc.period), 0 // the next round starts at the next step
			}
		}
		if tc.window > 3*tc.period && maxPerStep == tc.total && tc.total > 10 {
			t.Errorf("%+v: a step read the whole round", tc)
		}
		t.Logf("%+v: at most %d pages a step", tc, maxPerStep)
	}
}
