package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/microseg/microseg/internal/ncpemu"
	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/nsxclient"
)

// printDFW prints the DFW as an admin of the API in use sees it.
func (d *demo) printDFW(ctx context.Context, out io.Writer) error {
	if d.api == ncpemu.APIPolicy {
		return printPolicyDFW(ctx, out, d.nsx, clusterID)
	}
	return printDFW(ctx, out, d.nsx, clusterID)
}

// categoryOrder ranks the DFW categories as NSX evaluates them (Ethernet, the layer-2 rules,
// apart); policies without a category come after Application.
var categoryOrder = []string{nsxclient.CategoryEthernet, nsxclient.CategoryEmergency, nsxclient.CategoryInfrastructure,
	nsxclient.CategoryEnvironment, nsxclient.CategoryApplication, ""}

// printPolicyDFW shows the distributed firewall as a Policy-mode NSX admin sees it in the UI's
// Distributed Firewall page: category by category, the security policies by sequence number
// (microseg's marked), each with its rules, groups by display name; then what NSX evaluates
// after every Policy policy.
func printPolicyDFW(ctx context.Context, out io.Writer, c *nsxclient.Client, clusterID string) error {
	infra, err := c.Policy().ReadInfra(ctx, nsxclient.ReadInfraOptions{
		Types:    []string{nsxclient.ResourceGroup, nsxclient.ResourceSecurityPolicy, nsxclient.ResourceRule},
		BasePath: nsxclient.DomainPath(nsxclient.DefaultDomain)})
	if err != nil {
		return err
	}
	names := map[string]string{}
	var policies []nsxclient.SecurityPolicy
	for _, n := range infra.Children {
		children := n.Children
		if n.Domain != nil {
			children = n.Domain.Children
		}
		for _, ch := range children {
			switch {
			case ch.Group != nil:
				names[ch.Group.Path] = ch.Group.DisplayName
			case ch.SecurityPolicy != nil:
				p := *ch.SecurityPolicy
				for _, r := range p.Children {
					if r.Rule != nil {
						p.Rules = append(p.Rules, *r.Rule)
					}
				}
				policies = append(policies, p)
			}
		}
	}
	slices.SortFunc(policies, func(a, b nsxclient.SecurityPolicy) int {
		return cmp.Or(cmp.Compare(slices.Index(categoryOrder, a.Category), slices.Index(categoryOrder, b.Category)),
			cmp.Compare(a.SequenceNumber, b.SequenceNumber), strings.Compare(a.ID, b.ID))
	})
	fmt.Fprintln(out, "\nNSX distributed firewall (Policy API, domain default), in evaluation order:")
	category := "-"
	for i, p := range policies {
		if p.Category != category {
			category = p.Category
			fmt.Fprintf(out, "\n  Category %s\n", cmp.Or(category, "(none)"))
		}
		owner := "another user"
		switch {
		case p.IsDefault:
			owner = "NSX default"
		case ownership.Owned(p.Tags, clusterID) && ownership.IsGuard(p.Tags):
			owner = "microseg guard"
		case ownership.Owned(p.Tags, clusterID):
			owner = "microseg"
		}
		fmt.Fprintf(out, "\n%2d. %s  [%s, sequence %d, %d rules]\n", i+1, p.DisplayName, owner, p.SequenceNumber, len(p.Rules))
		slices.SortFunc(p.Rules, func(a, b nsxclient.PolicyRule) int { return cmp.Compare(a.SequenceNumber, b.SequenceNumber) })
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		for _, r := range p.Rules {
			state := ""
			if r.Disabled {
				state = "\t(disabled)"
			}
			fmt.Fprintf(w, "      %d\t%s\t%s\tfrom %s\tto %s\t%s\tapplied to %s%s\n", r.SequenceNumber, r.Action, orAny(r.Direction, "IN_OUT"),
				paths(r.SourceGroups, r.SourcesExcluded, names), paths(r.DestinationGroups, r.DestinationsExcluded, names),
				entries(r.ServiceEntries), paths(r.Scope, false, names), state)
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(out, "\n  then the Manager API's sections, if any (none of microseg's once it runs on the Policy API)")
	return nil
}

func paths(list []string, excluded bool, names map[string]string) string {
	if len(list) == 0 || len(list) == 1 && strings.EqualFold(list[0], nsxclient.AnyPath) {
		return "any"
	}
	parts := make([]string, len(list))
	for i, p := range list {
		parts[i] = cmp.Or(names[p], p)
	}
	s := strings.Join(parts, ", ")
	if excluded {
		return "NOT(" + s + ")"
	}
	return s
}

func entries(list []nsxclient.ServiceEntry) string {
	if len(list) == 0 {
		return "any service"
	}
	var parts []string
	for _, e := range list {
		switch {
		case e.L4Protocol != "":
			parts = append(parts, e.L4Protocol+"/"+orAny(strings.Join(e.DestinationPorts, ","), "any"))
		case e.ProtocolNumber != nil:
			parts = append(parts, fmt.Sprintf("IP protocol %d", *e.ProtocolNumber))
		}
	}
	return strings.Join(parts, " ")
}

// chosenAPI reads which API the operator chose from its microseg_nsx_api metric.
func chosenAPI() string {
	families, err := metrics.Registry.Gather()
	if err != nil {
		return "unknown"
	}
	for _, f := range families {
		if f.GetName() != "microseg_nsx_api" {
			continue
		}
		for _, m := range f.GetMetric() {
			if m.GetGauge().GetValue() == 1 && len(m.GetLabel()) == 1 {
				return m.GetLabel()[0].GetValue()
			}
		}
	}
	return "unknown"
}
