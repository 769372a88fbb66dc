package oracle

import (
	"context"
	"net/netip"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	npav1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"
)

// TestPinnedVersion: the linkname and the packet layout mirror one version's internals.
// (Test binaries carry no module list, so this reads the module's go.mod.)
func TestPinnedVersion(t *testing.T) {
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == Module {
			if f[1] != Version {
				t.Fatalf("go.mod requires %s %s; oracle.go mirrors %s (update the packet type and this constant together)", Module, f[1], Version)
			}
			return
		}
	}
	t.Fatalf("go.mod does not require %s", Module)
}

// a tiny cluster: namespace a with pods web (10.0.0.1, named port http=8080), db (10.0.0.2),
// x (10.0.0.3, no labels) and y (10.0.0.4), plus fd00::1..4 for IPv6.
func fixture() State {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a", Labels: map[string]string{"kubernetes.io/metadata.name": "a"}}}
	mk := func(name, v4, v6 string, lbl map[string]string, ports ...corev1.ContainerPort) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: name, Labels: lbl},
			Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Ports: ports}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: v4, PodIPs: []corev1.PodIP{{IP: v4}, {IP: v6}}}}
	}
	return State{
		Namespaces: []*corev1.Namespace{ns},
		Pods: []*corev1.Pod{
			mk("web", "10.0.0.1", "fd00::1", map[string]string{"app": "web"}, corev1.ContainerPort{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}),
			mk("db", "10.0.0.2", "fd00::2", map[string]string{"app": "db"}),
			mk("x", "10.0.0.3", "fd00::3", nil),
			mk("y", "10.0.0.4", "fd00::4", map[string]string{"app": "y"}),
		},
	}
}

var (
	web, db, x    = netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.3")
	web6, db6, x6 = netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fd00::2"), netip.MustParseAddr("fd00::3")
	y, y6         = netip.MustParseAddr("10.0.0.4"), netip.MustParseAddr("fd00::4")
	ext           = netip.MustParseAddr("203.0.113.7")
	tcp           = corev1.ProtocolTCP
	udp           = corev1.ProtocolUDP
)

type probe struct {
	name     string
	src, dst netip.Addr
	proto    corev1.Protocol
	port     int
	want     bool
}

func check(t *testing.T, o *Oracle, s State, probes ...probe) {
	t.Helper()
	if err := o.Load(s); err != nil {
		t.Fatal(err)
	}
	for _, p := range probes {
		got, err := o.Allowed(context.Background(), p.src, p.dst, p.proto, p.port)
		if err != nil {
			t.Fatal(err)
		}
		if got != p.want {
			t.Errorf("%s: %s → %s %s/%d: oracle allowed=%v, want %v", p.name, p.src, p.dst, p.proto, p.port, got, p.want)
		}
	}
}

func sel(kv ...string) *metav1.LabelSelector {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return &metav1.LabelSelector{MatchLabels: m}
}

