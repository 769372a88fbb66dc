package operator

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The operator caches every pod and namespace of the cluster, and reads a small part of each: a
// pod's spec, status, annotations and managed fields are most of its size, and a cluster has tens
// of thousands of pods. The transforms below keep what the compiler (internal/compile's snapshot),
// the watch predicates (controllers/predicates.go) and the informers themselves read, and drop
// the rest before an object enters the cache. Keep them in step with the compiler: a field it
// starts to read must be kept here too (TestTrimmedObjectsCompileTheSame checks it on a world).

// cacheTransforms are the per-kind transforms of the operator's cache; every other kind only
// loses its managed fields (the cache's default transform).
func cacheTransforms() map[client.Object]crcache.ByObject {
	return map[client.Object]crcache.ByObject{
		&corev1.Pod{}:                 {Transform: trimPod},
		&corev1.Namespace{}:           {Transform: trimNamespace},
		&networkingv1.NetworkPolicy{}: {Transform: trimNetworkPolicy},
	}
}

// keptMeta is the metadata the operator reads of pods and namespaces: identity, the resource
// version the informers need, labels (selectors) and the deletion mark.
func keptMeta(m metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
		Generation: m.Generation, Labels: m.Labels, DeletionTimestamp: m.DeletionTimestamp}
}

// trimPod keeps a pod's labels, host networking, the named ports of its app containers (the
// targets of named ports), its phase and its addresses. Init and ephemeral containers are not
// app containers: a named port resolves on the containers of spec.containers only.
func trimPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil // a tombstone: the informer handles it
	}
	out := &corev1.Pod{
		TypeMeta:   p.TypeMeta,
		ObjectMeta: keptMeta(p.ObjectMeta),
		Spec:       corev1.PodSpec{HostNetwork: p.Spec.HostNetwork},
		Status:     corev1.PodStatus{Phase: p.Status.Phase, PodIP: p.Status.PodIP, PodIPs: p.Status.PodIPs},
	}
	for _, c := range p.Spec.Containers {
		kept := corev1.Container{Name: c.Name}
		for _, port := range c.Ports {
			if port.Name != "" {
				kept.Ports = append(kept.Ports, corev1.ContainerPort{Name: port.Name, ContainerPort: port.ContainerPort, Protocol: port.Protocol})
			}
		}
		out.Spec.Containers = append(out.Spec.Containers, kept)
	}
	return out, nil
}

// trimNamespace keeps a namespace's labels (namespace selectors are all the compiler reads).
func trimNamespace(obj any) (any, error) {
	ns, ok := obj.(*corev1.Namespace)
	if !ok {
		return obj, nil
	}
	return &corev1.Namespace{TypeMeta: ns.TypeMeta, ObjectMeta: keptMeta(ns.ObjectMeta)}, nil
}

// trimNetworkPolicy drops the managed fields and the annotations (kubectl's
// last-applied-configuration repeats the whole spec) of a NetworkPolicy; the spec, its generation
// and its identity (the events controller records Events on it) stay.
func trimNetworkPolicy(obj any) (any, error) {
	np, ok := obj.(*networkingv1.NetworkPolicy)
	if !ok {
		return obj, nil
	}
	np.ManagedFields, np.Annotations = nil, nil
	return np, nil
}
