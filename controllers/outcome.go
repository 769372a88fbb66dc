package controllers

import (
	"slices"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/plan"
	"github.com/microseg/microseg/nsxclient"
)

// Outcome is what one sync learned about every policy at once; status and events are computed
// from it. The zero NSX part (no Plan, no Err) means the sync has compiled but not yet reached NSX.
type Outcome struct {
	// Model is the compiled DFW.
	Model *ir.Model
	// DryRun: the plan was computed and nothing was written.
	DryRun bool
	// Plan is the plan computed against NSX's state; nil when NSX was not read.
	Plan *plan.Plan
	// Err is what stopped the sync (reading, planning or applying); nil when it got through.
	Err error
	// Converged: after the sync, NSX holds exactly the model (a fresh plan is empty).
	Converged bool
	// SectionIDs and GroupIDs map encoded IR keys (plan.EncodeKey) to the NSX ids of microseg's
	// sections and groups, as read from NSX after the sync.
	SectionIDs map[string]string
	GroupIDs   map[string]string
}

// problems returns the plan's problems about one object.
func (o *Outcome) problems(obj ir.ObjectRef) []plan.Problem {
	if o.Plan == nil {
		return nil
	}
	var out []plan.Problem
	for _, p := range o.Plan.Problems {
		if p.Object == obj {
			out = append(out, p)
		}
	}
	return out
}

// indexIDs maps the key tags of microseg's sections (guards excluded) and groups in a state to
// their NSX ids.
func indexIDs(st *plan.State, clusterID string) (sections, groups map[string]string) {
	sections, groups = map[string]string{}, map[string]string{}
	for _, s := range st.Sections {
		if !plan.Owned(s.Section.Tags, clusterID) || hasTag(s.Section.Tags, plan.TagRole, plan.RoleGuard) {
			continue
		}
		if k := tagValue(s.Section.Tags, plan.TagKey); k != "" && sections[k] == "" {
			sections[k] = s.Section.ID
		}
	}
	for _, g := range st.NSGroups {
		if k := tagValue(g.Tags, plan.TagKey); k != "" && groups[k] == "" {
			groups[k] = g.ID
		}
	}
	for _, s := range st.IPSets {
		if k := tagValue(s.Tags, plan.TagKey); k != "" && groups[k] == "" {
			groups[k] = s.ID
		}
	}
	return sections, groups
}

func tagValue(tags []nsxclient.Tag, scope string) string {
	for _, t := range tags {
		if t.Scope == scope {
			return t.Tag
		}
	}
	return ""
}

func hasTag(tags []nsxclient.Tag, scope, value string) bool {
	return slices.Contains(tags, nsxclient.Tag{Scope: scope, Tag: value})
}
