package policy

import (
	"fmt"
	"slices"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/nsxclient"
)

// IR groups become Policy groups:
//
//	TagGroup     criteria ORed; a criterion of one tag is a Condition on SegmentPort tags
//	             ("scope|tag", "scope|" for any value), of several a NestedExpression of such
//	             Conditions (AND). The limits match the Manager API's (5 criteria, 5 conditions of
//	             one member type each), so the compiler's splits carry over.
//	IPSet        one IPAddressExpression (one family, at most 4000 entries, as the compiler emits)
//	NestedGroup  one PathExpression naming the member groups, microseg's and, by display name,
//	             groups of the domain microseg does not own
//
// NCP writes the pod's identity (ncp/cluster, ncp/project, ncp/pod) and labels as tags of the
// pod's segment port in Policy mode as it does on the logical port in Manager mode; that layout
// is checked on the segment ports when the operator starts (internal/nsxsync/detect.go).

// groupExpression realizes the content of an IR group. paths gives the path each model group key
// will have; external resolves a foreign group's display name.
func groupExpression(g *ir.Group, paths map[string]string, external func(string) (string, string)) ([]nsxclient.PolicyExpression, error) {
	switch g.Kind {
	case ir.KindTagGroup:
		criteria := make([]nsxclient.PolicyExpression, 0, len(g.Criteria))
		for _, c := range g.Criteria {
			conds := make([]nsxclient.PolicyExpression, len(c.Tags))
			for i, t := range c.Tags {
				conds[i] = nsxclient.TagEquals(nsxclient.MemberSegmentPort, t.Scope, t.Tag)
			}
			if len(conds) == 1 {
				criteria = append(criteria, conds[0])
			} else {
				criteria = append(criteria, nsxclient.AllOf(conds...))
			}
		}
		return nsxclient.Join(nsxclient.ConjunctionOr, criteria...), nil
	case ir.KindIPSet:
		if len(g.IPs) == 0 {
			return nil, nil
		}
		return []nsxclient.PolicyExpression{nsxclient.IPAddresses(slices.Clone(g.IPs)...)}, nil
	case ir.KindNestedGroup:
		var members []string
		for _, m := range g.Members {
			p, ok := paths[m]
			if !ok {
				return nil, fmt.Errorf("policy backend: group %s has member %s, which the model does not define", g.Key, m)
			}
			members = append(members, p)
		}
		for _, name := range g.ExternalMembers {
			if p, why := external(name); why == "" {
				members = append(members, p)
			}
		}
		if len(members) == 0 {
			return nil, nil
		}
		slices.Sort(members)
		return []nsxclient.PolicyExpression{nsxclient.Paths(members...)}, nil
	}
	return nil, fmt.Errorf("policy backend: group %s has unknown kind %q", g.Key, g.Kind)
}

// desiredGroup is one group as microseg wants it in NSX.
type desiredGroup struct {
	key     string
	id      string
	path    string
	body    nsxclient.PolicyGroup
	members []string // keys of the model groups it nests
}

// groupBody is the group microseg writes for IR group g at id.
func groupBody(cluster, id string, g *ir.Group, expr []nsxclient.PolicyExpression) nsxclient.PolicyGroup {
	return nsxclient.PolicyGroup{
		PolicyResource: nsxclient.PolicyResource{
			ID:          id,
			DisplayName: cut(g.DisplayName, maxDisplayName),
			Description: ownership.Description(cluster, "Group", g.Key),
			Tags:        ownership.Tags(cluster, g.Key, g.Hash, false),
		},
		Expression: expr,
	}
}

// maxDisplayName is NSX's limit on display_name.
const maxDisplayName = 255

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
