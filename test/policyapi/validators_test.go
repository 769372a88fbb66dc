package policyapi_test

import (
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

// TestTheValidatorsAreLive sends a request the Policy table forbids (an action outside the
// enum): both sides of the wire must report it, and the simulator must refuse it as NSX would.
func TestTheValidatorsAreLive(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	must(t, h.p.PatchGroup(ctx, dom, group("web", portTag("app", "web"))))
	must(t, h.p.PatchSecurityPolicy(ctx, dom, policy("p", nsxclient.CategoryApplication, 1)))
	h.rep.Expect(`value "PASS" not in enum`)
	err := h.p.PatchRule(ctx, dom, "p", rule("bad", "PASS", 1, to(gpath("web"))))
	if !nsxclient.IsValidation(err) {
		t.Errorf("err = %v, want the simulator's validation error", err)
	}
	if hits := h.rep.Hits(`value "PASS" not in enum`); hits != 2 {
		t.Errorf("the invalid request was reported %d times, want 2 (client and simulator)", hits)
	}
}
