package policy_test

import (
	"fmt"
	"testing"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/nsxsync/policy"
	. "github.com/microseg/microseg/internal/plan/plantest"
)

// TestAPolicyThatMovesAndLosesItsRulesConverges: a policy too large for one call that changes its
// place (sequence number) is written in two runs of calls — its old rules deleted under its old
// attributes, then its new rules under the new ones. When the new model gives it no rule, the
// second run is empty, and its new attributes must still be written: one sync converges.
func TestAPolicyThatMovesAndLosesItsRulesConverges(t *testing.T) {
	e := newEnv(t, nsxsim.Options{})
	e.addPods(fourPods()...)
	b := e.backend(policy.Config{MaxObjectsPerCall: 3})
	a, d := TagGroup("app=a"), TagGroup("app=d")
	security := func(key string, rules int) ir.Section {
		var rs []ir.Rule
		for i := range rules {
			rs = append(rs, Rule(fmt.Sprintf("%s/%d", key, i), ir.ActionDrop, ir.DirectionIn, a, From(Ref(d)), TCP(fmt.Sprint(1000+i))))
		}
		s := Section(key, rs...)
		s.Tier = ir.TierSecurity
		s.Hash = Hash(s)
		return s
	}
	before := Model([]ir.Section{security("csp/first", 5), security("csp/second", 2), security("csp/third", 2)}, a, d)
	if res := e.sync(b, before, nsxsync.ReadFull); !res.Converged {
		t.Fatal("the first model did not converge")
	}
	// csp/first moves after the two others (which keep their numbers) and keeps no rule.
	after := Model([]ir.Section{security("csp/second", 2), security("csp/third", 2), security("csp/first", 0)}, a, d)
	res := e.sync(b, after, nsxsync.ReadIncremental)
	if !res.Converged {
		t.Fatalf("one sync did not converge: %+v", res.Summary)
	}
	if again := e.sync(b, after, nsxsync.ReadFull); again.Summary.Steps != 0 {
		t.Fatalf("a fresh full read still plans %v", again.Summary.Ops)
	}
}
