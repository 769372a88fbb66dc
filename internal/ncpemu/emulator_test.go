package ncpemu_test

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/microseg/microseg/internal/ncpemu/layout"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/nsxclient"
)

const (
	ns             = "shop"
	createPortCall = "POST /api/v1/logical-ports"
)

// TestEmulator walks one Deployment through its life — create, relabel, scale up through NSX
// failures, scale down, an emulator restart with NSX and Kubernetes changed behind its back,
// delete — and checks after each step that pods and ports are exactly what NCP would make.
func TestEmulator(t *testing.T) {
	h := newHarness(t)
	g := h.g
	ctx := context.Background()

	t.Log("the virtual node exists and is Ready")
	node := &corev1.Node{}
	g.Eventually(func() error { return h.k8s.Get(ctx, client.ObjectKey{Name: layout.DefaultNodeName}, node) }, syncTimeout).Should(gomega.Succeed())
	g.Expect(node.Status.Conditions).To(gomega.ContainElement(gomega.And(
		gomega.HaveField("Type", corev1.NodeReady), gomega.HaveField("Status", corev1.ConditionTrue))))
	g.Expect(node.Status.Addresses).To(gomega.ContainElements(
		corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: layout.DefaultNodeIPv4.String()},
		corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: layout.DefaultNodeIPv6.String()}))

	t.Log("a Deployment of 2 gets 2 Running, Ready pods with distinct IPs and 2 NCP ports")
	g.Expect(h.k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(gomega.Succeed())
	deploy := webDeployment(2)
	g.Expect(h.k8s.Create(ctx, deploy)).To(gomega.Succeed())
	g.Eventually(func() int32 {
		_ = h.k8s.Get(ctx, client.ObjectKeyFromObject(deploy), deploy)
		return deploy.Status.AvailableReplicas
	}, syncTimeout).Should(gomega.BeEquivalentTo(2), "the Deployment becomes Available")
	h.waitForSync()
	ports := h.expectPodsRunningWithTheirPorts(ns, 2)

	t.Log("relabelling a pod updates the tags of its port in place")
	pod := h.pods(ns)[0]
	before := ports[pod.Name]
	patch := client.MergeFrom(pod.DeepCopy())
	pod.Labels["tier"] = "backend"
	pod.Labels["canary"] = "true"
	g.Expect(h.k8s.Patch(ctx, &pod, patch)).To(gomega.Succeed())
	h.waitForSync()
	ports = h.expectPodsRunningWithTheirPorts(ns, 2)
	g.Expect(ports[pod.Name].ID).To(gomega.Equal(before.ID), "updated, not recreated")
	g.Expect(ports[pod.Name].Tags).To(gomega.ContainElements(
		nsxclient.Tag{Scope: "tier", Tag: "backend"}, nsxclient.Tag{Scope: "canary", Tag: "true"}))
	g.Expect(ports[pod.Name].Tags).NotTo(gomega.ContainElement(nsxclient.Tag{Scope: "tier", Tag: "frontend"}))

	t.Log("in sync, the emulator is idle: no NSX call, no pod write")
	h.sim.ResetStats()
	versions := func() []string {
		var rv []string
		for _, p := range h.pods(ns) {
			rv = append(rv, p.ResourceVersion)
		}
		return rv
	}
	idle := versions()
	g.Consistently(versions, time.Second, 100*time.Millisecond).Should(gomega.Equal(idle))
	g.Expect(h.sim.Stats().Calls).To(gomega.BeZero())

	t.Log("scaling to 3 adds a port, even when NSX fails the first attempts")
	h.sim.InjectFault(nsxsim.FaultRule{Kind: nsxsim.FaultUnavailable, Endpoint: createPortCall, Count: 3})
	h.scale(deploy, 3)
	h.waitForSync()
	h.expectPodsRunningWithTheirPorts(ns, 3)
	g.Expect(h.sim.Stats().Endpoints[createPortCall].Errors).To(gomega.BeEquivalentTo(3), "the injected failures were hit and retried")

	t.Log("scaling to 1 removes two ports and lets the pods go")
	h.scale(deploy, 1)
	h.waitForSync()
	h.expectPodsRunningWithTheirPorts(ns, 1)

	t.Log("a restart keeps addresses and ports, removes a duplicate and a stale port, and serves the pods it missed")
	h.scale(deploy, 2)
	h.waitForSync()
	ports = h.expectPodsRunningWithTheirPorts(ns, 2)
	h.stopEmu()
	// The victim holds the lower addresses, so they are free after the restart: an emulator that
	// ignored the addresses pods already have would move the survivor onto them.
	pods := h.pods(ns)
	slices.SortFunc(pods, func(a, b corev1.Pod) int {
		return netip.MustParseAddr(a.Status.PodIP).Compare(netip.MustParseAddr(b.Status.PodIP))
	})
	victim, survivor := pods[0], pods[1]
	// Behind the emulator's back: a pod goes without its finalizer (its port is now stale), its
	// ReplicaSet replaces it, and a second port appears for the survivor, as a create whose
	// response was lost would leave.
	g.Expect(h.k8s.Patch(ctx, &victim, client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"finalizers":null}}`)))).To(gomega.Succeed())
	g.Expect(h.k8s.Delete(ctx, &victim, client.GracePeriodSeconds(0))).To(gomega.Succeed())
	g.Eventually(func() []corev1.Pod { return h.pods(ns) }, syncTimeout).Should(gomega.HaveLen(2), "the ReplicaSet replaces the pod")
	dup := ports[survivor.Name]
	dup.ID, dup.Revision = "", 0
	time.Sleep(5 * time.Millisecond) // a later _create_time than the original's
	_, err := h.nsx.CreateLogicalPort(ctx, dup)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	h.sim.ResetStats()
	h.startEmulator()
	h.waitForSync()
	after := h.expectPodsRunningWithTheirPorts(ns, 2)
	g.Expect(after[survivor.Name].ID).To(gomega.Equal(ports[survivor.Name].ID), "the original port is kept")
	g.Expect(after).NotTo(gomega.HaveKey(victim.Name))
	for _, p := range h.pods(ns) {
		if p.Name == survivor.Name {
			g.Expect(p.Status.PodIPs).To(gomega.Equal(survivor.Status.PodIPs), "addresses survive the restart")
		}
	}
	g.Expect(h.sim.Stats().Endpoints[createPortCall].Calls).To(gomega.BeEquivalentTo(1), "one port created: the replacement pod's")

	t.Log("a host-network pod runs on the node's addresses and gets no port")
	g.Expect(h.k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "infra"}})).To(gomega.Succeed())
	agent := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "agent"},
		Spec:       corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{Name: "agent", Image: "busybox"}}},
	}
	g.Expect(h.k8s.Create(ctx, agent)).To(gomega.Succeed())
	h.waitForSync()
	g.Expect(h.k8s.Get(ctx, client.ObjectKeyFromObject(agent), agent)).To(gomega.Succeed())
	g.Expect(agent.Status.Phase).To(gomega.Equal(corev1.PodRunning))
	g.Expect(agent.Status.PodIPs).To(gomega.Equal([]corev1.PodIP{{IP: layout.DefaultNodeIPv4.String()}, {IP: layout.DefaultNodeIPv6.String()}}))
	g.Expect(h.ports()).NotTo(gomega.HaveKey(string(agent.UID)))
	g.Expect(h.k8s.Delete(ctx, agent)).To(gomega.Succeed())
	g.Eventually(func() []corev1.Pod { return h.pods("infra") }, syncTimeout).Should(gomega.BeEmpty(), "a deleted pod does not hang in Terminating")

	t.Log("deleting the Deployment removes every port")
	g.Expect(h.k8s.Delete(ctx, deploy, client.PropagationPolicy(metav1.DeletePropagationBackground))).To(gomega.Succeed())
	g.Eventually(func() []corev1.Pod { return h.pods(ns) }, syncTimeout).Should(gomega.BeEmpty())
	h.waitForSync()
	g.Expect(h.ports()).To(gomega.BeEmpty())
	g.Expect(h.emu.Ports()).To(gomega.BeEmpty())
}

func (h *harness) scale(d *appsv1.Deployment, replicas int32) {
	h.t.Helper()
	ctx := context.Background()
	h.g.Expect(h.k8s.Get(ctx, client.ObjectKeyFromObject(d), d)).To(gomega.Succeed())
	patch := client.MergeFrom(d.DeepCopy())
	d.Spec.Replicas = ptr.To(replicas)
	h.g.Expect(h.k8s.Patch(ctx, d, patch)).To(gomega.Succeed())
	h.g.Eventually(func() []corev1.Pod { return h.pods(ns) }, syncTimeout).Should(gomega.HaveLen(int(replicas)))
}

func webDeployment(replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": "web", "tier": "frontend"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx:1.27"}}},
			},
		},
	}
}
