package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/microseg/microseg/internal/extgroup"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/nsxclient"
)

// Realization turns IR objects into the NSX bodies microseg writes. Group references become
// ids: the id of the owned group that already holds the key, or a placeholder for a group an
// earlier step creates. References to NSX groups microseg does not own (ir.Ref.NSXGroup and
// nested groups' external members) are resolved by display name against the state.
//
// A missing (or ambiguous) external group is reported as an InvalidReference Problem on every
// object whose rules use it, and the rule is realized fail-closed (internal/extgroup).

// Problem codes.
const (
	// ProblemInvalidReference: a rule references an NSX group (by display name) that does not
	// exist or is ambiguous; the rule was realized fail-closed.
	ProblemInvalidReference = "InvalidReference"
)

// Problem is something about one source object that the operator should report on its status.
type Problem struct {
	Object  ir.ObjectRef `json:"object"`
	Rule    string       `json:"rule,omitempty"`
	Code    string       `json:"code"`
	Message string       `json:"message"`
}

// desiredSection is one section as microseg wants it in NSX.
type desiredSection struct {
	key    string // IR key
	encKey string // ownership.TagKey value
	guard  bool
	body   nsxclient.FirewallSection
	rules  []desiredRule
	metaFP string
	// denyRules counts DROP/REJECT rules (for the guard cost estimate).
	denyRules int
}

// desiredRule is one realized rule.
type desiredRule struct {
	key    string // IR key
	encKey string // the key as found in notes
	body   nsxclient.FirewallRule
	fp     string
}

// realizer holds what realization needs to know about the state and the group plan.
type realizer struct {
	clusterID string
	groups    map[string]*ir.Group // model and guard groups by key
	// groupRef is the id (or placeholder) each group key will have once the group steps ran.
	groupRef  map[string]string
	externals extgroup.Names
	// incomplete holds the nested groups that (transitively) lack an external member, with why.
	incomplete map[string]string
	problems   map[Problem]bool
}

func newRealizer(clusterID string, x *stateIndex) *realizer {
	return &realizer{
		clusterID:  clusterID,
		groups:     map[string]*ir.Group{},
		groupRef:   map[string]string{},
		externals:  x.externalIDs,
		incomplete: map[string]string{},
		problems:   map[Problem]bool{},
	}
}

// addGroups registers groups; a key already registered must have the same content.
func (r *realizer) addGroups(groups []ir.Group) error {
	for i := range groups {
		g := &groups[i]
		if prev, ok := r.groups[g.Key]; ok {
			if prev.Hash != g.Hash || prev.Kind != g.Kind {
				return fmt.Errorf("plan: two different groups share the key %q", g.Key)
			}
			continue
		}
		r.groups[g.Key] = g
	}
	return nil
}

// external resolves an NSX group display name to its id.
func (r *realizer) external(name string) (string, string) { return r.externals.Resolve(name) }

// markIncomplete computes which nested groups lack an external member, transitively (order:
// members before the groups that contain them).
func (r *realizer) markIncomplete(order []string) {
	r.externals.Incomplete(r.groups, order, r.incomplete)
}

// targetType is the reference target type of a group.
func targetType(kind ir.GroupKind) string {
	if kind == ir.KindIPSet {
		return nsxclient.TargetIPSet
	}
	return nsxclient.TargetNSGroup
}

