package policy

import (
	"fmt"
	"strings"

	"github.com/microseg/microseg/internal/extgroup"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/nsxclient"
)

// IR rules become Policy rules one to one: ALLOW, DROP, REJECT; direction IN or OUT; ip_protocol;
// scope = the applied-to groups' paths; source_groups and destination_groups = group paths and
// literal addresses or CIDRs (["ANY"] for an empty list) with the excluded flags; services
// ["ANY"] with inline service_entries (L4PortSetServiceEntry, IPProtocolServiceEntry), or ["ANY"]
// alone for every protocol; logged; disabled (a Staged policy's rules); tag = the origin
// (ownership.RuleTag, 32 characters, printed in NSX's packet logs); notes = the origin's rule
// name (NSX keeps 39 characters); tags = microseg's ownership tags with the rule's key (Policy
// rules, unlike Manager rules, carry tags). Pass never reaches this backend: the compiler
// compiles it away exactly (docs/architecture.md, "The Policy backend").

// maxNotes is how much of a rule's notes NSX keeps.
const maxNotes = 39

// desiredRule is one rule as microseg wants it, its sequence_number still unset.
type desiredRule struct {
	key  string
	id   string
	body nsxclient.PolicyRule
}

// realizer turns IR rules into Policy rules: it knows where every model group will be, resolves
// foreign groups by display name, and records the fail-closed realizations as problems.
type realizer struct {
	cluster    string
	groups     map[string]*ir.Group
	paths      map[string]string // model group key → path
	externals  extgroup.Names
	incomplete map[string]string // nested groups missing an external member (transitively), with why
	problems   map[nsxsync.Problem]bool
}

// external resolves the display name of a group microseg does not own to its path.
func (r *realizer) external(name string) (string, string) { return r.externals.Resolve(name) }

// rule realizes one IR rule; keep is false when the fail-closed policy leaves it out (an allow
// over a group that does not exist allows nothing). Problems are recorded when report is set.
func (r *realizer) rule(in *ir.Rule, report bool) (desiredRule, bool, error) {
	allow := in.Action == ir.ActionAllow
	fail := func(why string) {
		if report {
			r.problems[nsxsync.Problem{Object: in.Origin.Object, Rule: in.Origin.Rule, Code: nsxsync.ProblemInvalidReference,
				Message: fmt.Sprintf("rule %s: %s; the rule is realized fail-closed", in.Key, why)}] = true
		}
	}
	scope, _, _, err := r.refs(in.AppliedTo, false, false, fail)
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
	if srcNothing || dstNothing || len(scope) == 0 {
		return desiredRule{}, false, nil
	}
	id := ruleID(r.cluster, in.Key)
	body := nsxclient.PolicyRule{
		PolicyResource: nsxclient.PolicyResource{
			ID:          id,
			DisplayName: cut(in.DisplayName, maxDisplayName),
			Description: ownership.Description(r.cluster, "Rule", in.Key),
			Tags:        ownership.Tags(r.cluster, in.Key, in.Hash, false),
		},
		Action:               string(in.Action),
		SourceGroups:         orAny(srcs),
		SourcesExcluded:      srcExcl,
		DestinationGroups:    orAny(dsts),
		DestinationsExcluded: dstExcl,
		Services:             []string{nsxclient.AnyPath},
		ServiceEntries:       serviceEntries(in.Services),
		Scope:                scope,
		Direction:            string(in.Direction),
		IPProtocol:           string(in.IPProtocol),
		Logged:               in.Logged,
		Disabled:             in.Disabled,
		Tag:                  ownership.RuleTag(in.Origin),
		Notes:                cut(in.Origin.Rule, maxNotes),
	}
	return desiredRule{key: in.Key, id: id, body: body}, true, nil
}

// orAny is ["ANY"] for an empty list.
func orAny(list []string) []string {
	if len(list) == 0 {
		return []string{nsxclient.AnyPath}
	}
	return list
}

// refs realizes one reference list under the fail-closed policy (internal/extgroup). nothing
// says the rule matches nothing.
func (r *realizer) refs(in []ir.Ref, excluded, allow bool, fail func(string)) (out []string, outExcluded, nothing bool, err error) {
	unresolved := false
	for _, ref := range in {
		switch {
		case ref.Group != "":
			if _, ok := r.groups[ref.Group]; !ok {
				return nil, false, false, fmt.Errorf("policy backend: reference to group %s, which the model does not define", ref.Group)
			}
			if why, bad := r.incomplete[ref.Group]; bad {
				fail(fmt.Sprintf("group %s: %s", ref.Group, why))
				unresolved = true
				continue
			}
			out = append(out, r.paths[ref.Group])
		case ref.CIDR != "":
			out = append(out, ref.CIDR)
		case ref.NSXGroup != "":
			p, why := r.external(ref.NSXGroup)
			if why != "" {
				fail(why)
				unresolved = true
				continue
			}
			out = append(out, p)
		default:
			return nil, false, false, fmt.Errorf("policy backend: empty reference")
		}
	}
	out, outExcluded, nothing = extgroup.FailClosed(out, excluded, allow, unresolved)
	return out, outExcluded, nothing, nil
}

// serviceEntries realizes inline services; none means every protocol.
func serviceEntries(in []ir.Service) []nsxclient.ServiceEntry {
	out := make([]nsxclient.ServiceEntry, 0, len(in))
	for _, s := range in {
		switch s.Kind {
		case ir.ServiceIPProtocol:
			out = append(out, nsxclient.IPProtocolEntry(int64(s.ProtocolNumber)))
		default:
			for _, ports := range portChunks(s.DestinationPorts) {
				out = append(out, nsxclient.L4PortSetEntry(s.L4Protocol, ports...))
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// maxPortValues is how many values a Policy port list holds, a range counting twice.
const maxPortValues = 15

// portChunks splits a port list so that no entry holds more than maxPortValues values (a range
// counts twice in the Policy API; the compiler's limit counts entries). No ports: one entry for
// every port.
func portChunks(ports []string) [][]string {
	if len(ports) == 0 {
		return [][]string{nil}
	}
	var out [][]string
	var cur []string
	weight := 0
	for _, p := range ports {
		w := 1
		if strings.Contains(p, "-") {
			w = 2
		}
		if weight+w > maxPortValues {
			out, cur, weight = append(out, cur), nil, 0
		}
		cur, weight = append(cur, p), weight+w
	}
	return append(out, cur)
}
