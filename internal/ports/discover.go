package ports

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
)

// AlwaysProbed is in every default port list: the port people expect a web service on, so that a
// run on a world whose policies name no port still answers the most common question.
var AlwaysProbed = Port{Protocol: "TCP", Number: 80}

// Named lists the ports a run probes when --ports is not given: every port the
// NetworkPolicies and ClusterSecurityPolicies name, plus AlwaysProbed. Numeric ports count, and
// both ends of a port..endPort range (the edges are where a range is most often wrong). A named
// port counts as every number a pod's container port of that name and protocol gives it (the
// compiler resolves names the same way, per destination pod). Rules without ports (every port of a
// protocol, or every protocol) name no particular port and add nothing. The result is sorted and
// deduplicated.
func Named(nps []networkingv1.NetworkPolicy, csps []securityv1alpha1.ClusterSecurityPolicy, pods []corev1.Pod) []Port {
	d := portDiscovery{named: namedContainerPorts(pods)}
	d.add(AlwaysProbed.Protocol, AlwaysProbed.Number)
	for i := range nps {
		spec := &nps[i].Spec
		for _, r := range spec.Ingress {
			d.addNetworkPolicyPorts(r.Ports)
		}
		for _, r := range spec.Egress {
			d.addNetworkPolicyPorts(r.Ports)
		}
	}
	for i := range csps {
		spec := &csps[i].Spec
		for _, r := range spec.Ingress {
			d.addPolicyPorts(r.Ports)
		}
		for _, r := range spec.Egress {
			d.addPolicyPorts(r.Ports)
		}
	}
	return Sort(d.ports)
}

// OfPolicy lists the ports one ClusterSecurityPolicy names, as Named does; everyPort is true when
// one of its rules names no port (it matches every port, or every port of a protocol).
func OfPolicy(p *securityv1alpha1.ClusterSecurityPolicy, pods []corev1.Pod) (list []Port, everyPort bool) {
	d := portDiscovery{named: namedContainerPorts(pods)}
	for _, r := range p.Spec.Ingress {
		d.addPolicyPorts(r.Ports)
		everyPort = everyPort || len(r.Ports) == 0
	}
	for _, r := range p.Spec.Egress {
		d.addPolicyPorts(r.Ports)
		everyPort = everyPort || len(r.Ports) == 0
	}
	return Sort(d.ports), everyPort
}

// namedPort is a container port name with its protocol: what a policy's named port refers to.
type namedPort struct{ protocol, name string }

type portDiscovery struct {
	named map[namedPort][]int
	ports []Port
}

// namedContainerPorts maps every named container port of the pods' app containers to the numbers
// pods give it (init containers do not serve, and the compiler ignores them too).
func namedContainerPorts(pods []corev1.Pod) map[namedPort][]int {
	out := map[namedPort][]int{}
	for i := range pods {
		for _, c := range pods[i].Spec.Containers {
			for _, cp := range c.Ports {
				if cp.Name == "" {
					continue
				}
				key := namedPort{protocol: protocolOrTCP(string(cp.Protocol)), name: cp.Name}
				if !slices.Contains(out[key], int(cp.ContainerPort)) {
					out[key] = append(out[key], int(cp.ContainerPort))
				}
			}
		}
	}
	return out
}

func (d *portDiscovery) addNetworkPolicyPorts(ports []networkingv1.NetworkPolicyPort) {
	for _, p := range ports {
		protocol := ""
		if p.Protocol != nil {
			protocol = string(*p.Protocol)
		}
		switch {
		case p.Port == nil:
			// Every port of the protocol: no particular port to probe.
		case p.Port.Type == intstr.String:
			d.addNamed(protocol, p.Port.StrVal)
		default:
			d.add(protocol, int(p.Port.IntVal))
			if p.EndPort != nil {
				d.add(protocol, int(*p.EndPort))
			}
		}
	}
}

func (d *portDiscovery) addPolicyPorts(ports []securityv1alpha1.Port) {
	for _, p := range ports {
		protocol := string(p.Protocol)
		if p.NamedPort != "" {
			d.addNamed(protocol, p.NamedPort)
		}
		if p.Port != nil {
			d.add(protocol, int(*p.Port))
		}
		if p.EndPort != nil {
			d.add(protocol, int(*p.EndPort))
		}
	}
}

func (d *portDiscovery) addNamed(protocol, name string) {
	protocol = protocolOrTCP(protocol)
	for _, n := range d.named[namedPort{protocol: protocol, name: name}] {
		d.add(protocol, n)
	}
}

// add keeps ports that can be probed; an invalid port or protocol is the compiler's to report
// (it shows up among the warnings), not a port to probe.
func (d *portDiscovery) add(protocol string, number int) {
	protocol = protocolOrTCP(protocol)
	if number < 1 || number > 65535 || !slices.Contains(protocols, protocol) {
		return
	}
	d.ports = append(d.ports, Port{Protocol: protocol, Number: number})
}

// protocolOrTCP applies the API server's default: no protocol means TCP.
func protocolOrTCP(p string) string {
	if p == "" {
		return "TCP"
	}
	return p
}
