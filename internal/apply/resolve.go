package apply

import (
	"fmt"
	"slices"

	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/internal/plan"
	"github.com/microseg/microseg/nsxclient"
)

// ids maps the placeholders of a plan to the ids NSX assigned when earlier steps created the
// objects. Bodies are copied before placeholders are replaced, so a plan can be applied (or
// inspected) again.
type ids struct {
	byPlaceholder map[string]string
}

func newIDs() *ids { return &ids{byPlaceholder: map[string]string{}} }

func (x *ids) set(kind, key, id string) { x.byPlaceholder[plan.Placeholder(kind, key)] = id }

// resolve returns s, or the id its placeholder stands for.
func (x *ids) resolve(s string) (string, error) {
	kind, key, ok := plan.ParsePlaceholder(s)
	if !ok {
		return s, nil
	}
	id, found := x.byPlaceholder[s]
	if !found {
		return "", fmt.Errorf("apply: %s %q has no id: the step that creates it has not run", kind, key)
	}
	return id, nil
}

func (x *ids) refs(in []nsxclient.ResourceReference) ([]nsxclient.ResourceReference, error) {
	if in == nil {
		return nil, nil
	}
	out := slices.Clone(in)
	for i := range out {
		id, err := x.resolve(out[i].TargetID)
		if err != nil {
			return nil, err
		}
		out[i].TargetID = id
	}
	return out, nil
}

func (x *ids) rule(in nsxclient.FirewallRule) (nsxclient.FirewallRule, error) {
	r := in
	var err error
	if r.Sources, err = x.refs(in.Sources); err != nil {
		return r, err
	}
	if r.Destinations, err = x.refs(in.Destinations); err != nil {
		return r, err
	}
	if r.AppliedTos, err = x.refs(in.AppliedTos); err != nil {
		return r, err
	}
	if r.ID, err = x.resolve(in.ID); err != nil {
		return r, err
	}
	r.Services = slices.Clone(in.Services)
	return r, nil
}

func (x *ids) rules(in []nsxclient.FirewallRule) ([]nsxclient.FirewallRule, error) {
	out := make([]nsxclient.FirewallRule, len(in))
	for i := range in {
		r, err := x.rule(in[i])
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

func (x *ids) nsGroup(in nsxclient.NSGroup) (nsxclient.NSGroup, error) {
	g := in
	g.Tags = slices.Clone(in.Tags)
	g.Members = slices.Clone(in.Members)
	for i := range g.Members {
		v, err := x.resolve(g.Members[i].Value)
		if err != nil {
			return g, err
		}
		g.Members[i].Value = v
	}
	return g, nil
}

func (x *ids) position(p *plan.Position) (nsxclient.Position, error) {
	if p == nil {
		return nsxclient.Position{}, fmt.Errorf("apply: step has no position")
	}
	switch p.Op {
	case plan.InsertTop:
		return nsxclient.Top(), nil
	case plan.InsertBefore, plan.InsertAfter:
		anchor, err := x.resolve(p.Anchor)
		if err != nil {
			return nsxclient.Position{}, err
		}
		if p.Op == plan.InsertBefore {
			return nsxclient.Before(anchor), nil
		}
		return nsxclient.After(anchor), nil
	}
	return nsxclient.Position{}, fmt.Errorf("apply: unknown position operation %q", p.Op)
}

// resolved is p with its anchor resolved to an id (nil for nil), for the cache.
func (a *applier) resolved(p *plan.Position) (*plan.Position, error) {
	if p == nil {
		return nil, nil
	}
	anchor, err := a.ids.resolve(p.Anchor)
	if err != nil {
		return nil, err
	}
	return &plan.Position{Op: p.Op, Anchor: anchor}, nil
}

// learnRules records the ids of created rules by the keys in their notes.
func (x *ids) learnRules(rules []nsxclient.FirewallRule) {
	for _, r := range rules {
		if key, ok := ownership.RuleKeyFromNotes(r.Notes); ok {
			x.set(plan.PlaceholderRule, key, r.ID)
		}
	}
}
