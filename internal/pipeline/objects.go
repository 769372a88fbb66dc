package pipeline

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
)

// namespaceNameLabel is the label the API server sets on every namespace.
const namespaceNameLabel = "kubernetes.io/metadata.name"

// DefaultPodCIDR is where pods without status.podIPs get addresses (NCP-emulator style).
var DefaultPodCIDR = netip.MustParsePrefix("10.244.0.0/16")

// FromObjects builds a World from manifests the way the API server and the controllers would see
// them: defaults applied (namespace name label, NetworkPolicy policyTypes and TCP, CSP tier and
// TCP), Deployments, ReplicaSets and StatefulSets expanded into their replicas, namespaces that
// objects live in created when missing, and pods without addresses given one from
// DefaultPodCIDR in a stable order. Other kinds are skipped and reported in notes.
func FromObjects(objs []*unstructured.Unstructured) (World, []string, error) {
	return fromObjects(objs, nil)
}

// FromObjectsAfter is FromObjects for a later version of the same cluster (the head of a change
// whose base is before): a pod without addresses keeps the one it has in before, and a new one
// gets an address no pod of before has, so that comparing the two worlds sees only what changed.
func FromObjectsAfter(objs []*unstructured.Unstructured, before World) (World, []string, error) {
	return fromObjects(objs, before.Pods)
}

func fromObjects(objs []*unstructured.Unstructured, before []corev1.Pod) (World, []string, error) {
	var w World
	var notes []string
	namespaces := map[string]*corev1.Namespace{}
	seen := map[string]bool{}
	for _, o := range objs {
		id := o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName()
		if seen[id] {
			return w, nil, fmt.Errorf("%s appears twice", id)
		}
		seen[id] = true
		var err error
		switch o.GroupVersionKind().GroupKind().String() {
		case "Namespace":
			ns := &corev1.Namespace{}
			if err = convert(o, ns); err == nil {
				namespaces[ns.Name] = ns
			}
		case "Pod":
			p := corev1.Pod{}
			if err = convert(o, &p); err == nil {
				w.Pods = append(w.Pods, p)
			}
		case "Deployment.apps", "ReplicaSet.apps", "StatefulSet.apps":
			var pods []corev1.Pod
			pods, err = expandWorkload(o)
			w.Pods = append(w.Pods, pods...)
		case "NetworkPolicy.networking.k8s.io":
			np := networkingv1.NetworkPolicy{}
			if err = convert(o, &np); err == nil {
				defaultNetworkPolicy(&np)
				w.NetworkPolicies = append(w.NetworkPolicies, np)
			}
		case "ClusterSecurityPolicy.security.microseg.io":
			csp := securityv1alpha1.ClusterSecurityPolicy{}
			if err = convert(o, &csp); err == nil {
				defaultCSP(&csp)
				w.ClusterSecurityPolicies = append(w.ClusterSecurityPolicies, csp)
			}
		default:
			notes = append(notes, fmt.Sprintf("skipped %s %s: not a kind that affects network policy", o.GetKind(), o.GetName()))
		}
		if err != nil {
			return w, nil, fmt.Errorf("%s %s: %w", o.GetKind(), o.GetName(), err)
		}
	}
	for i := range w.Pods {
		if ns := w.Pods[i].Namespace; namespaces[ns] == nil {
			namespaces[ns] = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
		}
	}
	for _, np := range w.NetworkPolicies {
		if namespaces[np.Namespace] == nil {
			namespaces[np.Namespace] = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: np.Namespace}}
		}
	}
	names := make([]string, 0, len(namespaces))
	for n := range namespaces {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ns := namespaces[n]
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		ns.Labels[namespaceNameLabel] = ns.Name
		w.Namespaces = append(w.Namespaces, *ns)
	}
	if err := assignAddresses(w.Pods, before); err != nil {
		return w, nil, err
	}
	return w, notes, nil
}

func convert(o *unstructured.Unstructured, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object, into, true)
}

// expandWorkload turns a Deployment, ReplicaSet or StatefulSet into its replicas: pods named
// <name>-<i> with the template's labels and containers.
func expandWorkload(o *unstructured.Unstructured) ([]corev1.Pod, error) {
	var replicas *int32
	var tmpl corev1.PodTemplateSpec
	switch o.GetKind() {
	case "Deployment":
		d := appsv1.Deployment{}
		if err := convert(o, &d); err != nil {
			return nil, err
		}
		replicas, tmpl = d.Spec.Replicas, d.Spec.Template
	case "ReplicaSet":
		rs := appsv1.ReplicaSet{}
		if err := convert(o, &rs); err != nil {
			return nil, err
		}
		replicas, tmpl = rs.Spec.Replicas, rs.Spec.Template
	default:
		ss := appsv1.StatefulSet{}
		if err := convert(o, &ss); err != nil {
			return nil, err
		}
		replicas, tmpl = ss.Spec.Replicas, ss.Spec.Template
	}
	n := int32(1)
	if replicas != nil {
		n = *replicas
	}
	pods := make([]corev1.Pod, 0, n)
	for i := range n {
		name := o.GetName() + "-" + strconv.Itoa(int(i))
		pods = append(pods, corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: o.GetNamespace(), Labels: tmpl.Labels,
				UID: types.UID(o.GetNamespace() + "/" + name)},
			Spec:   tmpl.Spec,
			Status: corev1.PodStatus{Phase: corev1.PodRunning},
		})
	}
	return pods, nil
}

