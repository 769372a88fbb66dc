package nsxapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

// TestLogicalPortCRUDWithTags creates an NCP-style pod port, retags it, filters the port list and
// deletes it (an attached port only with detach).
func TestLogicalPortCRUDWithTags(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		body := podPort("shop/web-0", "ls-shop", "10.2.0.10", "ncp/cluster=c1", "ncp/project=shop", "ncp/pod=web-0", "app=web")
		created := try(h.c.CreateLogicalPort(ctx, body)).must(t)
		if created.ID == "" || created.ResourceType != "LogicalPort" || created.Revision != 0 {
			t.Errorf("created %+v", created.ManagedResource)
		}
		got := try(h.c.GetLogicalPort(ctx, created.ID)).must(t)
		switch {
		case len(got.Tags) != 4 || got.Tags[3] != (nsxclient.Tag{Scope: "app", Tag: "web"}):
			t.Errorf("tags %+v", got.Tags)
		case got.Attachment == nil || got.Attachment.Context == nil || got.Attachment.Context.VifType != "CHILD" ||
			got.Attachment.Context.ParentVifID != "node-1-vif":
			t.Errorf("attachment %+v", got.Attachment)
		case len(got.AddressBindings) != 1 || got.AddressBindings[0].IPAddress != "10.2.0.10":
			t.Errorf("address bindings %+v", got.AddressBindings)
		}

		// Relabel the pod: NCP rewrites the port's tags with a PUT.
		got.Tags = append(got.Tags[:3], nsxclient.Tag{Scope: "app", Tag: "web-v2"}, nsxclient.Tag{Scope: "tier", Tag: "front"})
		updated := try(h.c.UpdateLogicalPort(ctx, *got)).must(t)
		if updated.Revision != 1 || len(updated.Tags) != 5 || updated.Tags[3].Tag != "web-v2" {
			t.Errorf("after PUT: revision %d, tags %+v", updated.Revision, updated.Tags)
		}

		mustOK(t, h.c.DeleteLogicalPort(ctx, created.ID, true))
		if _, err := h.c.GetLogicalPort(ctx, created.ID); !nsxclient.IsNotFound(err) {
			t.Errorf("deleted port: want ErrNotFound, got %v", err)
		}
	})
}

// TestLogicalPortListFilters pages through ports and applies every filter the client offers.
func TestLogicalPortListFilters(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		for i := range 5 {
			try(h.c.CreateLogicalPort(ctx, podPort(fmt.Sprintf("shop/p%d", i), "ls-shop", fmt.Sprintf("10.3.0.%d", 10+i)))).must(t)
		}
		other := podPort("dev/p", "ls-dev", "10.4.0.10")
		other.Attachment.Context.ParentVifID = "node-2-vif"
		other = *try(h.c.CreateLogicalPort(ctx, other)).must(t)
		vm := podPort("vm-nic", "ls-dev", "10.4.0.20")
		vm.Attachment.Context = &nsxclient.VifAttachmentContext{ResourceType: "VifAttachmentContext", VifType: "PARENT"}
		try(h.c.CreateLogicalPort(ctx, vm)).must(t)
		unattached := podPort("spare", "ls-dev", "10.4.0.30")
		unattached.Attachment = nil
		try(h.c.CreateLogicalPort(ctx, unattached)).must(t)

		count := func(opts nsxclient.ListLogicalPortsOptions) int {
			return len(try(h.c.ListLogicalPorts(ctx, opts)).must(t))
		}
		checks := []struct {
			what string
			opts nsxclient.ListLogicalPortsOptions
			want int
		}{
			{"all ports, pages of 2", nsxclient.ListLogicalPortsOptions{PageSize: 2}, 8},
			{"all ports, default pages", nsxclient.ListLogicalPortsOptions{}, 8},
			{"logical_switch_id", nsxclient.ListLogicalPortsOptions{LogicalSwitchID: "ls-shop"}, 5},
			{"attachment_type", nsxclient.ListLogicalPortsOptions{AttachmentType: "VIF"}, 7},
			{"attachment_id", nsxclient.ListLogicalPortsOptions{AttachmentID: other.Attachment.ID}, 1},
			{"parent_vif_id", nsxclient.ListLogicalPortsOptions{ParentVIFID: "node-2-vif"}, 1},
			{"container_ports_only", nsxclient.ListLogicalPortsOptions{ContainerPortsOnly: true}, 6},
		}
		for _, c := range checks {
			if got := count(c.opts); got != c.want {
				t.Errorf("%s: %d ports, want %d", c.what, got, c.want)
			}
		}

		// NSX caps page_size at 1000; the spec says so too, hence the declared violation.
		h.expectSpecViolation("?page_size: value 1001 above maximum 1000")
		_, err := h.c.ListLogicalPorts(ctx, nsxclient.ListLogicalPortsOptions{PageSize: 1001})
		if e := apiError(t, err); e.StatusCode != 400 || e.ErrorCode != nsxclient.ErrCodeFieldValidation || !strings.Contains(e.Message, "page_size") {
			t.Errorf("page_size 1001: want a field validation error naming page_size, got %v", err)
		}
	})
}

