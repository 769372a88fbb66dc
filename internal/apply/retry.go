package apply

import (
	"context"
	"fmt"

	"github.com/microseg/microseg/nsxclient"
)

// retryStale runs write; when NSX answers that the object changed since it was read (a stale
// _revision: someone else wrote it in between), it runs refresh — which re-reads the object, takes
// its new revision and checks that it still carries microseg's cluster tag — and tries again, up
// to MaxStaleRetries times. Retrying is right because every microseg write states the whole
// desired content of what it writes: the concurrent edit is overwritten, which is what drift
// repair would do on the next sync anyway. An object that lost the cluster tag is not ours any
// more: refresh fails with ErrNotOwned and the apply stops.
func (a *applier) retryStale(ctx context.Context, what string, write, refresh func() error) error {
	for attempt := 1; ; attempt++ {
		err := write()
		if err == nil || !nsxclient.IsStaleRevision(err) {
			return err
		}
		if attempt > a.opts.MaxStaleRetries {
			return fmt.Errorf("%s kept changing while microseg wrote it; gave up after %d attempts: %w", what, attempt, err)
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		a.res.StaleRetries++
		if err := refresh(); err != nil {
			return fmt.Errorf("re-reading %s after a concurrent change: %w", what, err)
		}
	}
}
