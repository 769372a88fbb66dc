package conformance

import (
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/pipeline"
)

const namespaceNameLabel = "kubernetes.io/metadata.name"

// Normalize returns the world as the API server hands it out to informers: defaults applied on
// create, then the stored object decoded again.
//
//   - Pods get a UID (stable: derived from namespace and name).
//   - Namespaces get kubernetes.io/metadata.name=<name>.
//   - Container ports and NetworkPolicy ports get protocol TCP when they have none.
//   - NetworkPolicy policyTypes, when empty, become [Ingress] plus Egress iff the policy has at
//     least one egress rule (len(egress) > 0: "egress: []" does not make it an egress policy).
//   - ClusterSecurityPolicy tier defaults to Security and port protocol to TCP (CRD defaults).
//   - Every object goes through JSON and back, as an informer receives it: a list written
//     "ingress: []" and one left out both arrive as nil. The difference that matters between
//     them (whether the policy isolates for that direction) has been carried into policyTypes by
//     the defaulting before, exactly as the API server does it. Without the round trip the oracle
//     would see a non-nil empty list, which it reads as "allow everything" (see
//     TestOracleDeviations).
func Normalize(raw pipeline.World) (pipeline.World, error) {
	var w pipeline.World
	for _, ns := range raw.Namespaces {
		ns = *ns.DeepCopy()
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		ns.Labels[namespaceNameLabel] = ns.Name
		if err := roundTrip(&ns); err != nil {
			return w, err
		}
		w.Namespaces = append(w.Namespaces, ns)
	}
	for _, p := range raw.Pods {
		p = *p.DeepCopy()
		if p.UID == "" {
			// The API server gives every object a UID; NCP names the pod's port attachment after it.
			p.UID = types.UID(uuid.NewSHA1(uuid.NameSpaceURL, []byte("pod:"+p.Namespace+"/"+p.Name)).String())
		}
		for _, cs := range [][]corev1.Container{p.Spec.Containers, p.Spec.InitContainers} {
			for i := range cs {
				for j := range cs[i].Ports {
					if cs[i].Ports[j].Protocol == "" {
						cs[i].Ports[j].Protocol = corev1.ProtocolTCP
					}
				}
			}
		}
		if err := roundTrip(&p); err != nil {
			return w, err
		}
		w.Pods = append(w.Pods, p)
	}
	for _, np := range raw.NetworkPolicies {
		np = *np.DeepCopy()
		defaultPorts := func(ports []networkingv1.NetworkPolicyPort) {
			for i := range ports {
				if ports[i].Protocol == nil {
					tcp := corev1.ProtocolTCP
					ports[i].Protocol = &tcp
				}
			}
		}
		for i := range np.Spec.Ingress {
			defaultPorts(np.Spec.Ingress[i].Ports)
		}
		for i := range np.Spec.Egress {
			defaultPorts(np.Spec.Egress[i].Ports)
		}
		if len(np.Spec.PolicyTypes) == 0 {
			np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
			if len(np.Spec.Egress) > 0 {
				np.Spec.PolicyTypes = append(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
			}
		}
		if err := roundTrip(&np); err != nil {
			return w, err
		}
		w.NetworkPolicies = append(w.NetworkPolicies, np)
	}
	for _, c := range raw.ClusterSecurityPolicies {
		c = *c.DeepCopy()
		if c.Spec.Tier == "" {
			c.Spec.Tier = securityv1alpha1.TierSecurity
		}
		defaultPorts := func(ports []securityv1alpha1.Port) {
			for i := range ports {
				if ports[i].Protocol == "" {
					ports[i].Protocol = securityv1alpha1.ProtocolTCP
				}
			}
		}
		for i := range c.Spec.Ingress {
			defaultPorts(c.Spec.Ingress[i].Ports)
		}
		for i := range c.Spec.Egress {
			defaultPorts(c.Spec.Egress[i].Ports)
		}
		if err := roundTrip(&c); err != nil {
			return w, err
		}
		w.ClusterSecurityPolicies = append(w.ClusterSecurityPolicies, c)
	}
	return w, nil
}

// roundTrip replaces *obj with its JSON encoding decoded into a zero value.
func roundTrip[T any](obj *T) error {
	b, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("normalize: %w", err)
	}
	var fresh T
	if err := json.Unmarshal(b, &fresh); err != nil {
		return fmt.Errorf("normalize: %w", err)
	}
	*obj = fresh
	return nil
}