// TestLogicalPortDeleteNeedsDetach: an attached port, or one a group names, is refused without
// detach=true.
func TestLogicalPortDeleteNeedsDetach(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		attached := try(h.c.CreateLogicalPort(ctx, podPort("attached", "ls-1", "10.5.0.1"))).must(t)
		loose := podPort("loose", "ls-1", "10.5.0.2")
		loose.Attachment = nil
		named := try(h.c.CreateLogicalPort(ctx, loose)).must(t)
		g := namedGroup("names-a-port")
		g.Members = []nsxclient.NSGroupExpression{nsxclient.StaticMember(nsxclient.TargetLogicalPort, named.ID)}
		try(h.c.CreateNSGroup(ctx, g)).must(t)

		for _, id := range []string{attached.ID, named.ID} {
			if err := h.c.DeleteLogicalPort(ctx, id, false); !nsxclient.IsInUse(err) {
				t.Errorf("deleting port %s without detach: want ErrInUse, got %v", id, err)
			}
			mustOK(t, h.c.DeleteLogicalPort(ctx, id, true))
		}
		unusedBody := podPort("unused", "ls-1", "10.5.0.3")
		unusedBody.Attachment = nil
		unused := try(h.c.CreateLogicalPort(ctx, unusedBody)).must(t)
		mustOK(t, h.c.DeleteLogicalPort(ctx, unused.ID, false))
		if ports := try(h.c.ListLogicalPorts(ctx, nsxclient.ListLogicalPortsOptions{})).must(t); len(ports) != 0 {
			t.Errorf("%d ports left", len(ports))
		}
	})
}

// podPort is the logical port NCP creates for a pod: a CHILD VIF of its node's VIF on the
// namespace's logical switch, bound to the pod's IP, with tags given as "scope=tag".
func podPort(name, switchID, ip string, tags ...string) nsxclient.LogicalPort {
	p := nsxclient.LogicalPort{
		LogicalSwitchID: switchID,
		AdminState:      "UP",
		Attachment: &nsxclient.LogicalPortAttachment{
			AttachmentType: "VIF",
			ID:             "vif-" + strings.ReplaceAll(name, "/", "-"),
			Context: &nsxclient.VifAttachmentContext{
				ResourceType: "VifAttachmentContext",
				VifType:      "CHILD",
				ParentVifID:  "node-1-vif",
				AppID:        name,
				TrafficTag:   100,
			},
		},
		AddressBindings: []nsxclient.PacketAddressClassifier{{IPAddress: ip, MACAddress: "02:50:56:00:00:01", VLAN: 100}},
	}
	p.DisplayName = name
	for _, kv := range tags {
		scope, tag, _ := strings.Cut(kv, "=")
		p.Tags = append(p.Tags, nsxclient.Tag{Scope: scope, Tag: tag})
	}
	return p
}
