package ncpemu_test

import (
	"context"
	"net/netip"
	"os"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/microseg/microseg/internal/ncpemu"
	"github.com/microseg/microseg/internal/ncpemu/layout"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/simnsx"
	"github.com/microseg/microseg/internal/testenv"
	"github.com/microseg/microseg/nsxclient"
)

const (
	clusterName = "test-cluster"
	switchID    = "ls-pods"
	syncTimeout = 30 * time.Second
)

// harness is a control plane (kube-apiserver, and kube-controller-manager running Deployments,
// ReplicaSets and the garbage collector), an NSX simulator and an emulator that can be restarted.
type harness struct {
	t   *testing.T
	g   gomega.Gomega
	k8s client.Client
	env *testenv.Env
	sim *nsxsim.Server
	nsx *nsxclient.Client
	cfg ncpemu.Config

	emu     *ncpemu.Emulator
	stopEmu func()
}

func newHarness(t *testing.T) *harness { return newHarnessFor(t, ncpemu.APIManager) }

// newHarnessFor starts the harness with an emulator of NCP in the given API mode.
func newHarnessFor(t *testing.T, api string) *harness {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Skip("KUBEBUILDER_ASSETS is not set: run `make test`, or export KUBEBUILDER_ASSETS=$(hack/controlplane.sh), to run the NCP emulator against a real kube-apiserver")
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true)))
	h := &harness{t: t, g: gomega.NewWithT(t)}

	ctx := context.Background()
	env, err := testenv.Start(ctx, testenv.Options{ControllerManagerControllers: []string{"deployment", "replicaset", "garbagecollector"}})
	h.g.Expect(err).NotTo(gomega.HaveOccurred())
	h.env = env
	t.Cleanup(func() { _ = env.Stop() })

	scheme := runtime.NewScheme()
	h.g.Expect(clientgoscheme.AddToScheme(scheme)).To(gomega.Succeed())
	h.k8s, err = client.New(env.Config, client.Options{Scheme: scheme})
	h.g.Expect(err).NotTo(gomega.HaveOccurred())

	nsx := simnsx.StartT(t, simnsx.Options{Transport: simnsx.HTTP, Sim: nsxsim.Options{Seed: 7}, Client: func(c *nsxclient.Config) {
		// No client retries: an NSX failure must reach the emulator, whose requeue is under test.
		c.MaxRetries, c.Timeout = -1, 5*time.Second
	}})
	h.sim, h.nsx = nsx.Sim, nsx.Client

	h.cfg = ncpemu.Config{API: api, ClusterName: clusterName, LogicalSwitchID: switchID, IPv6Pool: layout.DefaultIPv6Pool}
	h.startEmulator()
	t.Cleanup(func() {
		if h.stopEmu != nil {
			h.stopEmu()
		}
	})
	return h
}

// startEmulator runs a fresh emulator (empty memory, as after a process restart).
func (h *harness) startEmulator() {
	emu, err := ncpemu.New(h.cfg, h.nsx)
	h.g.Expect(err).NotTo(gomega.HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- emu.Run(ctx, h.env.Config) }()
	h.emu = emu
	h.stopEmu = func() {
		cancel()
		h.g.Expect(<-done).To(gomega.Succeed())
		h.stopEmu = nil
	}
}

func (h *harness) waitForSync() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), syncTimeout)
	defer cancel()
	h.g.Expect(h.emu.WaitForSync(ctx)).To(gomega.Succeed())
}

// pods are the pods of namespace ns, oldest first.
func (h *harness) pods(ns string) []corev1.Pod {
	h.t.Helper()
	list := &corev1.PodList{}
	h.g.Expect(h.k8s.List(context.Background(), list, client.InNamespace(ns))).To(gomega.Succeed())
	sort.Slice(list.Items, func(i, j int) bool {
		return list.Items[i].CreationTimestamp.Before(&list.Items[j].CreationTimestamp)
	})
	return list.Items
}

// ports are the ports NSX holds for the test cluster, by attachment id (pod UID). It fails on two
// ports for one pod.
func (h *harness) ports() map[string]nsxclient.LogicalPort {
	h.t.Helper()
	all, err := h.nsx.ListLogicalPorts(context.Background(), nsxclient.ListLogicalPortsOptions{})
	h.g.Expect(err).NotTo(gomega.HaveOccurred())
	out := map[string]nsxclient.LogicalPort{}
	for _, p := range all {
		if !slices.Contains(p.Tags, nsxclient.Tag{Scope: "ncp/cluster", Tag: clusterName}) {
			continue
		}
		h.g.Expect(p.Attachment).NotTo(gomega.BeNil(), "port %s has no attachment", p.ID)
		_, dup := out[p.Attachment.ID]
		h.g.Expect(dup).To(gomega.BeFalse(), "two ports for pod UID %s", p.Attachment.ID)
		out[p.Attachment.ID] = p
	}
	return out
}