// groupBody realizes a group; members and external members are resolved.
func (r *realizer) groupBody(g *ir.Group) (*nsxclient.NSGroup, *nsxclient.IPSet, error) {
	meta := nsxclient.ManagedResource{
		DisplayName: g.DisplayName,
		Description: ownership.Description(r.clusterID, "Group", g.Key),
		Tags:        ownership.Tags(r.clusterID, g.Key, g.Hash, false),
	}
	switch g.Kind {
	case ir.KindIPSet:
		return nil, &nsxclient.IPSet{ManagedResource: meta, IPAddresses: append([]string(nil), g.IPs...)}, nil
	case ir.KindTagGroup:
		ng := &nsxclient.NSGroup{ManagedResource: meta}
		for _, c := range g.Criteria {
			exprs := make([]nsxclient.NSGroupExpression, len(c.Tags))
			for i, t := range c.Tags {
				exprs[i] = nsxclient.NSGroupExpression{ResourceType: nsxclient.ExprTag, TargetType: nsxclient.TargetLogicalPort, Scope: t.Scope, Tag: t.Tag}
			}
			if len(exprs) == 1 {
				ng.MembershipCriteria = append(ng.MembershipCriteria, exprs[0])
			} else {
				ng.MembershipCriteria = append(ng.MembershipCriteria, nsxclient.NSGroupExpression{ResourceType: nsxclient.ExprComplex, Expressions: exprs})
			}
		}
		return ng, nil, nil
	case ir.KindNestedGroup:
		ng := &nsxclient.NSGroup{ManagedResource: meta}
		for _, m := range g.Members {
			mg, ok := r.groups[m]
			if !ok {
				return nil, nil, fmt.Errorf("plan: group %s has member %s, which the model does not define", g.Key, m)
			}
			ng.Members = append(ng.Members, nsxclient.StaticMember(targetType(mg.Kind), r.groupRef[m]))
		}
		for _, name := range g.ExternalMembers {
			if id, why := r.external(name); why == "" {
				ng.Members = append(ng.Members, nsxclient.StaticMember(nsxclient.TargetNSGroup, id))
			}
		}
		return ng, nil, nil
	}
	return nil, nil, fmt.Errorf("plan: group %s has unknown kind %q", g.Key, g.Kind)
}

// section realizes one IR section. Problems are recorded for model sections only: the guard is
// derived from the model and would repeat them.
func (r *realizer) section(s *ir.Section, guard bool) (desiredSection, error) {
	d := desiredSection{key: s.Key, encKey: ownership.EncodeKey(s.Key), guard: guard}
	what := "Section"
	if guard {
		what = "Guard section"
	}
	d.body = nsxclient.FirewallSection{
		ManagedResource: nsxclient.ManagedResource{
			DisplayName: s.DisplayName,
			Description: ownership.Description(r.clusterID, what, s.Key),
			Tags:        ownership.Tags(r.clusterID, s.Key, sectionAttributesHash(s, guard), guard),
		},
		SectionType: nsxclient.SectionLayer3,
		Stateful:    true,
	}
	d.metaFP = sectionFP(&d.body)
	seen := map[string]bool{}
	for i := range s.Rules {
		rule, keep, err := r.rule(&s.Rules[i], !guard)
		if err != nil {
			return d, fmt.Errorf("plan: section %s: %w", s.Key, err)
		}
		if !keep {
			continue
		}
		if seen[rule.encKey] {
			return d, fmt.Errorf("plan: section %s: two rules share the key %q", s.Key, s.Rules[i].Key)
		}
		seen[rule.encKey] = true
		if s.Rules[i].Action != ir.ActionAllow && !s.Rules[i].Disabled {
			d.denyRules++
		}
		d.rules = append(d.rules, rule)
	}
	return d, nil
}

// rule realizes one rule; keep is false when the fail-closed policy leaves it out.
func (r *realizer) rule(in *ir.Rule, report bool) (desiredRule, bool, error) {
	allow := in.Action == ir.ActionAllow
	fail := func(why string) {
		if report {
			r.problems[Problem{Object: in.Origin.Object, Rule: in.Origin.Rule, Code: ProblemInvalidReference,
				Message: fmt.Sprintf("rule %s: %s; the rule is realized fail-closed", in.Key, why)}] = true
		}
	}
	applied, _, _, err := r.refs(in.AppliedTo, false, false, fail)
	if err != nil {
		return desiredRule{}, false, err
	}
	srcs, srcExcl, srcNothing, err := r.refs(in.Sources, in.SourcesExcluded, allow, fail)
	if err != nil {
		return desiredRule{}, false, err
	}
	dsts, dstExcl, dstNothing, err := r.refs(in.Destinations, in.DestinationsExcluded, allow, fail)
	if err != nil {
		return desiredRule{}, false, err
	}
	if srcNothing || dstNothing {
		return desiredRule{}, false, nil
	}
	body := nsxclient.FirewallRule{
		DisplayName:          in.DisplayName,
		Action:               string(in.Action),
		Direction:            string(in.Direction),
		IPProtocol:           string(in.IPProtocol),
		AppliedTos:           applied,
		Sources:              srcs,
		SourcesExcluded:      srcExcl,
		Destinations:         dsts,
		DestinationsExcluded: dstExcl,
		Services:             services(in.Services),
		Logged:               in.Logged,
		Disabled:             in.Disabled,
		Notes:                ownership.RuleNotes(in.Key, in.Hash),
		RuleTag:              ownership.RuleTag(in.Origin),
	}
	return desiredRule{key: in.Key, encKey: ownership.EncodeRuleKey(in.Key), body: body, fp: ruleFP(&body)}, true, nil
}

