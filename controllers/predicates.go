package controllers

import (
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
)

// Predicates let through only the updates that can change the compiled DFW; creations and
// deletions always pass. Pods change all the time for reasons policy does not care about
// (conditions, container restarts, finalizers, the NCP emulator's bookkeeping), and our own
// status writes on ClusterSecurityPolicies must not trigger another sync.

// policyChanged passes spec changes of NetworkPolicies and ClusterSecurityPolicies: the API server
// bumps metadata.generation on spec changes only, never on status or metadata writes.
func policyChanged() predicate.Predicate { return predicate.GenerationChangedPredicate{} }

// namespaceChanged passes label changes: namespace selectors are all the compiler reads.
func namespaceChanged() predicate.Predicate { return predicate.LabelChangedPredicate{} }

// podChanged passes updates of the pod fields the compiler reads.
func podChanged() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		old, okOld := e.ObjectOld.(*corev1.Pod)
		cur, okNew := e.ObjectNew.(*corev1.Pod)
		return !okOld || !okNew || podRelevantChange(old, cur)
	}}
}

// podRelevantChange reports whether an update changed what internal/compile reads of a pod (see
// its snapshot): labels, addresses, phase (finished pods take no part), host networking, and the
// named ports of its app containers (the targets of named ports). Keep it in step with the
// compiler.
func podRelevantChange(old, cur *corev1.Pod) bool {
	return !maps.Equal(old.Labels, cur.Labels) ||
		old.Status.PodIP != cur.Status.PodIP ||
		!slices.Equal(old.Status.PodIPs, cur.Status.PodIPs) ||
		old.Status.Phase != cur.Status.Phase ||
		old.Spec.HostNetwork != cur.Spec.HostNetwork ||
		!slices.Equal(namedPorts(old), namedPorts(cur))
}

type namedPort struct {
	name   string
	proto  corev1.Protocol
	number int32
}

func namedPorts(p *corev1.Pod) []namedPort {
	var out []namedPort
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name != "" {
				out = append(out, namedPort{cp.Name, cp.Protocol, cp.ContainerPort})
			}
		}
	}
	return out
}
