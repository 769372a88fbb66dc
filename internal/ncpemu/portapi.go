package ncpemu

import (
	"context"
	"fmt"

	"github.com/microseg/microseg/internal/ncpemu/layout"
	"github.com/microseg/microseg/nsxclient"
)

// portAPI is where the emulator keeps pod ports. The emulator's book holds every port in the
// Manager API's shape (nsxclient.LogicalPort); in Policy mode a segment port is converted to that
// shape and back, its id being the segment port's id.
type portAPI interface {
	// prepare creates what the ports hang off (Policy mode: the segment).
	prepare(ctx context.Context) error
	// list lists container ports (of every cluster), optionally of one attachment.
	list(ctx context.Context, attachmentID string) ([]nsxclient.LogicalPort, error)
	create(ctx context.Context, p nsxclient.LogicalPort) (*nsxclient.LogicalPort, error)
	update(ctx context.Context, p nsxclient.LogicalPort) (*nsxclient.LogicalPort, error)
	get(ctx context.Context, id string) (*nsxclient.LogicalPort, error)
	// remove deletes a port; a port already gone is not an error.
	remove(ctx context.Context, id string) error
}

// managerPorts are NCP's Manager-mode logical ports.
type managerPorts struct{ nsx *nsxclient.Client }

func (managerPorts) prepare(context.Context) error { return nil }

func (m managerPorts) list(ctx context.Context, attachmentID string) ([]nsxclient.LogicalPort, error) {
	return m.nsx.ListLogicalPorts(ctx, nsxclient.ListLogicalPortsOptions{ContainerPortsOnly: true, AttachmentID: attachmentID})
}

func (m managerPorts) create(ctx context.Context, p nsxclient.LogicalPort) (*nsxclient.LogicalPort, error) {
	return m.nsx.CreateLogicalPort(ctx, p)
}

func (m managerPorts) update(ctx context.Context, p nsxclient.LogicalPort) (*nsxclient.LogicalPort, error) {
	return m.nsx.UpdateLogicalPort(ctx, p)
}

func (m managerPorts) get(ctx context.Context, id string) (*nsxclient.LogicalPort, error) {
	return m.nsx.GetLogicalPort(ctx, id)
}

// remove deletes with detach=true, as NCP does: the port is attached (to the pod's VIF) and may
// be a static member of groups.
func (m managerPorts) remove(ctx context.Context, id string) error {
	if err := m.nsx.DeleteLogicalPort(ctx, id, true); err != nil && !nsxclient.IsNotFound(err) {
		return err
	}
	return nil
}

// policyPorts are NCP's Policy-mode segment ports, all on one segment (Config.LogicalSwitchID)
// that carries the ncp/cluster tag, as nsx-operator finds NCP's segments. A port's id is the
// pod's UID (the client chooses Policy ids, and a PATCH to the same id is idempotent, so a
// create whose answer was lost cannot make a duplicate); the tags are the Manager-mode layout
// (internal/ncptags). Which tags NCP writes on Policy segment ports is not documented: the
// operator checks the layout it relies on when it starts in Policy mode.
type policyPorts struct {
	nsx     *nsxclient.PolicyClient
	segment string
	cluster string
}

func (p policyPorts) prepare(ctx context.Context) error {
	seg := layout.Segment(Config{ClusterName: p.cluster, LogicalSwitchID: p.segment})
	if err := p.nsx.PatchSegment(ctx, seg); err != nil {
		return fmt.Errorf("creating segment %s: %w", p.segment, err)
	}
	return nil
}

func (p policyPorts) list(ctx context.Context, attachmentID string) ([]nsxclient.LogicalPort, error) {
	sps, err := p.nsx.ListSegmentPorts(ctx, p.segment, nsxclient.PolicyListOptions{})
	if nsxclient.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []nsxclient.LogicalPort
	for _, sp := range sps {
		if sp.Attachment == nil || sp.Attachment.Type != nsxclient.AttachmentChild || (attachmentID != "" && sp.Attachment.ID != attachmentID) {
			continue
		}
		out = append(out, layout.FromSegmentPort(p.segment, sp))
	}
	return out, nil
}

func (p policyPorts) create(ctx context.Context, lp nsxclient.LogicalPort) (*nsxclient.LogicalPort, error) {
	lp.ID = layout.PolicyPortID(lp.Attachment.ID)
	return p.update(ctx, lp)
}

func (p policyPorts) update(ctx context.Context, lp nsxclient.LogicalPort) (*nsxclient.LogicalPort, error) {
	if err := p.nsx.PatchSegmentPort(ctx, p.segment, layout.ToSegmentPort(lp)); err != nil {
		return nil, err
	}
	return p.get(ctx, lp.ID)
}

func (p policyPorts) get(ctx context.Context, id string) (*nsxclient.LogicalPort, error) {
	sp, err := p.nsx.GetSegmentPort(ctx, p.segment, id)
	if err != nil {
		return nil, err
	}
	lp := layout.FromSegmentPort(p.segment, *sp)
	return &lp, nil
}

func (p policyPorts) remove(ctx context.Context, id string) error {
	if err := p.nsx.DeleteSegmentPort(ctx, p.segment, id); err != nil && !nsxclient.IsNotFound(err) {
		return err
	}
	return nil
}