// refs realizes one reference list under the fail-closed policy (see the file comment). allow
// says whether the rule allows; nothing is set when the rule can match nothing and is dropped.
func (r *realizer) refs(in []ir.Ref, excluded, allow bool, fail func(string)) (out []nsxclient.ResourceReference, outExcluded, nothing bool, err error) {
	unresolved := false
	for _, ref := range in {
		switch {
		case ref.Group != "":
			g, ok := r.groups[ref.Group]
			if !ok {
				return nil, false, false, fmt.Errorf("reference to group %s, which the model does not define", ref.Group)
			}
			if why, bad := r.incomplete[ref.Group]; bad {
				fail(fmt.Sprintf("group %s: %s", ref.Group, why))
				unresolved = true
				continue
			}
			out = append(out, nsxclient.ResourceReference{TargetType: targetType(g.Kind), TargetID: r.groupRef[ref.Group]})
		case ref.CIDR != "":
			t := nsxclient.TargetIPv4Address
			if ref.IsIPv6() {
				t = nsxclient.TargetIPv6Address
			}
			out = append(out, nsxclient.ResourceReference{TargetType: t, TargetID: ref.CIDR})
		case ref.NSXGroup != "":
			id, why := r.external(ref.NSXGroup)
			if why != "" {
				fail(why)
				unresolved = true
				continue
			}
			out = append(out, nsxclient.ResourceReference{TargetType: nsxclient.TargetNSGroup, TargetID: id})
		default:
			return nil, false, false, fmt.Errorf("empty reference")
		}
	}
	out, outExcluded, nothing = extgroup.FailClosed(out, excluded, allow, unresolved)
	return out, outExcluded, nothing, nil
}

// services realizes inline services.
func services(in []ir.Service) []nsxclient.FirewallService {
	if len(in) == 0 {
		return nil
	}
	out := make([]nsxclient.FirewallService, 0, len(in))
	for _, s := range in {
		switch s.Kind {
		case ir.ServiceIPProtocol:
			n := int64(s.ProtocolNumber)
			out = append(out, nsxclient.FirewallService{Service: &nsxclient.NSServiceElement{
				ResourceType: nsxclient.ServiceIPProtocol, ProtocolNumber: &n}})
		default:
			out = append(out, nsxclient.FirewallService{Service: &nsxclient.NSServiceElement{
				ResourceType: nsxclient.ServiceL4PortSet, L4Protocol: s.L4Protocol,
				DestinationPorts: append([]string(nil), s.DestinationPorts...)}})
		}
	}
	return out
}

// sortedProblems returns the recorded problems in a stable order.
func (r *realizer) sortedProblems() []Problem {
	out := make([]Problem, 0, len(r.problems))
	for p := range r.problems {
		out = append(out, p)
	}
	sortProblems(out)
	return out
}

// sectionAttributesHash is the hash tag of a section: a hash of what the section object itself
// carries (key, name, tier), not of its rules, which carry their own hash in their notes. So a
// change made rule by rule writes only the rules, not the section too.
func sectionAttributesHash(s *ir.Section, guard bool) string {
	sum := sha256.Sum256([]byte(strconv.Quote(s.Key) + strconv.Quote(s.DisplayName) + strconv.Quote(string(s.Tier)) + strconv.FormatBool(guard)))
	return hex.EncodeToString(sum[:])
}
