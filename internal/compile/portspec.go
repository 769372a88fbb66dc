package compile

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
)

// cspPorts parses a ClusterSecurityPolicy rule's ports. No ports means every port and protocol.
func cspPorts(list []securityv1alpha1.Port) (portSpec, error) {
	if len(list) == 0 {
		return portSpec{all: true}, nil
	}
	var ps portSpec
	for i, p := range list {
		proto, err := protocolOf(string(p.Protocol))
		if err != nil {
			return ps, fmt.Errorf("ports[%d]: %w", i, err)
		}
		switch {
		case p.NamedPort != "" && (p.Port != nil || p.EndPort != nil):
			return ps, fmt.Errorf("ports[%d]: namedPort excludes port and endPort", i)
		case p.NamedPort != "":
			ps.addNamed(namedPort{proto: proto, name: p.NamedPort})
		case p.Port == nil:
			if p.EndPort != nil {
				return ps, fmt.Errorf("ports[%d]: endPort needs port", i)
			}
			// Not allowed by the CRD; read it the NetworkPolicy way: every port of the protocol.
			ps.numeric = ps.numeric.union(protoPorts(string(proto), 1, 65535))
		default:
			lo, hi, err := portRangeOf(*p.Port, p.EndPort)
			if err != nil {
				return ps, fmt.Errorf("ports[%d]: %w", i, err)
			}
			ps.numeric = ps.numeric.union(protoPorts(string(proto), lo, hi))
		}
	}
	return ps, nil
}

// npPorts parses a NetworkPolicy rule's ports: protocol defaults to TCP, a missing port means
// every port of the protocol, a string port is a named port.
func npPorts(list []networkingv1.NetworkPolicyPort) (portSpec, error) {
	if len(list) == 0 {
		return portSpec{all: true}, nil
	}
	var ps portSpec
	for i, p := range list {
		protoName := ""
		if p.Protocol != nil {
			protoName = string(*p.Protocol)
		}
		proto, err := protocolOf(protoName)
		if err != nil {
			return ps, fmt.Errorf("ports[%d]: %w", i, err)
		}
		switch {
		case p.Port == nil:
			if p.EndPort != nil {
				return ps, fmt.Errorf("ports[%d]: endPort needs port", i)
			}
			ps.numeric = ps.numeric.union(protoPorts(string(proto), 1, 65535))
		case p.Port.Type == intstr.String:
			if p.EndPort != nil {
				return ps, fmt.Errorf("ports[%d]: endPort cannot be used with a named port", i)
			}
			if p.Port.StrVal == "" {
				return ps, fmt.Errorf("ports[%d]: empty port name", i)
			}
			ps.addNamed(namedPort{proto: proto, name: p.Port.StrVal})
		default:
			lo, hi, err := portRangeOf(p.Port.IntVal, p.EndPort)
			if err != nil {
				return ps, fmt.Errorf("ports[%d]: %w", i, err)
			}
			ps.numeric = ps.numeric.union(protoPorts(string(proto), lo, hi))
		}
	}
	return ps, nil
}

func protocolOf(p string) (corev1.Protocol, error) {
	switch corev1.Protocol(p) {
	case "", corev1.ProtocolTCP:
		return corev1.ProtocolTCP, nil
	case corev1.ProtocolUDP, corev1.ProtocolSCTP:
		return corev1.Protocol(p), nil
	}
	return "", fmt.Errorf("unknown protocol %q", p)
}

func portRangeOf(port int32, endPort *int32) (lo, hi int32, err error) {
	lo, hi = port, port
	if endPort != nil {
		hi = *endPort
	}
	if lo < 1 || hi > 65535 || lo > hi {
		return 0, 0, fmt.Errorf("invalid port range %d-%d", lo, hi)
	}
	return lo, hi, nil
}