// TestOracleSelfCheck checks known answers of every evaluator the suite uses, in both families.
// A packet laid out differently from the oracle's would not give them.
func TestOracleSelfCheck(t *testing.T) {
	o, err := New()
	if err != nil {
		t.Fatal(err)
	}
	// NetworkPolicy: db accepts web on TCP only; x's egress goes to 10.0.0.0/24 except web, UDP 53-60.
	s := fixture()
	end := int32(60)
	p53 := intstr.FromInt32(53)
	s.NetworkPolicies = []*networkingv1.NetworkPolicy{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "db"}, Spec: networkingv1.NetworkPolicySpec{
			PodSelector: *sel("app", "db"), PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{PodSelector: sel("app", "web")}},
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp}}}}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "x"}, Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpDoesNotExist}}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress: []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/24", Except: []string{"10.0.0.1/32"}}}},
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &p53, EndPort: &end}}}}}},
	}
	check(t, o, s,
		probe{"np ingress allows web", web, db, tcp, 5432, true},
		probe{"np ingress allows web (v6)", web6, db6, tcp, 5432, true},
		probe{"np ingress denies x", x, db, tcp, 5432, false},
		probe{"np ingress denies udp", web, db, udp, 5432, false},
		probe{"np egress ipBlock in range", x, y, udp, 60, true},
		probe{"np egress ipBlock past range", x, y, udp, 61, false},
		probe{"np egress ipBlock except", x, web, udp, 53, false},
		probe{"np egress ipBlock v4 only", x6, y6, udp, 53, false},
		probe{"unselected", db, web, udp, 1, true},
		probe{"egress to outside the cluster, not in the ipBlock", x, ext, udp, 53, false},
		probe{"egress to outside the cluster, unselected", web, ext, udp, 53, true},
		probe{"ingress from outside the cluster", ext, db, tcp, 5432, false},
		probe{"ingress from outside the cluster, unselected", ext, web, tcp, 5432, true},
	)
	// AdminNetworkPolicy over BaselineAdminNetworkPolicy: ANP denies web→db on TCP 80, passes
	// TCP 81, allows everything else to db; BANP denies all ingress to db and egress from x.
	s = fixture()
	s.ANPs = []*npav1alpha1.AdminNetworkPolicy{{ObjectMeta: metav1.ObjectMeta{Name: "anp"}, Spec: npav1alpha1.AdminNetworkPolicySpec{
		Priority: 1, Subject: npav1alpha1.AdminNetworkPolicySubject{Pods: &npav1alpha1.NamespacedPod{PodSelector: *sel("app", "db")}},
		Ingress: []npav1alpha1.AdminNetworkPolicyIngressRule{
			{Action: npav1alpha1.AdminNetworkPolicyRuleActionDeny, From: []npav1alpha1.AdminNetworkPolicyIngressPeer{{Pods: &npav1alpha1.NamespacedPod{PodSelector: *sel("app", "web")}}},
				Ports: &[]npav1alpha1.AdminNetworkPolicyPort{{PortNumber: &npav1alpha1.Port{Protocol: tcp, Port: 80}}}},
			{Action: npav1alpha1.AdminNetworkPolicyRuleActionPass, From: []npav1alpha1.AdminNetworkPolicyIngressPeer{{Namespaces: &metav1.LabelSelector{}}},
				Ports: &[]npav1alpha1.AdminNetworkPolicyPort{{PortRange: &npav1alpha1.PortRange{Protocol: tcp, Start: 81, End: 81}}}},
			{Action: npav1alpha1.AdminNetworkPolicyRuleActionAllow, From: []npav1alpha1.AdminNetworkPolicyIngressPeer{{Namespaces: &metav1.LabelSelector{}}}},
		}}}}
	s.BANPs = []*npav1alpha1.BaselineAdminNetworkPolicy{{ObjectMeta: metav1.ObjectMeta{Name: "default"}, Spec: npav1alpha1.BaselineAdminNetworkPolicySpec{
		Subject: npav1alpha1.AdminNetworkPolicySubject{Namespaces: &metav1.LabelSelector{}},
		Ingress: []npav1alpha1.BaselineAdminNetworkPolicyIngressRule{{Action: npav1alpha1.BaselineAdminNetworkPolicyRuleActionDeny,
			From: []npav1alpha1.AdminNetworkPolicyIngressPeer{{Pods: &npav1alpha1.NamespacedPod{PodSelector: *sel("app", "web")}}}}},
		Egress: []npav1alpha1.BaselineAdminNetworkPolicyEgressRule{{Action: npav1alpha1.BaselineAdminNetworkPolicyRuleActionDeny,
			To: []npav1alpha1.BaselineAdminNetworkPolicyEgressPeer{{Networks: []npav1alpha1.CIDR{"10.0.0.4/32", "fd00::4/128"}}}}},
	}}}
	check(t, o, s,
		probe{"anp deny", web, db, tcp, 80, false},
		probe{"anp pass → banp deny", web, db, tcp, 81, false},
		probe{"anp allow beats banp", web, db, tcp, 82, true},
		probe{"banp egress networks", x, y, tcp, 82, false},
		probe{"banp egress networks (v6)", x6, y6, udp, 1, false},
		probe{"banp ingress", web, x, tcp, 80, false},
		probe{"banp ingress other source", x, web, tcp, 80, true},
	)
}

