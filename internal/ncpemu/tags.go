package ncpemu

import (
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/microseg/microseg/internal/ncpemu/layout"
	"github.com/microseg/microseg/internal/ncptags"
	"github.com/microseg/microseg/nsxclient"
)

// desiredPort is the logical port NCP would have for pod with addrs: a CHILD VIF behind the
// node's VIF, attached by the pod's UID (so a port is found again after a restart, and the port
// of an earlier pod with the same name is told apart), administratively UP, bound to the pod's
// addresses.
func (e *Emulator) desiredPort(pod *corev1.Pod, addrs []netip.Addr) nsxclient.LogicalPort {
	return layout.Port(e.cfg, pod, addrs)
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
