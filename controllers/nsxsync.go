package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/microseg/microseg/internal/apply"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/plan"
	"github.com/microseg/microseg/nsxclient"
)

// nsxSyncer brings NSX to the compiled model. It is apply.Sync taken apart: the operator needs the
// state NSX is in after the change (the ids of the sections and groups for status.realized, the
// owned-object counts), so it reads the state itself, plans, applies, and reads again only when
// it wrote something. A sync of an unchanged cluster costs the reads and writes nothing.
type nsxSyncer struct {
	client    *nsxclient.Client
	clusterID string
	// anchor is the --anchor-section value: a section id or display name ("" = top of the DFW).
	anchor string
	// limits are the compiler's NSX limits, which the guard must respect too.
	limits ir.Limits
	dryRun bool
}

// sync fills the NSX part of o. With dryRun it stops after planning.
func (s *nsxSyncer) sync(ctx context.Context, o *Outcome) (apply.Result, error) {
	st, err := apply.ReadState(ctx, s.client, apply.ReadOptions{ClusterID: s.clusterID})
	if err != nil {
		return apply.Result{}, err
	}
	anchorID, err := resolveAnchor(st.Sections, s.anchor, s.clusterID)
	if err != nil {
		return apply.Result{}, err
	}
	opts := plan.Options{ClusterID: s.clusterID, AnchorSectionID: anchorID}
	p, err := s.plan(o.Model, st, opts)
	if err != nil {
		return apply.Result{}, err
	}
	o.Plan = p
	if s.dryRun || p.Empty() {
		s.observe(o, &st, p.Empty())
		return apply.Result{}, nil
	}
	res, err := apply.Apply(ctx, s.client, p, apply.Options{ClusterID: s.clusterID})
	if err != nil {
		return res, err
	}
	// Read back what NSX now holds: the ids it gave the new objects, and proof that the change
	// landed (nobody edited NSX in between).
	st, err = apply.ReadState(ctx, s.client, apply.ReadOptions{ClusterID: s.clusterID})
	if err != nil {
		return res, err
	}
	again, err := plan.Compute(o.Model, st, opts)
	s.observe(o, &st, err == nil && again.Empty())
	return res, nil
}

// plan computes the plan, with the guard when the change needs one (as apply.Sync does).
func (s *nsxSyncer) plan(model *ir.Model, st plan.State, opts plan.Options) (*plan.Plan, error) {
	p, err := plan.Compute(model, st, opts)
	if errors.Is(err, plan.ErrGuardRequired) {
		opts.Guard, _ = plan.GuardFor(model, s.limits)
		p, err = plan.Compute(model, st, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("planning the NSX changes: %w", err)
	}
	return p, nil
}

func (s *nsxSyncer) observe(o *Outcome, st *plan.State, converged bool) {
	o.Converged = converged
	o.SectionIDs, o.GroupIDs = indexIDs(st, s.clusterID)
	recordOwned(st, s.clusterID)
}

// resolveAnchor turns the --anchor-section value into a section id: a section with that id, else
// the one section with that display name. It reads the sections apply.ReadState already listed,
// so the anchor follows a section that was re-created under the same name, at no extra cost.
func resolveAnchor(sections []plan.SectionState, want, clusterID string) (string, error) {
	if want == "" {
		return "", nil
	}
	var byName []*nsxclient.FirewallSection
	for i := range sections {
		s := &sections[i].Section
		if s.ID == want {
			byName = []*nsxclient.FirewallSection{s}
			break
		}
		if s.DisplayName == want {
			byName = append(byName, s)
		}
	}
	switch len(byName) {
	case 1:
		s := byName[0]
		switch {
		case s.IsDefault:
			return "", &configError{fmt.Sprintf("the anchor section %q (--anchor-section) is NSX's default section, which always stays last: name a section above it", want)}
		case plan.Owned(s.Tags, clusterID):
			return "", &configError{fmt.Sprintf("the anchor section %q (--anchor-section) is one of microseg's own sections: name a section microseg does not manage", want)}
		}
		return s.ID, nil
	case 0:
		return "", &configError{fmt.Sprintf("the anchor section %q (--anchor-section) is neither the id nor the display name of a LAYER3 firewall section in NSX: create that section, or correct the flag", want)}
	}
	ids := make([]string, len(byName))
	for i, s := range byName {
		ids[i] = s.ID
	}
	return "", &configError{fmt.Sprintf("the anchor section %q (--anchor-section) names %d firewall sections (ids %s): pass the id of the one microseg's sections go directly below", want, len(ids), strings.Join(ids, ", "))}
}
