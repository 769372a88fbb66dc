package ncpemu

import (
	"context"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// reconcilePod plays scheduler, NCP and kubelet for one pod, in the order a real cluster does:
// bind it, give it addresses and a logical port, report it running; and when it is deleted,
// delete the port, let it go and, as a kubelet whose containers have stopped, finish the deletion.
//
// A 409 from the API server means the cached pod is stale; the newer version is already on its
// way through the watch and will be reconciled, so it is not an error.
func (e *Emulator) reconcilePod(ctx context.Context, key types.NamespacedName) error {
	pod := &corev1.Pod{}
	getErr := e.client.Get(ctx, key, pod)
	gone := apierrors.IsNotFound(getErr)
	if getErr != nil && !gone {
		return getErr
	}
	// Scheduling needs neither NSX nor the address table, so it goes on while NSX is down.
	if !gone && pod.Spec.NodeName == "" {
		if pod.DeletionTimestamp != nil {
			return nil // the API server deletes unscheduled pods at once
		}
		return ignoreConflict(e.bind(ctx, pod))
	}
	if err := e.initialize(ctx); err != nil {
		return err
	}
	if gone {
		// Gone: free its addresses, and delete its port if it went without our finalizer.
		e.ipam.release(key)
		return e.deletePortsOf(ctx, key, "")
	}
	// The ports of an earlier pod of the same name, deleted and recreated between two reconciles.
	if err := e.deletePortsOf(ctx, key, pod.UID); err != nil {
		return err
	}
	switch {
	case pod.Spec.NodeName != e.cfg.NodeName:
		return nil // another node's pod
	case pod.DeletionTimestamp != nil:
		return ignoreConflict(e.terminate(ctx, pod))
	case pod.Spec.HostNetwork:
		// Host-network pods share the node's addresses and get no port of their own from NCP.
		return ignoreConflict(e.reportRunning(ctx, pod, e.nodeIPs()))
	}
	if !controllerutil.ContainsFinalizer(pod, Finalizer) {
		orig := pod.DeepCopy()
		controllerutil.AddFinalizer(pod, Finalizer)
		// The lock keeps finalizers others add meanwhile (a merge patch replaces the whole list).
		if err := e.client.Patch(ctx, pod, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
			return ignoreConflict(ignoreNotFound(err))
		}
	}
	if err := e.ipam.reserve(key, pod.UID, statusAddrs(pod)); err != nil {
		return err
	}
	addrs, err := e.ipam.addressesFor(key, pod.UID)
	if err != nil {
		return err
	}
	// Port first, then status: with NCP a pod's network, and so its firewall, is in place before
	// the pod reports an address and starts taking traffic.
	if err := e.ensurePort(ctx, pod, addrs); err != nil {
		return err
	}
	return ignoreConflict(e.reportRunning(ctx, pod, addrs))
}

// bind assigns the pod to the virtual node through pods/binding, as a scheduler does. The UID
// makes the API server refuse the binding if the name now belongs to another pod.
func (e *Emulator) bind(ctx context.Context, pod *corev1.Pod) error {
	b := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: e.cfg.NodeName},
	}
	if err := e.client.SubResource("binding").Create(ctx, pod, b); err != nil {
		return ignoreNotFound(fmt.Errorf("binding pod %s/%s to %s: %w", pod.Namespace, pod.Name, e.cfg.NodeName, err))
	}
	log.FromContext(ctx).V(1).Info("Bound pod", "node", e.cfg.NodeName)
	return nil
}

// terminate deletes the port of a pod being deleted, removes the finalizer and, since there are
// no containers to stop, completes the deletion as the kubelet would (grace period 0). Without
// that last step a gracefully deleted pod would stay Terminating forever with no kubelet.
func (e *Emulator) terminate(ctx context.Context, pod *corev1.Pod) error {
	if err := e.deletePortsOf(ctx, client.ObjectKeyFromObject(pod), ""); err != nil {
		return err
	}
	if controllerutil.ContainsFinalizer(pod, Finalizer) {
		orig := pod.DeepCopy()
		controllerutil.RemoveFinalizer(pod, Finalizer)
		if err := e.client.Patch(ctx, pod, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
			return ignoreNotFound(err)
		}
	}
	err := e.client.Delete(ctx, pod, client.GracePeriodSeconds(0), client.Preconditions{UID: &pod.UID})
	return ignoreNotFound(err)
}

// reportRunning writes the status a kubelet reports for a running, ready pod, if it differs.
func (e *Emulator) reportRunning(ctx context.Context, pod *corev1.Pod, addrs []netip.Addr) error {
	want := runningStatus(pod, addrs, e.nodeIPs(), metav1.Now().Rfc3339Copy())
	if equality.Semantic.DeepEqual(pod.Status, want) {
		return nil
	}
	orig := pod.DeepCopy()
	pod.Status = want
	if err := e.client.Status().Patch(ctx, pod, client.MergeFrom(orig)); err != nil {
		return ignoreNotFound(fmt.Errorf("reporting pod %s/%s running: %w", pod.Namespace, pod.Name, err))
	}
	log.FromContext(ctx).V(1).Info("Pod running", "addresses", pod.Status.PodIPs)
	return nil
}

func ignoreConflict(err error) error {
	if apierrors.IsConflict(err) {
		return nil
	}
	return err
}

func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
