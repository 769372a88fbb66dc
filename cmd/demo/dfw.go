package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/nsxclient"
)

// printDFW shows the distributed firewall the way an NSX admin sees it in the UI: sections in
// evaluation order (microseg's marked), each with its rules, groups by display name.
func printDFW(ctx context.Context, out io.Writer, c *nsxclient.Client, clusterID string) error {
	names, err := groupNames(ctx, c)
	if err != nil {
		return err
	}
	sections, err := c.ListSections(ctx, nsxclient.ListSectionsOptions{})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "\nNSX distributed firewall (LAYER3), in evaluation order:")
	for i, s := range sections {
		owner := "hand-made"
		switch {
		case s.IsDefault:
			owner = "NSX default"
		case ownership.Owned(s.Tags, clusterID) && ownership.IsGuard(s.Tags):
			owner = "microseg guard"
		case ownership.Owned(s.Tags, clusterID):
			owner = "microseg"
		}
		fmt.Fprintf(out, "\n%2d. %s  [%s, %d rules]\n", i+1, s.DisplayName, owner, s.RuleCount)
		rules, err := c.ListRules(ctx, s.ID)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		for _, r := range rules {
			fmt.Fprintf(w, "      %s\t%s\t%s\tfrom %s\tto %s\t%s\tapplied to %s\n", r.ID, r.Action, orAny(r.Direction, "IN_OUT"),
				refs(r.Sources, r.SourcesExcluded, names), refs(r.Destinations, r.DestinationsExcluded, names),
				services(r.Services), refs(r.AppliedTos, false, names))
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// groupNames maps NSGroup and IPSet ids to display names.
func groupNames(ctx context.Context, c *nsxclient.Client) (map[string]string, error) {
	names := map[string]string{}
	groups, err := c.ListNSGroups(ctx, nsxclient.ListNSGroupsOptions{})
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		names[g.ID] = g.DisplayName
	}
	sets, err := c.ListIPSets(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range sets {
		names[s.ID] = s.DisplayName
	}
	return names, nil
}

func refs(list []nsxclient.ResourceReference, excluded bool, names map[string]string) string {
	if len(list) == 0 {
		return "any"
	}
	parts := make([]string, len(list))
	for i, r := range list {
		parts[i] = r.TargetID
		if n, ok := names[r.TargetID]; ok {
			parts[i] = n
		}
	}
	s := strings.Join(parts, ", ")
	if excluded {
		return "NOT(" + s + ")"
	}
	return s
}

func services(list []nsxclient.FirewallService) string {
	if len(list) == 0 {
		return "any service"
	}
	var parts []string
	for _, s := range list {
		switch {
		case s.Service != nil && s.Service.L4Protocol != "":
			parts = append(parts, s.Service.L4Protocol+"/"+orAny(strings.Join(s.Service.DestinationPorts, ","), "any"))
		case s.Service != nil && s.Service.ProtocolNumber != nil:
			parts = append(parts, fmt.Sprintf("IP protocol %d", *s.Service.ProtocolNumber))
		default:
			parts = append(parts, s.TargetID)
		}
	}
	return strings.Join(parts, " ")
}

func orAny(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
