package explain

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/microseg/microseg/internal/evaluate"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/nsxsync/manager"
	"github.com/microseg/microseg/internal/nsxsync/policy"
	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/nsxclient"
)

// nsxIDs are microseg's objects in NSX by IR key, as the sync path reads them (reads only).
type nsxIDs struct {
	owned *ownership.Index
}

// readNSXIDs reads microseg's objects the way the operator's sync does, GETs only: with the
// Manager backend (sections with their rules, groups) or the Policy backend (security policies
// with their rules, groups). api auto reads the Manager API first and the Policy API when
// microseg has no section there (as after a migration to the Policy API).
func readNSXIDs(ctx context.Context, c *nsxclient.Client, clusterID, api string) (*nsxIDs, error) {
	if api != APIPolicy {
		owned, err := readOwned(ctx, func() (nsxsync.Backend, error) {
			return manager.Over(c, manager.Config{ClusterID: clusterID})
		})
		if err != nil || api == APIManager || len(owned.Sections()) > 0 {
			return &nsxIDs{owned: owned}, err
		}
	}
	owned, err := readOwned(ctx, func() (nsxsync.Backend, error) {
		return policy.New(c, policy.Config{ClusterID: clusterID})
	})
	return &nsxIDs{owned: owned}, err
}

func readOwned(ctx context.Context, backend func() (nsxsync.Backend, error)) (*ownership.Index, error) {
	b, err := backend()
	if err != nil {
		return nil, err
	}
	st, err := b.Read(ctx, nsxsync.ReadFull)
	if err != nil {
		return nil, err
	}
	return st.Owned(), nil
}

// nsxRule names the NSX section and rule that realize a decision, with their ids from NSX, or
// for a ClusterSecurityPolicy from its status (which lists section ids, not rule ids).
func (x *explainer) nsxRule(d evaluate.Decision) NSXRule {
	r := NSXRule{Section: d.Section.DisplayName, Rule: d.Rule.DisplayName}
	if x.nsxIDs != nil {
		sid, okS := x.nsxIDs.owned.Section(d.Section.Key)
		rid, okR := x.nsxIDs.owned.Rule(d.Rule.Key)
		switch {
		case okS && okR:
			r.SectionID, r.RuleID, r.IDsFrom = sid, rid, "NSX"
		case okS:
			r.SectionID = sid
			r.IDsFrom = "NSX, which lacks this rule: it was changed behind microseg's back, or the operator has not synced since the last change (it repairs NSX at its next sync)"
		default:
			r.IDsFrom = "not in NSX: the operator has not programmed this section (is it running, and with this --cluster-id?)"
		}
		return r
	}
	o := d.Rule.Origin.Object
	if o.Kind != ir.KindClusterSecurityPolicy {
		r.IDsFrom = "NetworkPolicies carry no NSX ids in Kubernetes; --nsx-url reads them from NSX"
		return r
	}
	p := x.csp(o.Name)
	res, found := x.model.Object(o)
	if p == nil || !found || p.Status.Realized == nil {
		r.IDsFrom = "the ClusterSecurityPolicy's status names no NSX section yet"
		return r
	}
	if i := slices.Index(res.Sections, d.Section.Key); i >= 0 && i < len(p.Status.Realized.SectionIDs) {
		r.SectionID = p.Status.Realized.SectionIDs[i]
		r.IDsFrom = "status of " + o.String() + " (section; rule ids need --nsx-url)"
	}
	return r
}

// ruleNumber is the id NSX's Traceflow reports for the rule that decided a side (acl_rule_id), if
// known: Manager rule ids are numbers; Policy rules are named by path, and their numbers are not
// known here, so a Policy trace is compared on its verdict only.
func (x *explainer) ruleNumber(s Side) string {
	if s.NSX.IDsFrom == "NSX" && s.NSX.RuleID != "" && strings.Trim(s.NSX.RuleID, "0123456789") == "" {
		return s.NSX.RuleID
	}
	return ""
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func fmtRule(n int64) string {
	if n == 0 {
		return "?"
	}
	return fmt.Sprint(n)
}
