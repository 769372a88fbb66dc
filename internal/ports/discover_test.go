package ports

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
)

func TestDefaultPorts(t *testing.T) {
	web := podWithPorts("web", corev1.ContainerPort{Name: "http", ContainerPort: 8080},
		corev1.ContainerPort{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP})
	api := podWithPorts("api", corev1.ContainerPort{Name: "http", ContainerPort: 8081, Protocol: corev1.ProtocolTCP},
		corev1.ContainerPort{Name: "metrics", ContainerPort: 9090})
	udpHTTP := podWithPorts("odd", corev1.ContainerPort{Name: "http", ContainerPort: 9999, Protocol: corev1.ProtocolUDP})
	withInit := podWithPorts("init", corev1.ContainerPort{Name: "metrics", ContainerPort: 9100})
	withInit.Spec.InitContainers, withInit.Spec.Containers = withInit.Spec.Containers, nil
	pods := []corev1.Pod{web, api, udpHTTP, withInit}

	cases := []struct {
		name     string
		policies []networkingv1.NetworkPolicy
		csps     []securityv1alpha1.ClusterSecurityPolicy
		want     string
	}{
		{name: "no policies: 80/TCP alone", want: "80/TCP"},
		{name: "numeric, protocol defaults to TCP", policies: []networkingv1.NetworkPolicy{npIngress(npPort(nil, intstr.FromInt32(443), nil))},
			want: "80/TCP 443/TCP"},
		{name: "egress and UDP", policies: []networkingv1.NetworkPolicy{npEgress(npPort(proto("UDP"), intstr.FromInt32(53), nil))},
			want: "53/UDP 80/TCP"},
		{name: "range: both ends", policies: []networkingv1.NetworkPolicy{npIngress(npPort(proto("UDP"), intstr.FromInt32(7000), int32p(7010)))},
			want: "80/TCP 7000/UDP 7010/UDP"},
		{name: "named port: every number pods give it, for its protocol only",
			policies: []networkingv1.NetworkPolicy{npIngress(npPort(nil, intstr.FromString("http"), nil))},
			want:     "80/TCP 8080/TCP 8081/TCP"},
		{name: "named UDP port", policies: []networkingv1.NetworkPolicy{npEgress(npPort(proto("UDP"), intstr.FromString("dns"), nil))},
			want: "53/UDP 80/TCP"},
		{name: "named port no pod has", policies: []networkingv1.NetworkPolicy{npIngress(npPort(nil, intstr.FromString("grpc"), nil))},
			want: "80/TCP"},
		{name: "init containers do not serve", policies: []networkingv1.NetworkPolicy{npIngress(npPort(nil, intstr.FromString("metrics"), nil))},
			want: "80/TCP 9090/TCP"},
		{name: "every port of a protocol names none", policies: []networkingv1.NetworkPolicy{npIngress(networkingv1.NetworkPolicyPort{Protocol: proto("SCTP")})},
			want: "80/TCP"},
		{name: "CSP numbers, SCTP ranges and named ports",
			csps: []securityv1alpha1.ClusterSecurityPolicy{cspWithPorts(
				[]securityv1alpha1.Port{{Port: int32p(5432)}, {Protocol: "SCTP", Port: int32p(30000), EndPort: int32p(30010)}},
				[]securityv1alpha1.Port{{NamedPort: "metrics"}, {Protocol: "UDP", NamedPort: "dns"}})},
			want: "53/UDP 80/TCP 5432/TCP 9090/TCP 30000/SCTP 30010/SCTP"},
		{name: "duplicates across kinds, sorted by number then protocol",
			policies: []networkingv1.NetworkPolicy{npIngress(npPort(nil, intstr.FromInt32(8080), nil), npPort(proto("SCTP"), intstr.FromInt32(80), nil))},
			csps:     []securityv1alpha1.ClusterSecurityPolicy{cspWithPorts([]securityv1alpha1.Port{{NamedPort: "http"}, {Protocol: "UDP", Port: int32p(80)}}, nil)},
			want:     "80/TCP 80/UDP 80/SCTP 8080/TCP 8081/TCP"},
		{name: "invalid ports and protocols are the compiler's to report",
			policies: []networkingv1.NetworkPolicy{npIngress(npPort(nil, intstr.FromInt32(0), nil), npPort(proto("ICMP"), intstr.FromInt32(7), nil),
				npPort(nil, intstr.FromInt32(70000), nil))},
			want: "80/TCP"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := portsString(Named(c.policies, c.csps, pods)); got != c.want {
				t.Errorf("Named = %q, want %q", got, c.want)
			}
		})
	}
}

func podWithPorts(name string, ports ...corev1.ContainerPort) corev1.Pod {
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Ports: ports}}},
	}
}

func npIngress(ports ...networkingv1.NetworkPolicyPort) networkingv1.NetworkPolicy {
	return networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "in", Namespace: "ns"},
		Spec:       networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: ports}}},
	}
}

func npEgress(ports ...networkingv1.NetworkPolicyPort) networkingv1.NetworkPolicy {
	return networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "out", Namespace: "ns"},
		Spec:       networkingv1.NetworkPolicySpec{Egress: []networkingv1.NetworkPolicyEgressRule{{Ports: ports}}},
	}
}

func npPort(protocol *corev1.Protocol, port intstr.IntOrString, endPort *int32) networkingv1.NetworkPolicyPort {
	return networkingv1.NetworkPolicyPort{Protocol: protocol, Port: &port, EndPort: endPort}
}

func cspWithPorts(ingress, egress []securityv1alpha1.Port) securityv1alpha1.ClusterSecurityPolicy {
	return securityv1alpha1.ClusterSecurityPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "csp"},
		Spec: securityv1alpha1.ClusterSecurityPolicySpec{
			Ingress: []securityv1alpha1.IngressRule{{Name: "in", Action: securityv1alpha1.ActionAllow, Ports: ingress}},
			Egress:  []securityv1alpha1.EgressRule{{Name: "out", Action: securityv1alpha1.ActionAllow, Ports: egress}},
		},
	}
}

func proto(p string) *corev1.Protocol { x := corev1.Protocol(p); return &x }

func int32p(n int32) *int32 { return &n }