// assignAddresses gives every pod without an address (and not on the host network) the one the
// pod of the same name has in before, or else the next free address of DefaultPodCIDR, in
// (namespace, name) order, avoiding addresses pods (of both lists) already have.
func assignAddresses(pods, before []corev1.Pod) error {
	used := map[netip.Addr]bool{}
	earlier := map[PodRef]*corev1.Pod{}
	for i := range before {
		earlier[PodRef{before[i].Namespace, before[i].Name}] = &before[i]
		addrs, _ := podAddrs(&before[i])
		for _, a := range addrs {
			used[a] = true
		}
	}
	for _, p := range sortedPods(pods) {
		if e := earlier[PodRef{p.Namespace, p.Name}]; e != nil && !p.Spec.HostNetwork && p.Status.PodIP == "" && len(p.Status.PodIPs) == 0 {
			p.Status.PodIP, p.Status.PodIPs = e.Status.PodIP, e.Status.PodIPs
			if p.Status.Phase == "" {
				p.Status.Phase = corev1.PodRunning
			}
		}
	}
	for i := range pods {
		addrs, err := podAddrs(&pods[i])
		if err != nil {
			return err
		}
		for _, a := range addrs {
			used[a] = true
		}
	}
	next := DefaultPodCIDR.Addr().Next()
	for _, p := range sortedPods(pods) {
		if p.Spec.HostNetwork || p.Status.PodIP != "" || len(p.Status.PodIPs) > 0 {
			continue
		}
		for used[next] {
			next = next.Next()
		}
		if !DefaultPodCIDR.Contains(next) {
			return fmt.Errorf("more pods without addresses than %s holds", DefaultPodCIDR)
		}
		used[next] = true
		p.Status.PodIP = next.String()
		p.Status.PodIPs = []corev1.PodIP{{IP: next.String()}}
		if p.Status.Phase == "" {
			p.Status.Phase = corev1.PodRunning
		}
	}
	return nil
}

// defaultNetworkPolicy applies the API server's defaults: TCP for ports without a protocol, and
// policyTypes from the rules when absent.
func defaultNetworkPolicy(np *networkingv1.NetworkPolicy) {
	tcp := corev1.ProtocolTCP
	for i := range np.Spec.Ingress {
		for j := range np.Spec.Ingress[i].Ports {
			if np.Spec.Ingress[i].Ports[j].Protocol == nil {
				np.Spec.Ingress[i].Ports[j].Protocol = &tcp
			}
		}
	}
	for i := range np.Spec.Egress {
		for j := range np.Spec.Egress[i].Ports {
			if np.Spec.Egress[i].Ports[j].Protocol == nil {
				np.Spec.Egress[i].Ports[j].Protocol = &tcp
			}
		}
	}
	if len(np.Spec.PolicyTypes) == 0 {
		np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if len(np.Spec.Egress) != 0 { // as the API server: egress: [] alone does not imply Egress
			np.Spec.PolicyTypes = append(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
		}
	}
}

// defaultCSP applies the CRD's defaults: tier Security, enforcement Enforced, TCP.
func defaultCSP(p *securityv1alpha1.ClusterSecurityPolicy) {
	if p.Spec.Tier == "" {
		p.Spec.Tier = securityv1alpha1.TierSecurity
	}
	if p.Spec.Enforcement == "" {
		p.Spec.Enforcement = securityv1alpha1.EnforcementEnforced
	}
	for i := range p.Spec.Ingress {
		for j := range p.Spec.Ingress[i].Ports {
			if p.Spec.Ingress[i].Ports[j].Protocol == "" {
				p.Spec.Ingress[i].Ports[j].Protocol = securityv1alpha1.ProtocolTCP
			}
		}
	}
	for i := range p.Spec.Egress {
		for j := range p.Spec.Egress[i].Ports {
			if p.Spec.Egress[i].Ports[j].Protocol == "" {
				p.Spec.Egress[i].Ports[j].Protocol = securityv1alpha1.ProtocolTCP
			}
		}
	}
}
