package ncpemu_test

import (
	"context"
	"testing"

	"github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/microseg/microseg/internal/ncpemu"
	"github.com/microseg/microseg/nsxclient"
)

// TestEmulatorInPolicyMode: NCP in Policy mode gives each pod a segment port on the cluster's
// segment (tagged ncp/cluster), with the same tags as a Manager-mode logical port; NSX shows it
// in the Manager API too, as a logical port NCP's Manager mode would never have made (owned by
// the Policy side). Relabels update the port in place; deleted pods lose theirs; a restart
// removes the port of a pod gone behind the emulator's back.
func TestEmulatorInPolicyMode(t *testing.T) {
	h := newHarnessFor(t, ncpemu.APIPolicy)
	g := h.g
	ctx := context.Background()
	g.Expect(h.k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(gomega.Succeed())
	deploy := webDeployment(2)
	g.Expect(h.k8s.Create(ctx, deploy)).To(gomega.Succeed())
	g.Eventually(func() []corev1.Pod { return h.pods(ns) }, syncTimeout).Should(gomega.HaveLen(2))
	h.waitForSync()

	seg, err := h.nsx.Policy().GetSegment(ctx, switchID)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(seg.Tags).To(gomega.ContainElement(nsxclient.Tag{Scope: "ncp/cluster", Tag: clusterName}))
	h.expectSegmentPorts(2)
	g.Expect(h.ports()).To(gomega.HaveLen(2), "the Manager API shows the segment ports as logical ports")
	for _, lp := range h.ports() {
		g.Expect(lp.CreateUser).To(gomega.Equal("nsx_policy"), "realized by the Policy side")
	}

	pod := h.pods(ns)[0]
	patch := client.MergeFrom(pod.DeepCopy())
	pod.Labels["tier"] = "backend"
	g.Expect(h.k8s.Patch(ctx, &pod, patch)).To(gomega.Succeed())
	h.waitForSync()
	ports := h.expectSegmentPorts(2)
	g.Expect(ports[string(pod.UID)].Tags).To(gomega.ContainElement(nsxclient.Tag{Scope: "tier", Tag: "backend"}))

	h.stopEmu()
	victim := h.pods(ns)[1]
	g.Expect(h.k8s.Patch(ctx, &victim, client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"finalizers":null}}`)))).To(gomega.Succeed())
	g.Expect(h.k8s.Delete(ctx, &victim, client.GracePeriodSeconds(0))).To(gomega.Succeed())
	h.startEmulator()
	g.Eventually(func() []corev1.Pod { return h.pods(ns) }, syncTimeout).Should(gomega.HaveLen(2))
	h.waitForSync()
	g.Expect(h.expectSegmentPorts(2)).NotTo(gomega.HaveKey(string(victim.UID)))

	g.Expect(h.k8s.Delete(ctx, deploy, client.PropagationPolicy(metav1.DeletePropagationBackground))).To(gomega.Succeed())
	g.Eventually(func() []corev1.Pod { return h.pods(ns) }, syncTimeout).Should(gomega.BeEmpty())
	h.waitForSync()
	h.expectSegmentPorts(0)
}

// expectSegmentPorts checks that the segment holds one port per pod of ns, id = the pod's UID,
// tagged and bound as NCP does, and returns them by pod UID.
func (h *harness) expectSegmentPorts(want int) map[string]nsxclient.SegmentPort {
	h.t.Helper()
	sps, err := h.nsx.Policy().ListSegmentPorts(context.Background(), switchID, nsxclient.PolicyListOptions{})
	h.g.Expect(err).NotTo(gomega.HaveOccurred())
	h.g.Expect(sps).To(gomega.HaveLen(want))
	out := map[string]nsxclient.SegmentPort{}
	pods := h.pods(ns)
	for _, pod := range pods {
		for _, sp := range sps {
			if sp.ID != string(pod.UID) {
				continue
			}
			out[sp.ID] = sp
			h.g.Expect(sp.Attachment).NotTo(gomega.BeNil())
			h.g.Expect(sp.Attachment.Type).To(gomega.Equal(nsxclient.AttachmentChild))
			h.g.Expect(sp.Attachment.ID).To(gomega.Equal(string(pod.UID)))
			h.g.Expect(sp.Tags[:3]).To(gomega.Equal([]nsxclient.Tag{{Scope: "ncp/cluster", Tag: clusterName},
				{Scope: "ncp/project", Tag: pod.Namespace}, {Scope: "ncp/pod", Tag: pod.Name}}))
			var ips []string
			for _, b := range sp.AddressBindings {
				ips = append(ips, b.IPAddress)
			}
			var podIPs []string
			for _, ip := range pod.Status.PodIPs {
				podIPs = append(podIPs, ip.IP)
			}
			h.g.Expect(ips).To(gomega.Equal(podIPs))
		}
	}
	h.g.Expect(out).To(gomega.HaveLen(want), "every port belongs to a pod of %s", ns)
	return out
}
