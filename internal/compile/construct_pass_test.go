package compile

import (
	"slices"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/ir"
)

// Table tests for services and Pass: SCTP fail-closed, Pass over namespaces, NSX groups, ports
// and half the address space.

func TestSCTPIsFailClosedAndWarned(t *testing.T) {
	in := basicWorld()
	p := np("shop", "sctp", sel("app=db"))
	p.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{npPort("SCTP", 7777)}}}
	deny := csp("deny-sctp", securityv1alpha1.TierSecurity, 1, subjectPods(nil, sel("app=web")))
	deny.Spec.Ingress = []securityv1alpha1.IngressRule{
		{Name: "sctp", Action: securityv1alpha1.ActionDeny, From: []securityv1alpha1.Peer{nsPeer(nil)}, Ports: []securityv1alpha1.Port{cspPortNum("SCTP", 7777)}},
		{Name: "all-sctp", Action: securityv1alpha1.ActionDeny, From: []securityv1alpha1.Peer{nsPeer(nil)}, Ports: []securityv1alpha1.Port{cspPortNum("SCTP", 1, 65535)}},
	}
	in.NetworkPolicies = []networkingv1.NetworkPolicy{p}
	in.ClusterSecurityPolicies = []securityv1alpha1.ClusterSecurityPolicy{deny}
	m := mustCompile(t, in)
	if got := rulesOf(m, "sctp", "ingress/"); len(got) != 0 {
		t.Errorf("an Allow on some SCTP ports must not be realized, got %+v", got)
	}
	if got := rulesOf(m, "sctp", "isolate/"); len(got) != 1 {
		t.Errorf("the pods stay isolated: %+v", got)
	}
	r := rulesOf(m, "deny-sctp", "ingress/sctp")[0]
	if len(r.Services) != 1 || r.Services[0].Kind != ir.ServiceIPProtocol || r.Services[0].ProtocolNumber != 132 {
		t.Errorf("ingress/sctp: services %+v, want IP protocol 132", r.Services)
	}
	// Widened to every SCTP port, the first rule covers the second, which is never reached.
	if got := rulesOf(m, "deny-sctp", "ingress/all-sctp"); len(got) != 0 {
		t.Errorf("ingress/all-sctp is shadowed by ingress/sctp and must be left out, got %+v", got)
	}
	var codes []string
	for _, w := range m.Warnings {
		codes = append(codes, w.Object.Name+"/"+w.Rule+":"+w.Code)
	}
	want := []string{"deny-sctp/ingress/sctp:SCTPPortsNotExpressible", "sctp/ingress/0:SCTPPortsNotExpressible"}
	if !slices.Equal(codes, want) {
		t.Errorf("warnings %v, want %v (every SCTP port is exact: no warning)", codes, want)
	}
}

func TestPassSubtractsNamespacesWithTags(t *testing.T) {
	in := basicWorld()
	pass := csp("a-pass-system", securityv1alpha1.TierSecurity, 1, subjectNamespaces(nil))
	pass.Spec.Ingress = []securityv1alpha1.IngressRule{{Name: "system", Action: securityv1alpha1.ActionPass,
		From: []securityv1alpha1.Peer{nsPeer(sel("kubernetes.io/metadata.name=kube-system"))}}}
	deny := csp("b-deny", securityv1alpha1.TierSecurity, 1, subjectNamespaces(sel("env=prod")))
	deny.Spec.Ingress = []securityv1alpha1.IngressRule{{Name: "pods", Action: securityv1alpha1.ActionDeny, From: []securityv1alpha1.Peer{nsPeer(nil)}}}
	in.ClusterSecurityPolicies = []securityv1alpha1.ClusterSecurityPolicy{deny, pass}
	m := mustCompile(t, in)
	if got := rulesOf(m, "a-pass-system", ""); len(got) != 0 {
		t.Errorf("a Pass rule has no DFW rule: %+v", got)
	}
	r := rulesOf(m, "b-deny", "ingress/pods")
	if len(r) != 1 {
		t.Fatalf("got %d rules", len(r))
	}
	got := criteriaStrings(group(t, m, r[0].Sources[0]))
	want := []string{"ncp/cluster=c1&ncp/project=shop", "ncp/cluster=c1&ncp/project=tools"}
	if !slices.Equal(got, want) {
		t.Errorf("every pod minus kube-system: criteria %v, want %v", got, want)
	}
	if m.Sections[0].Key != "csp/a-pass-system" || len(m.Sections[0].Rules) != 0 {
		t.Errorf("the Pass-only policy keeps its (empty) section first: %+v", m.Sections[0])
	}
}

