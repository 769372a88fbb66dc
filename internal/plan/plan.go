package plan

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/ownership"
)

// Options configure Compute.
type Options struct {
	// ClusterID is the cluster whose objects microseg owns (the ownership.TagCluster value). Empty: the
	// model's ClusterID. When both are set they must agree.
	ClusterID string `json:"clusterID,omitempty"`
	// AnchorSectionID, when set, is a section (not microseg's) that microseg's block must stay
	// below; a new block is created directly below it. Empty: the block is created at the top of
	// the DFW.
	AnchorSectionID string `json:"anchorSectionID,omitempty"`
	// Cost weighs NSX calls; the zero value means DefaultCostModel().
	Cost CostModel `json:"cost"`
	// Limits are the NSX limits the compiler respected (zero: a real NSX Manager's); the guard
	// the planner builds respects them too (GuardFor).
	Limits ir.Limits `json:"limits"`
	// Guard, when set, builds the guard instead of GuardFor, for tests that compare guard
	// constructions. Nil (always, in production): the planner builds the guard with GuardFor.
	// Either way the guard is built only when the plan takes more than one write that changes
	// DFW evaluation.
	Guard func(desired *ir.Model) *Guard `json:"-"`
}

// Plan is the ordered list of NSX writes that turns the current state into the desired model.
type Plan struct {
	ClusterID string `json:"clusterID"`
	Steps     []Step `json:"steps"`
	// Problems are per-object issues found while realizing the model (InvalidReference).
	Problems []Problem `json:"problems,omitempty"`
	// Guarded is set when the steps are wrapped in a guard.
	Guarded bool `json:"guarded,omitempty"`
	// EstimatedCost is the cost model's estimate of the steps.
	EstimatedCost time.Duration `json:"estimatedCost"`
}

// Empty reports whether the plan writes nothing.
func (p *Plan) Empty() bool { return len(p.Steps) == 0 }

// Counts returns the number of steps per Op.
func (p *Plan) Counts() map[Op]int {
	out := map[Op]int{}
	for _, s := range p.Steps {
		out[s.Op]++
	}
	return out
}

// Compute plans the NSX writes that turn current into desired. It is pure and deterministic: the
// same inputs give the same plan, whatever the order of the state's unordered lists, and a state
// that already matches the model gives an empty plan. It only ever plans writes to objects that
// carry the cluster's tag (and creates new ones): foreign sections, groups and rules are never
// updated, moved or deleted.
func Compute(desired *ir.Model, current State, opts Options) (*Plan, error) {
	if desired == nil {
		return nil, errors.New("plan: no desired model")
	}
	clusterID := cmp.Or(opts.ClusterID, desired.ClusterID)
	switch {
	case clusterID == "":
		return nil, errors.New("plan: no cluster id: set Options.ClusterID or Model.ClusterID")
	case desired.ClusterID != "" && desired.ClusterID != clusterID:
		return nil, fmt.Errorf("plan: the model is for cluster %q but Options.ClusterID is %q", desired.ClusterID, clusterID)
	case len(clusterID) > ownership.MaxTagValue:
		return nil, fmt.Errorf("plan: cluster id has %d characters; an NSX tag value holds at most %d", len(clusterID), ownership.MaxTagValue)
	}
	x, err := indexState(current, clusterID)
	if err != nil {
		return nil, err
	}
	p := &planner{opts: opts, clusterID: clusterID, model: desired, x: x, cost: opts.Cost.orDefault(), anchorIndex: -1}
	if err := p.locateAnchor(); err != nil {
		return nil, err
	}
	return p.run()
}

// planner carries one Compute call.
type planner struct {
	opts      Options
	clusterID string
	model     *ir.Model
	x         *stateIndex
	r         *realizer
	gp        *groupPlanner
	cost      CostModel

	anchorIndex int // DFW index of the anchor section, -1 without anchor
	depth       map[string]int
	modelKeys   map[string]bool

	desired  []desiredSection
	changes  []sectionChange
	kept     []bool
	obsolete []*ownedSection

	guarded bool
	guard   []desiredSection
	// monotone, when set, orders the evaluation changes so that no guard is needed (monotone.go).
	monotone *monotonePlan
}

