package plan_test

import (
	"github.com/microseg/microseg/internal/ir"
	. "github.com/microseg/microseg/internal/plan"
	"github.com/microseg/microseg/internal/plan/plantest"
)

// Short names for the model builders of plantest.

const testCluster = plantest.Cluster

var (
	tagGroup    = plantest.TagGroup
	ipSetGroup  = plantest.IPSetGroup
	nestedGroup = plantest.NestedGroup
	gref        = plantest.Ref
	rule        = plantest.Rule
	from        = plantest.From
	to          = plantest.To
	tcp         = plantest.TCP
	section     = plantest.Section
	model       = plantest.Model
)

// naiveGuard is a structurally valid guard for tests of the planner (plantest.DenyRules).
func naiveGuard(m *ir.Model) *Guard {
	s, g := plantest.DenyRules(m)
	return &Guard{Sections: s, Groups: g}
}

// Common fixtures: three apps and their groups.
var (
	gA = tagGroup("app=a")
	gB = tagGroup("app=b")
	gC = tagGroup("app=c")
)

// after places an object directly below anchor.
func after(anchor string) *Position { return &Position{Op: InsertAfter, Anchor: anchor} }
