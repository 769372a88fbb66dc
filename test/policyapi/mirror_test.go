package policyapi_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

// TestSegmentPortsInTheManagerAPI: how a manager serving both APIs shows ports, which is what
// telling NCP's mode apart rests on. A pod port created through the Policy API (NCP in Policy
// mode) is also a Manager logical port, owned by the Policy API; a pod port created through the
// Manager API (NCP in Manager mode) is not a segment port. So a cluster whose pod ports are
// segment ports uses the Policy API; one whose pod ports are only logical ports uses the Manager
// API.
func TestSegmentPortsInTheManagerAPI(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	must(t, h.p.PatchSegment(ctx, nsxclient.Segment{PolicyResource: nsxclient.PolicyResource{ID: "node-1"}}))
	must(t, h.p.PatchSegmentPort(ctx, "node-1", segmentPort("policy-pod", "10.3.0.1", tag("ncp/cluster", "policy-cluster"))))
	mpPort := get[*nsxclient.LogicalPort](t)(h.c.CreateLogicalPort(ctx, nsxclient.LogicalPort{
		ManagedResource: nsxclient.ManagedResource{DisplayName: "manager-pod", Tags: []nsxclient.Tag{tag("ncp/cluster", "manager-cluster")}},
		LogicalSwitchID: "ls-1", AdminState: "UP"}))

	sp := get[*nsxclient.SegmentPort](t)(h.p.GetSegmentPort(ctx, "node-1", "policy-pod"))
	lps := get[[]nsxclient.LogicalPort](t)(h.c.ListLogicalPorts(ctx, nsxclient.ListLogicalPortsOptions{}))
	ids := func() []string {
		var out []string
		for _, p := range lps {
			out = append(out, p.ID)
		}
		return out
	}()
	if !slices.Contains(ids, sp.UniqueID) || !slices.Contains(ids, mpPort.ID) {
		t.Fatalf("logical ports %v, want both the realized segment port %s and the Manager port %s", ids, sp.UniqueID, mpPort.ID)
	}
	ports := get[[]nsxclient.SegmentPort](t)(h.p.ListSegmentPorts(ctx, "node-1", nsxclient.PolicyListOptions{}))
	if len(ports) != 1 || ports[0].ID != "policy-pod" {
		t.Errorf("segment ports = %+v, want only the Policy one", ports)
	}
	// The Manager API may read the realized port but not change it without an override.
	realized := get[*nsxclient.LogicalPort](t)(h.c.GetLogicalPort(ctx, sp.UniqueID))
	realized.Tags = nil
	_, err := h.c.UpdateLogicalPort(ctx, *realized)
	var apiErr *nsxclient.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != nsxclient.ErrCodeNotOwner || !strings.Contains(err.Error(), "AllowOverwrite") {
		t.Errorf("update of a Policy-owned logical port: %v, want 400/289 with the AllowOverwrite hint", err)
	}
	overrider := h.newClient(nil, func(c *nsxclient.Config) { c.AllowOverwrite = true })
	_, err = overrider.UpdateLogicalPort(ctx, *realized)
	must(t, err)
}
