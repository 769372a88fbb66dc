package ncpemu

import (
	"context"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// ensureNode creates the virtual node, or repairs its addresses and Ready condition when someone
// changed them. It sends no heartbeats: no node lifecycle controller runs next to the emulator to
// mark a silent node NotReady.
func (e *Emulator) ensureNode(ctx context.Context) error {
	node := &corev1.Node{}
	err := e.client.Get(ctx, types.NamespacedName{Name: e.cfg.NodeName}, node)
	if apierrors.IsNotFound(err) {
		node = e.newNode()
		// Nodes, unlike most objects, take their status on create.
		if err := e.client.Create(ctx, node); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating the virtual node %s: %w", e.cfg.NodeName, err)
		}
		log.FromContext(ctx).Info("Created the virtual node", "node", e.cfg.NodeName)
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the virtual node %s: %w", e.cfg.NodeName, err)
	}
	want := e.nodeStatus(node.Status)
	if equality.Semantic.DeepEqual(node.Status, want) {
		return nil
	}
	orig := node.DeepCopy()
	node.Status = want
	if err := e.client.Status().Patch(ctx, node, client.MergeFrom(orig)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("repairing the status of the virtual node %s: %w", e.cfg.NodeName, err)
	}
	return nil
}

func (e *Emulator) newNode() *corev1.Node {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: e.cfg.NodeName,
			Labels: map[string]string{
				corev1.LabelHostname:   e.cfg.NodeName,
				corev1.LabelOSStable:   "linux",
				corev1.LabelArchStable: "amd64",
				"microseg.io/virtual":  "true",
			},
		},
	}
	for _, pool := range e.pools() {
		n.Spec.PodCIDRs = append(n.Spec.PodCIDRs, pool.String())
	}
	n.Spec.PodCIDR = n.Spec.PodCIDRs[0]
	n.Status = e.nodeStatus(corev1.NodeStatus{})
	return n
}

// nodeStatus is old with the emulator's addresses, capacity and conditions; condition timestamps
// already there are kept so that an unchanged node is not rewritten.
func (e *Emulator) nodeStatus(old corev1.NodeStatus) corev1.NodeStatus {
	now := metav1.Now().Rfc3339Copy()
	st := *old.DeepCopy()
	st.Phase = ""
	st.Addresses = []corev1.NodeAddress{
		{Type: corev1.NodeInternalIP, Address: e.cfg.NodeIPv4.String()},
		{Type: corev1.NodeInternalIP, Address: e.cfg.NodeIPv6.String()},
		{Type: corev1.NodeHostName, Address: e.cfg.NodeName},
	}
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("64"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("10000"),
	}
	if !equality.Semantic.DeepEqual(st.Capacity, capacity) {
		st.Capacity, st.Allocatable = capacity, capacity.DeepCopy()
	}
	st.NodeInfo.OperatingSystem, st.NodeInfo.Architecture = "linux", "amd64"
	st.NodeInfo.KubeletVersion = "v0.0.0-ncpemu" // a valid semver, for tools that parse it
	st.NodeInfo.ContainerRuntimeVersion = "ncpemu://1"
	setNodeCondition(&st, corev1.NodeMemoryPressure, corev1.ConditionFalse, now)
	setNodeCondition(&st, corev1.NodeDiskPressure, corev1.ConditionFalse, now)
	setNodeCondition(&st, corev1.NodePIDPressure, corev1.ConditionFalse, now)
	setNodeCondition(&st, corev1.NodeNetworkUnavailable, corev1.ConditionFalse, now)
	setNodeCondition(&st, corev1.NodeReady, corev1.ConditionTrue, now)
	return st
}

func setNodeCondition(st *corev1.NodeStatus, t corev1.NodeConditionType, status corev1.ConditionStatus, now metav1.Time) {
	c := corev1.NodeCondition{Type: t, Status: status, Reason: "NCPEmulator", Message: "virtual node of the NCP emulator", LastHeartbeatTime: now, LastTransitionTime: now}
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			if st.Conditions[i].Status != status || st.Conditions[i].Reason != c.Reason {
				st.Conditions[i] = c
			}
			return
		}
	}
	st.Conditions = append(st.Conditions, c)
}

// nodeIPs are the node's addresses, IPv4 first: the pods' hostIPs.
func (e *Emulator) nodeIPs() []netip.Addr { return []netip.Addr{e.cfg.NodeIPv4, e.cfg.NodeIPv6} }

func (e *Emulator) pools() []netip.Prefix {
	if e.cfg.IPv6Pool.IsValid() {
		return []netip.Prefix{e.cfg.IPv4Pool, e.cfg.IPv6Pool}
	}
	return []netip.Prefix{e.cfg.IPv4Pool}
}
