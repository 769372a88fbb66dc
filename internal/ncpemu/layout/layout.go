// Package layout is how NCP lays out a pod's port in NSX: the logical port (Manager mode) or
// segment port (Policy mode) with its attachment, addresses and tags. It is pure: the NCP emulator
// (internal/ncpemu) keeps such ports live, and offline tools (kubectl-microseg simulate) lay out
// the same dataplane without linking the emulator's controller.
package layout

import (
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/microseg/microseg/internal/ncptags"
	"github.com/microseg/microseg/nsxclient"
)

// The NSX API NCP runs in (Config.API).
// The NSX API NCP runs in (Config.API).
const (
	// APIManager: NCP's Manager mode, pods get logical ports (/api/v1/logical-ports).
	APIManager = "manager"
	// APIPolicy: NCP's Policy mode (policy_nsxapi = True), pods get segment ports
	// (/policy/api/v1/infra/segments/{segment}/ports/{port}) on a segment NCP tags with
	// ncp/cluster.
	APIPolicy = "policy"
)

// maxDisplayName is NSX's limit on a display name.
const maxDisplayName = 255

// Tags are the tags NCP puts on a pod's port (ncptags.PortTags): its own three, then one per pod
// label with scope = label key and tag = label value, in key order so that the same pod always
// yields the same list (and an unchanged pod never causes a port update). Like NCP, it copies
// every label, reserved-looking keys (ncp/project, …) included, truncates long keys and values,
// and stops at NSX's 30 tags per object.
func Tags(cluster string, pod *corev1.Pod) []nsxclient.Tag {
	tags := ncptags.PortTags(cluster, ncptags.Pod{Namespace: pod.Namespace, Name: pod.Name, Labels: pod.Labels})
	out := make([]nsxclient.Tag, len(tags))
	for i, t := range tags {
		out[i] = nsxclient.Tag{Scope: t.Scope, Tag: t.Tag}
	}
	return out
}

// PortForPod is the logical port NCP would create for a pod with these addresses, under cfg (defaults
// applied). Offline tools (kubectl-microseg simulate) use it to lay out the same dataplane that
// the emulator keeps live.
func PortForPod(cfg Config, pod *corev1.Pod, addrs []netip.Addr) nsxclient.LogicalPort {
	return Port(cfg.WithDefaults(), pod, addrs)
}

// Port is PortForPod for a configuration whose defaults are applied.
func Port(cfg Config, pod *corev1.Pod, addrs []netip.Addr) nsxclient.LogicalPort {
	p := nsxclient.LogicalPort{
		LogicalSwitchID: cfg.LogicalSwitchID,
		AdminState:      "UP",
		Attachment: &nsxclient.LogicalPortAttachment{
			AttachmentType: "VIF",
			ID:             string(pod.UID),
			Context: &nsxclient.VifAttachmentContext{
				ResourceType: "VifAttachmentContext",
				VifType:      "CHILD",
				ParentVifID:  cfg.ParentVIFID,
				AppID:        pod.Namespace + "/" + pod.Name,
			},
		},
	}
	p.DisplayName = pod.Namespace + "-" + pod.Name
	if len(p.DisplayName) > maxDisplayName {
		p.DisplayName = p.DisplayName[:maxDisplayName]
	}
	p.Tags = Tags(cfg.ClusterName, pod)
	for _, ip := range addrs {
		p.AddressBindings = append(p.AddressBindings, nsxclient.PacketAddressClassifier{IPAddress: ip.String()})
	}
	return p
}

// Segment is the segment NCP (and the emulator) hang a cluster's pod ports off in Policy mode.
func Segment(cfg Config) nsxclient.Segment {
	cfg = cfg.WithDefaults()
	return nsxclient.Segment{PolicyResource: nsxclient.PolicyResource{ID: cfg.LogicalSwitchID, DisplayName: cfg.LogicalSwitchID,
		Tags: []nsxclient.Tag{{Scope: "ncp/cluster", Tag: cfg.ClusterName}}}}
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
	return ToSegmentPort(lp)
}

// ToSegmentPort is a logical port in the Policy API's shape (a segment port).
func ToSegmentPort(lp nsxclient.LogicalPort) nsxclient.SegmentPort {
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

// FromSegmentPort is a segment port in the Manager API's shape (a logical port).
func FromSegmentPort(segment string, sp nsxclient.SegmentPort) nsxclient.LogicalPort {
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
