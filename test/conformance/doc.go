// Package conformance is microseg's differential conformance suite against the SIG-Network
// reference implementation, sigs.k8s.io/kube-network-policies (see README.md).
package conformance
