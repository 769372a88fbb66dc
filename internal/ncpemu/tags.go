package ncpemu

import (
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/microseg/microseg/internal/ncptags"
	"github.com/microseg/microseg/nsxclient"
)

// maxDisplayName is NSX's limit on a display name.
const maxDisplayName = 255

// ncpTags are the tags NCP puts on a pod's port (ncptags.PortTags): its own three, then one per pod
// label with scope = label key and tag = label value, in key order so that the same pod always
// yields the same list (and an unchanged pod never causes a port update). Like NCP, it copies
// every label, reserved-looking keys (ncp/project, …) included, truncates long keys and values,
// and stops at NSX's 30 tags per object.
func ncpTags(cluster string, pod *corev1.Pod) []nsxclient.Tag {
	tags := ncptags.PortTags(cluster, ncptags.Pod{Namespace: pod.Namespace, Name: pod.Name, Labels: pod.Labels})
	out := make([]nsxclient.Tag, len(tags))
	for i, t := range tags {
		out[i] = nsxclient.Tag{Scope: t.Scope, Tag: t.Tag}
	}
	return out
}

// desiredPort is the logical port NCP would have for pod with addrs: a CHILD VIF behind the
// node's VIF, attached by the pod's UID (so a port is found again after a restart, and the port
// of an earlier pod with the same name is told apart), administratively UP, bound to the pod's
// addresses.
func (e *Emulator) desiredPort(pod *corev1.Pod, addrs []netip.Addr) nsxclient.LogicalPort {
	return podPort(e.cfg, pod, addrs)
}

// PortForPod is the logical port NCP would create for a pod with these addresses, under cfg (defaults
// applied). Offline tools (kubectl-microseg simulate) use it to lay out the same dataplane that
// the emulator keeps live.
func PortForPod(cfg Config, pod *corev1.Pod, addrs []netip.Addr) nsxclient.LogicalPort {
	return podPort(cfg.withDefaults(), pod, addrs)
}

func podPort(cfg Config, pod *corev1.Pod, addrs []netip.Addr) nsxclient.LogicalPort {
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
	p.Tags = ncpTags(cfg.ClusterName, pod)
	for _, ip := range addrs {
		p.AddressBindings = append(p.AddressBindings, nsxclient.PacketAddressClassifier{IPAddress: ip.String()})
	}
	return p
}

// portUpToDate reports whether an existing port already matches the desired one in everything the
// emulator owns (NSX adds ids, revisions and timestamps of its own).
func portUpToDate(have, want nsxclient.LogicalPort) bool {
	return have.DisplayName == want.DisplayName &&
		have.LogicalSwitchID == want.LogicalSwitchID &&
		have.AdminState == want.AdminState &&
		slices.Equal(have.Tags, want.Tags) &&
		slices.Equal(have.AddressBindings, want.AddressBindings) &&
		sameAttachment(have.Attachment, want.Attachment)
}

func sameAttachment(a, b *nsxclient.LogicalPortAttachment) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.AttachmentType != b.AttachmentType || a.ID != b.ID {
		return false
	}
	if a.Context == nil || b.Context == nil {
		return a.Context == b.Context
	}
	return *a.Context == *b.Context
}

// identity is who NCP's own tags say a port belongs to; labels that forge an identity tag are
// ignored (ncptags.IdentityOf).
func identity(p nsxclient.LogicalPort) ncptags.Identity {
	tags := make([]ncptags.Tag, len(p.Tags))
	for i, t := range p.Tags {
		tags[i] = ncptags.Tag{Scope: t.Scope, Tag: t.Tag}
	}
	return ncptags.IdentityOf(tags)
}

// portOwner reads which pod a port of this cluster belongs to.
func portOwner(p nsxclient.LogicalPort) (namespace, name string) {
	id := identity(p)
	return id.Namespace, id.Pod
}