func TestPassOverNSXGroup(t *testing.T) {
	in := basicWorld()
	pass := csp("a-pass", securityv1alpha1.TierSecurity, 1, subjectNamespaces(nil))
	pass.Spec.Ingress = []securityv1alpha1.IngressRule{{Name: "monitoring", Action: securityv1alpha1.ActionPass,
		From: []securityv1alpha1.Peer{nsxGroups("monitoring-vms")}}}
	deny := csp("b-deny", securityv1alpha1.TierSecurity, 2, subjectNamespaces(nil))
	deny.Spec.Ingress = []securityv1alpha1.IngressRule{
		{Name: "everyone", Action: securityv1alpha1.ActionReject, From: []securityv1alpha1.Peer{networks("0.0.0.0/0", "::/0")}},
		{Name: "corp", Action: securityv1alpha1.ActionDeny, From: []securityv1alpha1.Peer{networks("10.0.0.0/8")}},
	}
	in.ClusterSecurityPolicies = []securityv1alpha1.ClusterSecurityPolicy{pass, deny}
	m := mustCompile(t, in)
	everyone := rulesOf(m, "b-deny", "ingress/everyone")
	if len(everyone) != 1 || !everyone[0].SourcesExcluded || !slices.Equal(everyone[0].Sources, []ir.Ref{{NSXGroup: "monitoring-vms"}}) {
		t.Errorf("any minus an NSX group must be the exact excluded form: %+v", everyone)
	}
	corp := rulesOf(m, "b-deny", "ingress/corp")
	if len(corp) != 1 || corp[0].SourcesExcluded || !slices.Equal(corp[0].Sources, []ir.Ref{{CIDR: "10.0.0.0/8"}}) {
		t.Errorf("a CIDR minus an NSX group keeps the CIDR (assumed disjoint): %+v", corp)
	}
	var warned []string
	for _, w := range m.Warnings {
		if w.Code == ir.WarnExternalGroup {
			warned = append(warned, w.Rule)
		}
	}
	if !slices.Equal(warned, []string{"ingress/corp"}) {
		t.Errorf("ExternalGroupMembershipUnknown warnings on %v, want only ingress/corp", warned)
	}
}

func TestPassOnPortsLeavesTheComplement(t *testing.T) {
	in := basicWorld()
	p := csp("p", securityv1alpha1.TierBaseline, 1, subjectPods(sel("env=prod"), nil))
	p.Spec.Egress = []securityv1alpha1.EgressRule{
		{Name: "dns", Action: securityv1alpha1.ActionPass, To: []securityv1alpha1.Peer{nsPeer(nil)}, Ports: []securityv1alpha1.Port{cspPortNum("UDP", 53)}},
		{Name: "rest", Action: securityv1alpha1.ActionDeny, To: []securityv1alpha1.Peer{nsPeer(nil)}},
	}
	in.ClusterSecurityPolicies = []securityv1alpha1.ClusterSecurityPolicy{p}
	m := mustCompile(t, in)
	rules := rulesOf(m, "p", "egress/rest")
	var svcs []ir.Service
	for _, r := range rules {
		if len(r.Services) > 128 {
			t.Errorf("%d services in one rule", len(r.Services))
		}
		svcs = append(svcs, r.Services...)
	}
	// TCP all, UDP all but 53, SCTP all, and every other IP protocol (251 numbers).
	if len(svcs) != 1+1+1+251 {
		t.Fatalf("got %d services", len(svcs))
	}
	if svcs[1].L4Protocol != "UDP" || !slices.Equal(svcs[1].DestinationPorts, []string{"1-52", "54-65535"}) {
		t.Errorf("UDP entry %+v", svcs[1])
	}
	if len(rules) != 2 {
		t.Errorf("254 services need 2 rules, got %d", len(rules))
	}
}

func TestPassToHalfUniverseSplitsFamilies(t *testing.T) {
	in := basicWorld()
	p := csp("p", securityv1alpha1.TierSecurity, 1, subjectPods(sel("env=prod"), nil))
	p.Spec.Egress = []securityv1alpha1.EgressRule{
		{Name: "v4", Action: securityv1alpha1.ActionPass, To: []securityv1alpha1.Peer{networks("0.0.0.0/0")}},
		{Name: "rest", Action: securityv1alpha1.ActionDeny, To: []securityv1alpha1.Peer{nsPeer(nil), nsxGroups("g")}},
	}
	in.ClusterSecurityPolicies = []securityv1alpha1.ClusterSecurityPolicy{p}
	m := mustCompile(t, in)
	rules := rulesOf(m, "p", "egress/rest")
	if len(rules) != 1 || rules[0].IPProtocol != ir.IPv6 {
		t.Errorf("everything IPv4 was passed: the Deny must be IPv6 only, got %+v", rules)
	}
	for _, w := range m.Warnings {
		t.Errorf("unexpected warning %+v: the family split is exact", w)
	}
}