func (p *planner) locateAnchor() error {
	id := p.opts.AnchorSectionID
	if id == "" {
		return nil
	}
	i := p.x.sectionIndex(id)
	switch {
	case i < 0:
		return fmt.Errorf("plan: anchor section %s does not exist: microseg's block has nowhere to go", id)
	case p.x.owned[i]:
		return fmt.Errorf("plan: anchor section %s is one of microseg's own sections; the anchor must be a section microseg does not manage", id)
	case p.x.sections[i].Section.IsDefault:
		return fmt.Errorf("plan: anchor section %s is the default section, which stays last; nothing can go below it", id)
	}
	p.anchorIndex = i
	return nil
}

func (p *planner) run() (*Plan, error) {
	p.r = newRealizer(p.clusterID, p.x)
	if err := p.r.addGroups(p.model.Groups); err != nil {
		return nil, err
	}
	p.modelKeys = map[string]bool{}
	for _, g := range p.model.Groups {
		p.modelKeys[g.Key] = true
	}
	var err error
	if p.depth, err = groupDepth(p.r.groups); err != nil {
		return nil, err
	}
	modelOrder := creationOrder(slices.Collect(maps.Keys(p.modelKeys)), p.depth)
	p.r.markIncomplete(creationOrder(slices.Collect(maps.Keys(p.r.groups)), p.depth))
	p.gp = newGroupPlanner(p.x, p.r)
	if err := p.gp.plan(modelOrder, p.depth, "group of the model"); err != nil {
		return nil, err
	}
	if err := p.planSections(); err != nil {
		return nil, err
	}
	if err := p.decideGuard(); err != nil {
		return nil, err
	}
	steps := p.assemble()
	return &Plan{
		ClusterID:     p.clusterID,
		Steps:         steps,
		Problems:      p.r.sortedProblems(),
		Guarded:       p.guarded,
		EstimatedCost: p.cost.stepsCost(steps),
	}, nil
}

// assemble orders the steps: group creates (members first), the guard, group repairs, section
// changes top-down, deletes of obsolete sections, removal of the guard, group deletes (containers
// first).
func (p *planner) assemble() []Step {
	var steps []Step
	steps = append(steps, p.gp.creates...)
	var guardUpdates, modelUpdates []Step
	for _, s := range p.gp.updates {
		if p.modelKeys[s.Key] {
			modelUpdates = append(modelUpdates, s)
		} else {
			guardUpdates = append(guardUpdates, s)
		}
	}
	steps = append(steps, guardUpdates...)
	guardPositions, positions := p.layout()
	steps = append(steps, p.guardCreates(guardPositions)...)
	steps = append(steps, modelUpdates...)
	if p.monotone != nil {
		steps = append(steps, p.monotoneSteps(positions)...)
	} else {
		for i := range p.changes {
			steps = append(steps, p.changes[i].steps(positions[i])...)
		}
	}
	for _, o := range p.obsolete {
		reason := "section no longer in the model"
		switch {
		case o.guard:
			reason = "guard section left by an interrupted change"
		case o.key == "":
			reason = "microseg section without a key tag"
		case p.isDuplicate(o):
			reason = "second section with the same key"
		}
		steps = append(steps, Step{Op: OpDeleteSection, Reason: reason, Key: o.key, ID: o.section.ID})
	}
	steps = append(steps, p.guardDeletes()...)
	steps = append(steps, p.gp.deletes(p.modelKeys)...)
	return steps
}

func (p *planner) isDuplicate(o *ownedSection) bool {
	for _, c := range p.changes {
		if c.current != nil && c.current.key == o.key {
			return true
		}
	}
	return false
}

// sortProblems orders problems by object, rule, code, message.
func sortProblems(ps []Problem) {
	slices.SortFunc(ps, func(a, b Problem) int {
		if a.Object != b.Object {
			if a.Object.Less(b.Object) {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Code, b.Code), cmp.Compare(a.Message, b.Message))
	})
}
