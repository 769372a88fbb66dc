package auto_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/nsxsync/auto"
	"github.com/microseg/microseg/internal/simnsx"
	"github.com/microseg/microseg/nsxclient"
)

func ncpTags(cluster, ns, pod string) []nsxclient.Tag {
	return []nsxclient.Tag{{Scope: "ncp/cluster", Tag: cluster}, {Scope: "ncp/project", Tag: ns}, {Scope: "ncp/pod", Tag: pod}, {Scope: "app", Tag: "web"}}
}

func addSegmentPort(t *testing.T, c *nsxclient.Client, id string, tags []nsxclient.Tag) {
	t.Helper()
	seg := nsxclient.Segment{PolicyResource: nsxclient.PolicyResource{ID: "pods"}}
	seg.Children = []nsxclient.ChildNode{nsxclient.ChildSegmentPort(nsxclient.SegmentPort{PolicyResource: nsxclient.PolicyResource{ID: id, Tags: tags},
		Attachment: &nsxclient.PortAttachment{ID: id, Type: nsxclient.AttachmentChild, ContextID: "node-vif"}})}
	if err := c.Policy().PatchInfra(context.Background(), nsxclient.NewInfra(nsxclient.ChildSegment(seg)), nsxclient.PatchInfraOptions{}); err != nil {
		t.Fatal(err)
	}
}

func addLogicalPort(t *testing.T, c *nsxclient.Client, id string, tags []nsxclient.Tag) {
	t.Helper()
	_, err := c.CreateLogicalPort(context.Background(), nsxclient.LogicalPort{ManagedResource: nsxclient.ManagedResource{DisplayName: id, Tags: tags},
		LogicalSwitchID: "ls", AdminState: "UP",
		Attachment: &nsxclient.LogicalPortAttachment{AttachmentType: "VIF", ID: id,
			Context: &nsxclient.VifAttachmentContext{ResourceType: "VifAttachmentContext", VifType: "CHILD", ParentVifID: "node-vif"}}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestChooseFollowsNCP(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mode     string
		setup    func(*testing.T, *nsxclient.Client)
		want     string
		errorHas string
	}{
		{name: "segment ports: Policy (their Manager realization does not count)", mode: auto.ModeAuto, want: auto.ModePolicy,
			setup: func(t *testing.T, c *nsxclient.Client) { addSegmentPort(t, c, "p1", ncpTags(cluster, "shop", "web-1")) }},
		{name: "logical ports: Manager", mode: auto.ModeAuto, want: auto.ModeManager,
			setup: func(t *testing.T, c *nsxclient.Client) { addLogicalPort(t, c, "p1", ncpTags(cluster, "shop", "web-1")) }},
		{name: "another cluster's ports do not count", mode: auto.ModeAuto, errorHas: "holds no pod port",
			setup: func(t *testing.T, c *nsxclient.Client) { addSegmentPort(t, c, "p1", ncpTags("other", "shop", "web-1")) }},
		{name: "both: a clear error", mode: auto.ModeAuto, errorHas: "both as Policy segment ports (1) and as Manager logical ports (1)",
			setup: func(t *testing.T, c *nsxclient.Client) {
				addSegmentPort(t, c, "p1", ncpTags(cluster, "shop", "web-1"))
				addLogicalPort(t, c, "p2", ncpTags(cluster, "shop", "web-2"))
			}},
		{name: "neither: a clear error", mode: auto.ModeAuto, errorHas: "--cluster-id", setup: func(*testing.T, *nsxclient.Client) {}},
		{name: "segment ports without NCP's identity tags: not trusted", mode: auto.ModeAuto, errorHas: "lacks the tags",
			setup: func(t *testing.T, c *nsxclient.Client) {
				addSegmentPort(t, c, "p1", []nsxclient.Tag{{Scope: "ncp/cluster", Tag: cluster}, {Scope: "ncp/project_uid", Tag: "9f1c"}})
			}},
		{name: "--nsx-api policy checks the layout too", mode: auto.ModePolicy, errorHas: "lacks the tags",
			setup: func(t *testing.T, c *nsxclient.Client) {
				addSegmentPort(t, c, "p1", []nsxclient.Tag{{Scope: "ncp/cluster", Tag: cluster}, {Scope: "app", Tag: "web"}})
			}},
		{name: "--nsx-api policy with no pod yet", mode: auto.ModePolicy, want: auto.ModePolicy, setup: func(*testing.T, *nsxclient.Client) {}},
		{name: "--nsx-api manager looks at nothing", mode: auto.ModeManager, want: auto.ModeManager,
			setup: func(t *testing.T, c *nsxclient.Client) { addSegmentPort(t, c, "p1", ncpTags(cluster, "shop", "web-1")) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nsx := simnsx.StartT(t, simnsx.Options{Sim: nsxsim.Options{Seed: 1}})
			tc.setup(t, nsx.Client)
			cfg := backends(nsx.Client, 0)
			cfg.Mode = tc.mode
			var chosen, why string
			cfg.OnChosen = func(api, reason string) { chosen, why = api, reason }
			b, err := auto.New(nsx.Client, cfg)
			if err != nil {
				t.Fatal(err)
			}
			res, err := nsxsync.Sync(context.Background(), b, &ir.Model{ClusterID: cluster}, nsxsync.Options{})
			if tc.errorHas != "" {
				var ce *nsxsync.ConfigError
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.errorHas) {
					t.Fatalf("sync = %v; want a configuration error saying %q", err, tc.errorHas)
				}
				if b.API() != tc.mode || chosen != "" {
					t.Fatalf("API %q, chosen %q after a failed choice", b.API(), chosen)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if chosen != tc.want || b.API() != tc.want || res.API != tc.want || why == "" {
				t.Fatalf("chose %q (%s), API() %q, result %q; want %s", chosen, why, b.API(), res.API, tc.want)
			}
		})
	}
}