// expectPodsRunningWithTheirPorts checks every pod of ns against what NCP, a scheduler and a
// kubelet would have done, and that NSX holds exactly one port per pod and no other. It returns
// the ports by pod name.
func (h *harness) expectPodsRunningWithTheirPorts(ns string, want int) map[string]nsxclient.LogicalPort {
	h.t.Helper()
	pods := h.pods(ns)
	h.g.Expect(pods).To(gomega.HaveLen(want))
	ports := h.ports()
	h.g.Expect(ports).To(gomega.HaveLen(want), "one port per pod, none for pods that are gone")
	seen := map[string]string{}
	byPod := map[string]nsxclient.LogicalPort{}
	for _, pod := range pods {
		h.expectRunning(pod)
		for _, ip := range pod.Status.PodIPs {
			h.g.Expect(seen).NotTo(gomega.HaveKey(ip.IP), "pods %s and %s share %s", seen[ip.IP], pod.Name, ip.IP)
			seen[ip.IP] = pod.Name
		}
		port, ok := ports[string(pod.UID)]
		h.g.Expect(ok).To(gomega.BeTrue(), "pod %s has no port", pod.Name)
		h.expectNCPPort(pod, port)
		byPod[pod.Name] = port
	}
	return byPod
}

func (h *harness) expectRunning(pod corev1.Pod) {
	h.t.Helper()
	g := h.g
	g.Expect(pod.Spec.NodeName).To(gomega.Equal(layout.DefaultNodeName), "pod %s is not bound", pod.Name)
	g.Expect(pod.Finalizers).To(gomega.ContainElement(ncpemu.Finalizer))
	g.Expect(pod.Status.Phase).To(gomega.Equal(corev1.PodRunning))
	g.Expect(pod.Status.HostIP).To(gomega.Equal(layout.DefaultNodeIPv4.String()))
	for _, c := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		g.Expect(pod.Status.Conditions).To(gomega.ContainElement(gomega.And(
			gomega.HaveField("Type", c), gomega.HaveField("Status", corev1.ConditionTrue))), "pod %s condition %s", pod.Name, c)
	}
	g.Expect(pod.Status.ContainerStatuses).To(gomega.HaveLen(len(pod.Spec.Containers)))
	for _, cs := range pod.Status.ContainerStatuses {
		g.Expect(cs.Ready).To(gomega.BeTrue())
		g.Expect(cs.State.Running).NotTo(gomega.BeNil())
	}
	// Dual stack: IPv4 first, then IPv6, from the pools.
	g.Expect(pod.Status.PodIPs).To(gomega.HaveLen(2))
	g.Expect(pod.Status.PodIP).To(gomega.Equal(pod.Status.PodIPs[0].IP))
	g.Expect(layout.DefaultIPv4Pool.Contains(netip.MustParseAddr(pod.Status.PodIPs[0].IP))).To(gomega.BeTrue())
	g.Expect(layout.DefaultIPv6Pool.Contains(netip.MustParseAddr(pod.Status.PodIPs[1].IP))).To(gomega.BeTrue())
}

// expectNCPPort checks port against NCP's conventions, written out here independently of the
// emulator's code: a CHILD VIF on the pod switch, UP, bound to the pod's IPs, tagged ncp/cluster,
// ncp/project, ncp/pod and then one tag per label (scope = key), in key order, and nothing else.
func (h *harness) expectNCPPort(pod corev1.Pod, port nsxclient.LogicalPort) {
	h.t.Helper()
	g := h.g
	wantTags := []nsxclient.Tag{
		{Scope: "ncp/cluster", Tag: clusterName},
		{Scope: "ncp/project", Tag: pod.Namespace},
		{Scope: "ncp/pod", Tag: pod.Name},
	}
	keys := make([]string, 0, len(pod.Labels))
	for k := range pod.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		wantTags = append(wantTags, nsxclient.Tag{Scope: k, Tag: pod.Labels[k]})
	}
	g.Expect(port.Tags).To(gomega.Equal(wantTags), "tags of the port of pod %s", pod.Name)
	var wantBindings []nsxclient.PacketAddressClassifier
	for _, ip := range pod.Status.PodIPs {
		wantBindings = append(wantBindings, nsxclient.PacketAddressClassifier{IPAddress: ip.IP})
	}
	g.Expect(port.AddressBindings).To(gomega.Equal(wantBindings), "address bindings of the port of pod %s", pod.Name)
	g.Expect(port.DisplayName).To(gomega.Equal(pod.Namespace + "-" + pod.Name))
	g.Expect(port.LogicalSwitchID).To(gomega.Equal(switchID))
	g.Expect(port.AdminState).To(gomega.Equal("UP"))
	g.Expect(port.Attachment.AttachmentType).To(gomega.Equal("VIF"))
	g.Expect(port.Attachment.Context).NotTo(gomega.BeNil())
	g.Expect(port.Attachment.Context.VifType).To(gomega.Equal("CHILD"))
	g.Expect(port.Attachment.Context.ParentVifID).To(gomega.Equal(layout.DefaultNodeName + "-vif"))
}
