package nsxapi_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/nsxclient"
)

// A list that fails half-way must fail as a whole: a reconciler shown a short list would delete
// or recreate the objects it did not see.

// TestFaultOnALaterPageNeverGivesAPartialList covers NSGroups, sections (with an explicit
// page_size) and effective members, all in pages of 2, with transient faults on page 2 (the list
// completes) and persistent ones (the list fails and returns nothing).
func TestFaultOnALaterPageNeverGivesAPartialList(t *testing.T) {
	h := newHarness(t, withSim(func(o *nsxsim.Options) { o.DefaultPageSize = 2 }))
	ctx := t.Context()
	for i := range 9 {
		try(h.c.CreateNSGroup(ctx, namedGroup(fmt.Sprintf("g%02d", i)))).must(t)
	}
	for i := range 5 {
		try(h.c.CreateSection(ctx, layer3Section(fmt.Sprintf("s%d", i)), nsxclient.Bottom())).must(t)
		try(h.c.CreateLogicalPort(ctx, podPort(fmt.Sprintf("p%d", i), "ls", fmt.Sprintf("10.0.0.%d", 10+i), "app=x"))).must(t)
	}
	gb := namedGroup("app-x")
	gb.MembershipCriteria = []nsxclient.NSGroupExpression{portTagExpr("app", "x")}
	group := try(h.c.CreateNSGroup(ctx, gb)).must(t)

	lists := []struct {
		name     string
		endpoint string // the simulator's name for it
		want     int
		list     func() (int, error)
	}{
		{"NSGroups", "GET /api/v1/ns-groups", 10, func() (int, error) {
			all, err := h.c.ListNSGroups(ctx, nsxclient.ListNSGroupsOptions{})
			return len(all), err
		}},
		{"sections, 2 per page", "GET /api/v1/firewall/sections", 6, func() (int, error) {
			all, err := h.c.ListSections(ctx, nsxclient.ListSectionsOptions{PageSize: 2})
			return len(all), err
		}},
		{"effective ports", "GET /api/v1/ns-groups/{ns-group-id}/effective-logical-port-members", 5, func() (int, error) {
			all, err := h.c.ListNSGroupEffectiveLogicalPortMembers(ctx, group.ID)
			return len(all), err
		}},
	}
	for _, l := range lists {
		t.Run(l.name, func(t *testing.T) { checkListUnderFaults(t, h, l.endpoint, l.want, l.list) })
	}
}

// checkListUnderFaults lists once per fault, each fault letting the first page through.
func checkListUnderFaults(t *testing.T, h *harness, endpoint string, want int, list func() (int, error)) {
	transient := []nsxsim.FaultRule{
		{Kind: nsxsim.FaultUnavailable, Endpoint: endpoint, Skip: 1, Count: 2},
		{Kind: nsxsim.FaultDrop, Endpoint: endpoint, Skip: 1, Count: 1},
		{Kind: nsxsim.FaultTooManyRequests, Endpoint: endpoint, Skip: 1, Count: 1},
	}
	for _, f := range transient {
		h.sim.SetFaults(nsxsim.Faults{Rules: []nsxsim.FaultRule{f}})
		if n, err := list(); err != nil || n != want {
			t.Errorf("transient %s on page 2: %d items, error %v; want all %d", f.Kind, n, err, want)
		}
	}

	persistent := []nsxsim.FaultRule{
		{Kind: nsxsim.FaultUnavailable, Endpoint: endpoint, Skip: 1},
		{Kind: nsxsim.FaultDrop, Endpoint: endpoint, Skip: 1},
	}
	for _, f := range persistent {
		h.sim.SetFaults(nsxsim.Faults{Rules: []nsxsim.FaultRule{f}})
		n, err := list()
		if err == nil || n != 0 {
			t.Errorf("persistent %s from page 2: %d items, error %v; want no items and an error", f.Kind, n, err)
			continue
		}
		var apiErr *nsxclient.APIError
		var transportErr *nsxclient.TransportError
		if !errors.As(err, &apiErr) && !errors.As(err, &transportErr) {
			t.Errorf("persistent %s: the error %T does not wrap a typed NSX error", f.Kind, err)
		}
		if !strings.Contains(err.Error(), "page 2") || !strings.Contains(err.Error(), "rather than a partial list") {
			t.Errorf("persistent %s: the error does not explain the refusal: %v", f.Kind, err)
		}
	}
	h.sim.ClearFaults()
}