// TestOracleDeviations pins down where kube-network-policies v0.8.0 departs from the API
// semantics (which microseg follows), and so why the suite feeds it the way it does. If a new
// oracle version fixes one of these, this test fails and the workaround can go.
func TestOracleDeviations(t *testing.T) {
	o, err := New()
	if err != nil {
		t.Fatal(err)
	}
	banp := func(ingress []npav1alpha1.BaselineAdminNetworkPolicyIngressRule, egress []npav1alpha1.BaselineAdminNetworkPolicyEgressRule) []*npav1alpha1.BaselineAdminNetworkPolicy {
		return []*npav1alpha1.BaselineAdminNetworkPolicy{{ObjectMeta: metav1.ObjectMeta{Name: "default"}, Spec: npav1alpha1.BaselineAdminNetworkPolicySpec{
			Subject: npav1alpha1.AdminNetworkPolicySubject{Namespaces: &metav1.LabelSelector{}}, Ingress: ingress, Egress: egress}}}
	}
	denyEgressToY := []npav1alpha1.BaselineAdminNetworkPolicyEgressRule{{Action: npav1alpha1.BaselineAdminNetworkPolicyRuleActionDeny,
		To: []npav1alpha1.BaselineAdminNetworkPolicyEgressPeer{{Networks: []npav1alpha1.CIDR{"10.0.0.4/32"}}}}}
	denyIngressFromX := []npav1alpha1.BaselineAdminNetworkPolicyIngressRule{{Action: npav1alpha1.BaselineAdminNetworkPolicyRuleActionDeny,
		From: []npav1alpha1.AdminNetworkPolicyIngressPeer{{Pods: &npav1alpha1.NamespacedPod{PodSelector: metav1.LabelSelector{
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpDoesNotExist}}}}}}}}

	// 1. A NetworkPolicy selecting a pod for one direction only switches off the baseline tier
	// of the other direction too (getNetworkPoliciesForPod ignores policyTypes). By the API, x's
	// egress to y is denied by the BANP, as no NetworkPolicy isolates x for egress.
	s := fixture()
	s.NetworkPolicies = []*networkingv1.NetworkPolicy{{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "x-ingress-only"},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpDoesNotExist}}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}, Ingress: []networkingv1.NetworkPolicyIngressRule{{}}}}}
	s.BANPs = banp(nil, denyEgressToY)
	check(t, o, s, probe{"deviation 1 (egress): ingress-only NetworkPolicy skips the egress BANP", x, y, tcp, 80, true})
	s.NetworkPolicies = nil
	check(t, o, s, probe{"without the NetworkPolicy the BANP denies", x, y, tcp, 80, false})
	// … and the same for ingress: an egress-only NetworkPolicy on y skips y's ingress BANP.
	s = fixture()
	s.NetworkPolicies = []*networkingv1.NetworkPolicy{{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "y-egress-only"},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: *sel("app", "y"),
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}, Egress: []networkingv1.NetworkPolicyEgressRule{{}}}}}
	s.BANPs = banp(denyIngressFromX, nil)
	check(t, o, s, probe{"deviation 1 (ingress): egress-only NetworkPolicy skips the ingress BANP", x, y, tcp, 80, true})
	s.NetworkPolicies = nil
	check(t, o, s, probe{"without the NetworkPolicy the BANP denies", x, y, tcp, 80, false})

	// 2. A non-nil empty ingress list allows everything; the API reads it as no rule (isolation).
	// An informer never delivers one (the list is omitted when encoded), hence the JSON round trip.
	s = fixture()
	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "isolate-db"},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: *sel("app", "db"), PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{}}}
	s.NetworkPolicies = []*networkingv1.NetworkPolicy{np}
	check(t, o, s, probe{"deviation 2: ingress: [] in memory allows", web, db, tcp, 80, true})
	np2 := np.DeepCopy()
	np2.Spec.Ingress = nil
	s.NetworkPolicies = []*networkingv1.NetworkPolicy{np2}
	check(t, o, s, probe{"ingress absent isolates", web, db, tcp, 80, false})

	// 3. An AdminNetworkPolicy namedPort matches any pod that has a container port of that name,
	// whatever the number and protocol, and for ingress it looks at the source pod instead of
	// the destination. By the API a named port resolves on the destination: web's http is TCP
	// 8080 and db has none.
	http := "http"
	namedPort := &[]npav1alpha1.AdminNetworkPolicyPort{{NamedPort: &http}}
	subject := func(app string) npav1alpha1.AdminNetworkPolicySubject {
		return npav1alpha1.AdminNetworkPolicySubject{Pods: &npav1alpha1.NamespacedPod{PodSelector: *sel("app", app)}}
	}
	everyone := &metav1.LabelSelector{}
	s = fixture()
	s.ANPs = []*npav1alpha1.AdminNetworkPolicy{
		{ObjectMeta: metav1.ObjectMeta{Name: "egress"}, Spec: npav1alpha1.AdminNetworkPolicySpec{Priority: 1, Subject: subject("y"),
			Egress: []npav1alpha1.AdminNetworkPolicyEgressRule{{Action: npav1alpha1.AdminNetworkPolicyRuleActionDeny,
				To: []npav1alpha1.AdminNetworkPolicyEgressPeer{{Namespaces: everyone}}, Ports: namedPort}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "ingress"}, Spec: npav1alpha1.AdminNetworkPolicySpec{Priority: 2, Subject: npav1alpha1.AdminNetworkPolicySubject{Namespaces: everyone},
			Ingress: []npav1alpha1.AdminNetworkPolicyIngressRule{{Action: npav1alpha1.AdminNetworkPolicyRuleActionDeny,
				From: []npav1alpha1.AdminNetworkPolicyIngressPeer{{Namespaces: everyone}}, Ports: namedPort}}}},
	}
	check(t, o, s,
		probe{"egress named port on its number", y, web, tcp, 8080, false},
		probe{"deviation 3 (egress): named port on another number", y, web, tcp, 80, false},
		probe{"deviation 3 (egress): named port on another protocol", y, web, udp, 8080, false},
		probe{"egress to a pod without the name", y, db, tcp, 8080, true},
		probe{"deviation 3 (ingress): named port resolved on the source, not on db", web, db, tcp, 80, false},
		probe{"deviation 3 (ingress): web's own named port is not matched", x, web, tcp, 8080, true},
	)
}
