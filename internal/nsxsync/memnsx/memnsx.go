// Package memnsx is an NSX Manager held in memory, for tests: it executes the Manager backend's
// plans the way internal/apply does against NSX, and refuses — as NSX would, and recording it —
// any write to an object that does not carry the cluster tag and any reference to an object
// that does not exist. It is a manager.Target, so the sync path and the planner can be tested
// without HTTP: memnsx.New(cluster).Backend(cfg) is an nsxsync.Backend.
package memnsx

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/microseg/microseg/internal/apply"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/nsxsync/manager"
	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/internal/plan"
	"github.com/microseg/microseg/nsxclient"
)

// NSX executes plans in memory, the way apply does against NSX, so that pure tests can check
// that a plan converges (planning again gives an empty plan). It refuses — and records — any write
// to an object that does not carry the cluster tag, and any reference to an object that does not
// exist, as NSX would.
//
// Tests may inspect and edit the exported fields between plans, the way an administrator edits
// NSX behind microseg's back.
type NSX struct {
	// ClusterID is the cluster whose objects microseg may write.
	ClusterID string
	// Sections is the DFW in evaluation order (the default section last).
	Sections []*Section
	// Groups and IPSets are every NSGroup and IPSet, by id.
	Groups map[string]*nsxclient.NSGroup
	IPSets map[string]*nsxclient.IPSet
	// Next numbers new ids ("<prefix>-<n>").
	Next int
	// Writes counts the steps executed.
	Writes int
	// Touched records the ids of every object a write changed or deleted.
	Touched  map[string]bool
	resolved map[string]string // placeholder → id
	// rewritten holds the revision of each rule the executing plan wrote.
	rewritten map[string]int64
}

// Section is a firewall section with its rules.
type Section struct {
	Section nsxclient.FirewallSection
	Rules   []nsxclient.FirewallRule
}

// New returns a DFW holding only NSX's default section (ALLOW), for clusterID.
func New(clusterID string) *NSX {
	f := &NSX{ClusterID: clusterID, Groups: map[string]*nsxclient.NSGroup{}, IPSets: map[string]*nsxclient.IPSet{},
		resolved: map[string]string{}, Touched: map[string]bool{}}
	def := &Section{Section: nsxclient.FirewallSection{SectionType: nsxclient.SectionLayer3, Stateful: true, IsDefault: true}}
	def.Section.ID, def.Section.DisplayName = "default-l3", "Default Layer3 Section"
	def.Rules = []nsxclient.FirewallRule{{ID: "1", DisplayName: "Default Layer3 Rule", Action: "ALLOW", IsDefault: true}}
	f.Sections = []*Section{def}
	return f
}

func (f *NSX) newID(prefix string) string {
	f.Next++
	return prefix + "-" + strconv.Itoa(f.Next)
}

// AddForeignSection inserts a hand-made section with one DROP rule at index i (before the
// section at i) and returns its id.
func (f *NSX) AddForeignSection(i int, name string, tags ...nsxclient.Tag) string {
	s := &Section{Section: nsxclient.FirewallSection{SectionType: nsxclient.SectionLayer3, Stateful: true}}
	s.Section.ID, s.Section.DisplayName, s.Section.Tags = f.newID("foreign"), name, tags
	s.Rules = []nsxclient.FirewallRule{{ID: f.newID("r"), DisplayName: name + "-rule", Action: "DROP", Direction: "IN"}}
	f.Sections = slices.Insert(f.Sections, i, s)
	return s.Section.ID
}

// State is what apply.ReadState would read: every section in order (rules only for owned ones),
// the owned NSGroups and IPSets, and the other NSGroups by id and name.
func (f *NSX) State() plan.State {
	var st plan.State
	for _, s := range f.Sections {
		ss := plan.SectionState{Section: s.Section}
		ss.Section.RuleCount = int64(len(s.Rules))
		if ownership.Owned(s.Section.Tags, f.ClusterID) {
			ss.Rules = slices.Clone(s.Rules)
		}
		st.Sections = append(st.Sections, ss)
	}
	for _, id := range slices.Sorted(maps.Keys(f.Groups)) {
		g := f.Groups[id]
		if ownership.Owned(g.Tags, f.ClusterID) {
			st.NSGroups = append(st.NSGroups, *g)
		} else {
			st.ExternalGroups = append(st.ExternalGroups, plan.ExternalGroup{ID: id, DisplayName: g.DisplayName})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(f.IPSets)) {
		if s := f.IPSets[id]; ownership.Owned(s.Tags, f.ClusterID) {
			st.IPSets = append(st.IPSets, *s)
		}
	}
	return st
}

// ReadState is manager.Target's read: State, counted as one call per list and per owned
// section's rules, as apply.ReadState counts them. memnsx has no cache: every mode reads
// everything.
func (f *NSX) ReadState(_ context.Context, clusterID string, _ nsxsync.ReadMode) (plan.State, int64, error) {
	if clusterID != f.ClusterID {
		return plan.State{}, 0, fmt.Errorf("memnsx: holds cluster %q, asked for %q", f.ClusterID, clusterID)
	}
	st := f.State()
	calls := int64(3) // sections, NSGroups, IPSets
	for _, s := range st.Sections {
		if ownership.Owned(s.Section.Tags, clusterID) && !s.Section.IsDefault {
			calls++
		}
	}
	return st, calls, nil
}

// ApplyPlan is manager.Target's apply: Execute, one write per step, stopping at the first
// refused step.
func (f *NSX) ApplyPlan(_ context.Context, p *plan.Plan, clusterID string) (apply.Result, error) {
	res := apply.Result{StepsTotal: len(p.Steps)}
	if clusterID != f.ClusterID || (p.ClusterID != "" && p.ClusterID != clusterID) {
		return res, fmt.Errorf("memnsx: holds cluster %q, asked to apply a plan for %q", f.ClusterID, clusterID)
	}
	for i := range p.Steps {
		if err := f.step(&p.Steps[i]); err != nil {
			return res, fmt.Errorf("step %d (%s %s): %w", i, p.Steps[i].Op, p.Steps[i].Key, err)
		}
		f.Writes++
		res.StepsDone++
		res.Writes++
	}
	return res, nil
}

// Backend is the Manager backend over this NSX (cfg.ClusterID defaults to the NSX's).
func (f *NSX) Backend(cfg manager.Config) (*manager.Backend, error) {
	if cfg.ClusterID == "" {
		cfg.ClusterID = f.ClusterID
	}
	return manager.New(f, cfg)
}
