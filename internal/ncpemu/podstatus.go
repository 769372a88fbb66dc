package ncpemu

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// runningConditions are the conditions a kubelet sets True on a started, ready pod.
var runningConditions = []corev1.PodConditionType{
	corev1.PodScheduled,
	corev1.PodReadyToStartContainers,
	corev1.PodInitialized,
	corev1.ContainersReady,
	corev1.PodReady,
}

// runningStatus is the status a kubelet would report for pod once all its containers run: phase
// Running, the addresses, every condition True and every container started and ready, so that
// kubectl shows Running 1/1 and a Deployment becomes Available.
//
// Timestamps already in the status are kept, so that computing it again for an unchanged pod
// yields an identical status and no write (the write would trigger another reconcile).
func runningStatus(pod *corev1.Pod, podIPs, hostIPs []netip.Addr, now metav1.Time) corev1.PodStatus {
	st := *pod.Status.DeepCopy()
	st.Phase = corev1.PodRunning
	st.Reason, st.Message = "", ""
	st.HostIP, st.HostIPs = hostIPs[0].String(), nil
	for _, ip := range hostIPs {
		st.HostIPs = append(st.HostIPs, corev1.HostIP{IP: ip.String()})
	}
	st.PodIP, st.PodIPs = podIPs[0].String(), nil
	for _, ip := range podIPs {
		st.PodIPs = append(st.PodIPs, corev1.PodIP{IP: ip.String()})
	}
	if st.StartTime == nil {
		st.StartTime = &now
	}
	for _, t := range runningConditions {
		setConditionTrue(&st, t, now)
	}
	st.InitContainerStatuses = containerStatuses(pod, pod.Spec.InitContainers, pod.Status.InitContainerStatuses, true, now)
	st.ContainerStatuses = containerStatuses(pod, pod.Spec.Containers, pod.Status.ContainerStatuses, false, now)
	return st
}

func setConditionTrue(st *corev1.PodStatus, t corev1.PodConditionType, now metav1.Time) {
	for i := range st.Conditions {
		c := &st.Conditions[i]
		if c.Type != t {
			continue
		}
		if c.Status != corev1.ConditionTrue {
			*c = corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: now}
		}
		return
	}
	st.Conditions = append(st.Conditions, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: now})
}

// containerStatuses reports each container running and ready, except classic init containers,
// which have run to completion. Sidecars (init containers with restartPolicy Always) keep running.
func containerStatuses(pod *corev1.Pod, containers []corev1.Container, old []corev1.ContainerStatus, init bool, now metav1.Time) []corev1.ContainerStatus {
	if len(containers) == 0 {
		return nil
	}
	out := make([]corev1.ContainerStatus, 0, len(containers))
	for _, c := range containers {
		s := corev1.ContainerStatus{
			Name:        c.Name,
			Image:       c.Image,
			ImageID:     c.Image,
			ContainerID: "ncpemu://" + string(pod.UID) + "/" + c.Name,
		}
		startedAt := now
		for _, o := range old {
			if o.Name == c.Name && o.State.Running != nil {
				startedAt = o.State.Running.StartedAt
			}
			if o.Name == c.Name && o.State.Terminated != nil {
				startedAt = o.State.Terminated.StartedAt
			}
		}
		sidecar := c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
		if init && !sidecar {
			s.Started = ptr.To(false)
			s.State.Terminated = &corev1.ContainerStateTerminated{Reason: "Completed", StartedAt: startedAt, FinishedAt: startedAt, ContainerID: s.ContainerID}
			s.Ready = true
		} else {
			s.Started = ptr.To(true)
			s.State.Running = &corev1.ContainerStateRunning{StartedAt: startedAt}
			s.Ready = true
		}
		out = append(out, s)
	}
	return out
}
