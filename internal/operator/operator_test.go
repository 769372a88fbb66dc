package operator

import (
	"strings"
	"testing"

	"github.com/microseg/microseg/controllers"
)

func TestReadyCheck(t *testing.T) {
	op := &Operator{dfw: controllers.NewDFWReconciler(nil, controllers.DFWConfig{})}
	elected := make(chan struct{})
	check := op.readyCheck(elected)
	if err := check(nil); err != nil {
		t.Errorf("a standby replica is not ready: %v", err)
	}
	close(elected)
	if err := check(nil); err == nil || !strings.Contains(err.Error(), "first sync") {
		t.Errorf("the leader is ready before its first sync (error %v)", err)
	}
}

func TestOptionsDefaults(t *testing.T) {
	o := Options{RetryBaseDelay: 5 * DefaultRetryMaxDelay}.withDefaults()
	if o.ResyncPeriod != DefaultResyncPeriod || o.SyncDelay != DefaultSyncDelay || o.RetryMaxDelay < o.RetryBaseDelay {
		t.Errorf("defaults %+v", o)
	}
	if o := (Options{SyncDelay: -1}).withDefaults(); o.SyncDelay != 0 {
		t.Errorf("a negative delay gives %s, want none", o.SyncDelay)
	}
}
