// Package oracle drives sigs.k8s.io/kube-network-policies, the SIG-Network reference
// implementation of NetworkPolicy, AdminNetworkPolicy and BaselineAdminNetworkPolicy, in process.
//
// kube-network-policies decides the first packet of every connection in user space: its
// Controller reads Namespaces, Pods, NetworkPolicies, AdminNetworkPolicies and
// BaselineAdminNetworkPolicies from informer caches and (*Controller).evaluatePacket gives the
// verdict for one packet, evaluating ANP → NetworkPolicy → BANP for egress at the source and
// then for ingress at the destination. In a cluster the packet comes from an nfqueue; here the
// Oracle builds the Controller with the exported constructor over fake clientsets, fills the
// informer caches directly (as the project's own unit tests do) and calls evaluatePacket through a
// //go:linkname reference, with a packet value laid out like the unexported one of the pinned
// version. Nothing of the oracle is copied or changed: it is the released module, compiled as is.
//
// The linkname and the packet layout are tied to the pinned version (Version); TestPinnedVersion
// fails when go.mod moves to another one, and TestOracleSelfCheck checks known answers so that a
// layout mismatch cannot go unnoticed.
package oracle

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	_ "unsafe" // for go:linkname

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"

	"github.com/sirupsen/logrus"
	"sigs.k8s.io/kube-network-policies/pkg/networkpolicy"
	npav1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"
	npaclient "sigs.k8s.io/network-policy-api/pkg/client/clientset/versioned"
	npainformers "sigs.k8s.io/network-policy-api/pkg/client/informers/externalversions"
)

// Module and Version name the oracle this package is written against.
const (
	Module  = "sigs.k8s.io/kube-network-policies"
	Version = "v0.8.0"
)

// packet mirrors the unexported packet type of kube-network-policies v0.8.0
// (pkg/networkpolicy/packet.go) field for field, so that a value of it can be passed to
// evaluatePacket.
type packet struct {
	id      uint32 //nolint:unused // mirrors the oracle's layout
	family  corev1.IPFamily
	srcIP   net.IP
	dstIP   net.IP
	proto   corev1.Protocol
	srcPort int
	dstPort int
	payload []byte //nolint:unused // mirrors the oracle's layout
}

// evaluatePacket is (*networkpolicy.Controller).evaluatePacket of the pinned version.
//
//go:linkname evaluatePacket sigs.k8s.io/kube-network-policies/pkg/networkpolicy.(*Controller).evaluatePacket
func evaluatePacket(c *networkpolicy.Controller, ctx context.Context, p packet) bool

// Oracle is one kube-network-policies controller whose caches the caller fills.
type Oracle struct {
	c                                      *networkpolicy.Controller
	namespaces, pods, netpols, anps, banps cache.Store
	nodeName                               string
}

// State is what the oracle's caches hold.
type State struct {
	Namespaces      []*corev1.Namespace
	Pods            []*corev1.Pod
	NetworkPolicies []*networkingv1.NetworkPolicy
	ANPs            []*npav1alpha1.AdminNetworkPolicy
	BANPs           []*npav1alpha1.BaselineAdminNetworkPolicy
}

