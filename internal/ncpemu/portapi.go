package ncpemu

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/microseg/microseg/nsxclient"
)

// The NSX API NCP runs in (Config.API).
const (
	// APIManager: NCP's Manager mode, pods get logical ports (/api/v1/logical-ports).
	APIManager = "manager"
	// APIPolicy: NCP's Policy mode (policy_nsxapi = True), pods get segment ports
	// (/policy/api/v1/infra/segments/{segment}/ports/{port}) on a segment NCP tags with
	// ncp/cluster.
	APIPolicy = "policy"
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

// Segment is the segment NCP (and the emulator) hang a cluster's pod ports off in Policy mode.
func Segment(cfg Config) nsxclient.Segment {
	cfg = cfg.withDefaults()
	return nsxclient.Segment{PolicyResource: nsxclient.PolicyResource{ID: cfg.LogicalSwitchID, DisplayName: cfg.LogicalSwitchID,
		Tags: []nsxclient.Tag{{Scope: "ncp/cluster", Tag: cfg.ClusterName}}}}
}

func (p policyPorts) prepare(ctx context.Context) error {
	seg := Segment(Config{ClusterName: p.cluster, LogicalSwitchID: p.segment})
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
		out = append(out, fromSegmentPort(p.segment, sp))
	}
	return out, nil
}

func (p policyPorts) create(ctx context.Context, lp nsxclient.LogicalPort) (*nsxclient.LogicalPort, error) {
	lp.ID = PolicyPortID(lp.Attachment.ID)
	return p.update(ctx, lp)
}

func (p policyPorts) update(ctx context.Context, lp nsxclient.LogicalPort) (*nsxclient.LogicalPort, error) {
	if err := p.nsx.PatchSegmentPort(ctx, p.segment, toSegmentPort(lp)); err != nil {
		return nil, err
	}
	return p.get(ctx, lp.ID)
}

func (p policyPorts) get(ctx context.Context, id string) (*nsxclient.LogicalPort, error) {
	sp, err := p.nsx.GetSegmentPort(ctx, p.segment, id)
	if err != nil {
		return nil, err
	}
	lp := fromSegmentPort(p.segment, *sp)
	return &lp, nil
}

func (p policyPorts) remove(ctx context.Context, id string) error {
	if err := p.nsx.DeleteSegmentPort(ctx, p.segment, id); err != nil && !nsxclient.IsNotFound(err) {
		return err
	}
	return nil
}

// PolicyPortID is the segment port id of a pod: its UID, with the characters a Policy id cannot
// hold replaced.
func PolicyPortID(uid string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune("/?#%| ", r) || r < ' ' {
			return '_'
		}
		return r
	}, uid)
}

// SegmentPortForPod is PortForPod in Policy mode: the segment port NCP would create for a pod
// with these addresses, on Segment(cfg). Offline tools lay out the same dataplane with it.
func SegmentPortForPod(cfg Config, pod *corev1.Pod, addrs []netip.Addr) nsxclient.SegmentPort {
	lp := PortForPod(cfg, pod, addrs)
	lp.ID = PolicyPortID(string(pod.UID))
	return toSegmentPort(lp)
}

// toSegmentPort is a port of the book in the Policy API's shape.
func toSegmentPort(lp nsxclient.LogicalPort) nsxclient.SegmentPort {
	sp := nsxclient.SegmentPort{AdminState: lp.AdminState}
	sp.ID, sp.DisplayName, sp.Tags = lp.ID, lp.DisplayName, lp.Tags
	if a := lp.Attachment; a != nil {
		sp.Attachment = &nsxclient.PortAttachment{ID: a.ID}
		if c := a.Context; c != nil {
			sp.Attachment.Type, sp.Attachment.ContextID, sp.Attachment.AppID, sp.Attachment.TrafficTag = c.VifType, c.ParentVifID, c.AppID, c.TrafficTag
		}
	}
	for _, b := range lp.AddressBindings {
		sp.AddressBindings = append(sp.AddressBindings, nsxclient.PortAddressBindingEntry{IPAddress: b.IPAddress, MACAddress: b.MACAddress, VLANID: b.VLAN})
	}
	return sp
}

// fromSegmentPort is a segment port in the book's shape.
func fromSegmentPort(segment string, sp nsxclient.SegmentPort) nsxclient.LogicalPort {
	lp := nsxclient.LogicalPort{LogicalSwitchID: segment, AdminState: sp.AdminState}
	lp.ID, lp.DisplayName, lp.Tags, lp.CreateTime = sp.ID, sp.DisplayName, sp.Tags, sp.CreateTime
	if sp.Revision != nil {
		lp.Revision = *sp.Revision
	}
	if a := sp.Attachment; a != nil {
		lp.Attachment = &nsxclient.LogicalPortAttachment{AttachmentType: "VIF", ID: a.ID,
			Context: &nsxclient.VifAttachmentContext{ResourceType: "VifAttachmentContext", VifType: a.Type, ParentVifID: a.ContextID,
				AppID: a.AppID, TrafficTag: a.TrafficTag}}
	}
	for _, b := range sp.AddressBindings {
		lp.AddressBindings = append(lp.AddressBindings, nsxclient.PacketAddressClassifier{IPAddress: b.IPAddress, MACAddress: b.MACAddress, VLAN: b.VLANID})
	}
	return lp
}
