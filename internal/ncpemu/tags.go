package ncpemu

import (
	"net/netip"
	"slices"
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/microseg/microseg/nsxclient"
)

// NCP's tag scopes on a pod's logical port (facts doc, section 7.3).
const (
	TagScopeCluster = "ncp/cluster"
	TagScopeProject = "ncp/project" // the pod's namespace
	TagScopePod     = "ncp/pod"     // the pod's name
)

// NSX limits on tags (facts doc, section 1.2).
const (
	maxTags        = 30
	maxTagScope    = 128
	maxTagValue    = 256
	maxDisplayName = 255
)

// ncpTags are the tags NCP puts on a pod's port: its own three, then one per pod label with
// scope = label key and tag = label value, in key order so that the same pod always yields the
// same list (and an unchanged pod never causes a port update).
//
// Like NCP, the emulator truncates a key longer than 128 characters or a value longer than 256
// when copying it (NCP docs, "Limits on Tags and Labels"): two long keys sharing a prefix then
// collapse onto one scope, which is exactly the misapplied-rule hazard NCP warns about. Labels
// beyond NSX's 30 tags per object are dropped, the highest keys first; NCP documents the limit
// ("a pod can have no more than 25 labels") but not its behaviour past it. Kubernetes label keys
// and values are ASCII, so truncating bytes never splits a character.
func ncpTags(cluster string, pod *corev1.Pod) []nsxclient.Tag {
	tags := []nsxclient.Tag{
		tag(TagScopeCluster, cluster),
		tag(TagScopeProject, pod.Namespace),
		tag(TagScopePod, pod.Name),
	}
	keys := make([]string, 0, len(pod.Labels))
	for k := range pod.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if len(tags) == maxTags {
			break
		}
		tags = append(tags, tag(k, pod.Labels[k]))
	}
	return tags
}

func tag(scope, value string) nsxclient.Tag {
	return nsxclient.Tag{Scope: truncate(scope, maxTagScope), Tag: truncate(value, maxTagValue)}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
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
	p.DisplayName = truncate(pod.Namespace+"-"+pod.Name, maxDisplayName)
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

// portOwner reads which pod a port of this cluster belongs to from its NCP tags.
func portOwner(p nsxclient.LogicalPort) (namespace, name string) {
	for _, t := range p.Tags {
		switch t.Scope {
		case TagScopeProject:
			namespace = t.Tag
		case TagScopePod:
			name = t.Tag
		}
	}
	return namespace, name
}

// hasTag reports whether p carries scope=value.
func hasTag(p nsxclient.LogicalPort, scope, value string) bool {
	return slices.Contains(p.Tags, nsxclient.Tag{Scope: scope, Tag: value})
}