// New builds a controller with AdminNetworkPolicy and BaselineAdminNetworkPolicy support on. Its
// informers and its NRI plugin are never started: pods are found by the IPs in their status.
func New() (*Oracle, error) {
	// The NRI stub logs its creation through logrus' standard logger at info level.
	quietNRI.Do(func() { logrus.SetLevel(logrus.WarnLevel) })
	client := fake.NewClientset()
	factory := informers.NewSharedInformerFactory(client, 0)
	// The network-policy-api fake clientset of the pinned version does not build against the
	// client-go this module resolves to; the informers are never started, so no client is needed.
	var npaClient npaclient.Interface
	npaFactory := npainformers.NewSharedInformerFactory(npaClient, 0)
	const node = "conformance-node"
	c, err := networkpolicy.NewController(client,
		factory.Networking().V1().NetworkPolicies(),
		factory.Core().V1().Namespaces(),
		factory.Core().V1().Pods(),
		factory.Core().V1().Nodes(),
		npaClient,
		npaFactory.Policy().V1alpha1().AdminNetworkPolicies(),
		npaFactory.Policy().V1alpha1().BaselineAdminNetworkPolicies(),
		networkpolicy.Config{
			AdminNetworkPolicy:         true,
			BaselineAdminNetworkPolicy: true,
			NodeName:                   node,
			// The NRI plugin is created but never started: with an empty pod map it is what lets
			// evaluatePacket see an address no pod has as outside the cluster.
			NRIdisabled: false,
		})
	if err != nil {
		return nil, err
	}
	return &Oracle{
		c:          c,
		namespaces: factory.Core().V1().Namespaces().Informer().GetStore(),
		pods:       factory.Core().V1().Pods().Informer().GetStore(),
		netpols:    factory.Networking().V1().NetworkPolicies().Informer().GetStore(),
		anps:       npaFactory.Policy().V1alpha1().AdminNetworkPolicies().Informer().GetStore(),
		banps:      npaFactory.Policy().V1alpha1().BaselineAdminNetworkPolicies().Informer().GetStore(),
		nodeName:   node,
	}, nil
}

// Load replaces what the caches hold. A nil slice empties that cache.
func (o *Oracle) Load(s State) error {
	if err := replace(o.namespaces, s.Namespaces); err != nil {
		return err
	}
	if err := o.SetPods(s.Pods); err != nil {
		return err
	}
	if err := o.SetNetworkPolicies(s.NetworkPolicies); err != nil {
		return err
	}
	return o.SetAdmin(s.ANPs, s.BANPs)
}

// SetPods replaces the pods. Pods are placed on the oracle's node.
func (o *Oracle) SetPods(pods []*corev1.Pod) error {
	for _, p := range pods {
		if p.Spec.NodeName != o.nodeName {
			p.Spec.NodeName = o.nodeName
		}
	}
	return replace(o.pods, pods)
}

// SetNetworkPolicies replaces the NetworkPolicies.
func (o *Oracle) SetNetworkPolicies(nps []*networkingv1.NetworkPolicy) error {
	return replace(o.netpols, nps)
}

// SetAdmin replaces the AdminNetworkPolicies and BaselineAdminNetworkPolicies.
func (o *Oracle) SetAdmin(anps []*npav1alpha1.AdminNetworkPolicy, banps []*npav1alpha1.BaselineAdminNetworkPolicy) error {
	if err := replace(o.anps, anps); err != nil {
		return err
	}
	return replace(o.banps, banps)
}

func replace[T runtime.Object](s cache.Store, objs []T) error {
	list := make([]any, len(objs))
	for i, x := range objs {
		list[i] = x
	}
	return s.Replace(list, "")
}

// Allowed is the oracle's verdict on the first packet of a connection from srcIP to dstIP on
// (protocol, dstPort). An address that no pod in the cache has is outside the cluster.
func (o *Oracle) Allowed(ctx context.Context, srcIP, dstIP netip.Addr, protocol corev1.Protocol, dstPort int) (bool, error) {
	if srcIP.Is4() != dstIP.Is4() {
		return false, fmt.Errorf("oracle: %s and %s are of different families", srcIP, dstIP)
	}
	switch protocol {
	case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
	default:
		return false, fmt.Errorf("oracle: protocol %q", protocol)
	}
	p := packet{
		family:  corev1.IPv4Protocol,
		srcIP:   net.IP(srcIP.AsSlice()),
		dstIP:   net.IP(dstIP.AsSlice()),
		proto:   protocol,
		srcPort: 43210,
		dstPort: dstPort,
	}
	if srcIP.Is6() {
		p.family = corev1.IPv6Protocol
	} else {
		// parsePacket builds IPv4 addresses with net.IPv4 (16-byte form); String() is the same
		// either way, but keep the packet as the oracle would have it.
		p.srcIP, p.dstIP = p.srcIP.To16(), p.dstIP.To16()
	}
	return evaluatePacket(o.c, ctx, p), nil
}

var quietNRI sync.Once
