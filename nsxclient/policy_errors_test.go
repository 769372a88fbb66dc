package nsxclient

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestPolicyErrorClassification checks the typed errors of Policy API answers.
func TestPolicyErrorClassification(t *testing.T) {
	ctx := context.Background()
	deleteGroup := func(c *Client) error { return c.Policy().DeleteGroup(ctx, "default", "g") }
	patchGroup := func(c *Client) error {
		return c.Policy().PatchGroup(ctx, "default", PolicyGroup{PolicyResource: PolicyResource{ID: "g"}})
	}
	putPolicy := func(c *Client) error {
		_, err := c.Policy().PutSecurityPolicy(ctx, "default", SecurityPolicy{PolicyResource: PolicyResource{ID: "p"}})
		return err
	}
	tests := []struct {
		name                                 string
		call                                 func(*Client) error
		status                               int
		code                                 int64
		stale, inUse, pending, invalid, miss bool
		hint                                 string
	}{
		{name: "412 stale revision", call: putPolicy, status: 412, stale: true, hint: "read it again"},
		{name: "409 stale revision", call: putPolicy, status: 409, stale: true},
		{name: "400/500087 stale revision", call: putPolicy, status: 400, code: 500087, stale: true},
		{name: "404/500090 stale revision", call: putPolicy, status: 404, code: 500090, stale: true},
		{name: "400/500030 in use", call: deleteGroup, status: 400, code: ErrCodeResourceInUse, inUse: true, hint: "no force delete"},
		{name: "400/500045 pending delete", call: patchGroup, status: 400, code: ErrCodePendingDelete, pending: true, hint: "still deleting"},
		{name: "400/255 validation", call: patchGroup, status: 400, code: ErrCodeFieldValidation, invalid: true, hint: "rejected a field"},
		{name: "400 other code is validation", call: patchGroup, status: 400, code: 520000, invalid: true, hint: "names"},
		{name: "400/289 not owner is not validation", call: patchGroup, status: 400, code: ErrCodeNotOwner, hint: "AllowOverwrite"},
		{name: "404 missing", call: deleteGroup, status: 404, code: ErrCodeNotFound, miss: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
				writeNSXError(w, tt.status, tt.code, "nsx says no")
			})
			err := tt.call(f.client(func(c *Config) { c.MaxRetries = 2 }))
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want an *APIError", err)
			}
			for name, got := range map[string][2]bool{
				"stale": {IsStaleRevision(err), tt.stale}, "in use": {IsInUse(err), tt.inUse},
				"pending delete": {IsPendingDelete(err), tt.pending}, "validation": {IsValidation(err), tt.invalid},
				"not found": {IsNotFound(err), tt.miss},
			} {
				if got[0] != got[1] {
					t.Errorf("%s = %v, want %v (err: %v)", name, got[0], got[1], err)
				}
			}
			if tt.hint != "" && !strings.Contains(err.Error(), tt.hint) {
				t.Errorf("error lacks hint %q: %v", tt.hint, err)
			}
			wantAttempts := 1
			if tt.pending {
				wantAttempts = 3 // 500045 is retried: the path frees up once the delete is realized
			}
			if n := len(f.requests()); n != wantAttempts {
				t.Errorf("%d attempts, want %d", n, wantAttempts)
			}
		})
	}
}

// TestPendingDeleteIsRetriedUntilThePathIsFree: a write refused with 500045 succeeds once NSX
// has finished the earlier delete.
func TestPendingDeleteIsRetriedUntilThePathIsFree(t *testing.T) {
	var n atomic.Int32
	f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		if n.Add(1) <= 2 {
			writeNSXError(w, 400, ErrCodePendingDelete, "The object path=[/infra/domains/default/groups/g] is marked for deletion.")
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	var sleeps sleepRecorder
	c := f.client()
	c.sleep = sleeps.sleep
	if err := c.Policy().PatchGroup(context.Background(), "default", PolicyGroup{PolicyResource: PolicyResource{ID: "g"}}); err != nil {
		t.Fatal(err)
	}
	if got := len(sleeps.recorded()); got != 2 {
		t.Errorf("%d backoff waits, want 2", got)
	}
}

// TestWaitForRealization polls until every entity is REALIZED, and reports ERROR with NSX's
// alarms.
func TestWaitForRealization(t *testing.T) {
	states := [][]string{{}, {StateUnrealized, StateRealized}, {StateRealized, StateRealized}}
	var n atomic.Int32
	f := newFakeNSX(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		i := min(int(n.Add(1))-1, len(states)-1)
		var results []RealizedEntity
		for _, s := range states[i] {
			results = append(results, RealizedEntity{State: s, IntentPaths: []string{r.URL.Query().Get("intent_path")}})
		}
		writeJSON(w, 200, ListResult[RealizedEntity]{Results: results})
	})
	var sleeps sleepRecorder
	c := f.client()
	c.sleep = sleeps.sleep
	if err := c.Policy().WaitForRealization(context.Background(), "/infra/domains/default/groups/g", 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if got := sleeps.recorded(); len(got) != 2 || got[0] != 50*time.Millisecond {
		t.Errorf("waits = %v, want two of 50ms (an empty list is not realized)", got)
	}

	bad := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 200, ListResult[RealizedEntity]{Results: []RealizedEntity{{State: StateError, EntityType: "RealizedFirewallSection",
			Alarms: []RealizedAlarm{{Message: "rule 7 references a deleted group", ErrorDetails: &RealizedErrorDetails{ErrorCode: 500012}}}}}})
	})
	err := bad.client().Policy().WaitForRealization(context.Background(), "/infra/domains/default/security-policies/p", time.Millisecond)
	var re *RealizationError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "rule 7 references a deleted group") || !strings.Contains(err.Error(), "500012") {
		t.Errorf("err = %v", err)
	}
}

// TestPolicyCallsNeverLeakSecrets runs Policy calls through logins, re-logins, retries and
// failures with a maximally verbose logger: the shared core must keep credentials out of logs
// and errors for the Policy API too.
func TestPolicyCallsNeverLeakSecrets(t *testing.T) {
	logger, logText := verboseLogger()
	s := newSessionNSX(t)
	inner := s.currentHandler()
	var calls atomic.Int32
	s.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch n := calls.Add(1); {
		case r.URL.Path == sessionCreatePath:
			inner(w, r, body)
		case n%4 == 0:
			writeNSXError(w, 400, ErrCodePendingDelete, "pending delete")
		case n%5 == 0:
			writeNSXError(w, 400, ErrCodeResourceInUse, "in use")
		default:
			inner(w, r, body)
		}
	})
	var obs observerLog
	c := s.sessionClient(func(c *Config) { c.Logger = logger; c.Observer = obs.observe })
	ctx := context.Background()
	var errs []string
	for i := range 8 {
		if i == 4 {
			s.expireAll()
		}
		if err := c.Policy().PatchGroup(ctx, "default", PolicyGroup{PolicyResource: PolicyResource{ID: "g"}}); err != nil {
			errs = append(errs, err.Error())
		}
		if err := c.Policy().DeleteGroup(ctx, "default", "g"); err != nil {
			errs = append(errs, err.Error())
		}
	}
	checkLogsAndErrors(t, logText(), append(errs, observedErrors(&obs)...), secretsIn("secretcookie", "secrettoken"))
}
