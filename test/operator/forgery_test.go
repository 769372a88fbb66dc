package operator_test

import (
	"context"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsim/dataplane"
)

// Defence in depth: without the admission policy of config/admission (this suite does not install
// it), a tenant labels its pods with NCP's identity scopes, the NCP emulator copies the labels onto
// the pods' logical ports as NCP does, and the operator's compiler alone keeps the spoofers out.
// The world uses its own namespaces (fx: the tenant, fz: the namespace it imitates), so that it
// does not depend on the order of the suite's containers.
var _ = Describe("pods with labels that forge NCP's identity tags", Ordered, func() {
	const (
		tenantNS   = "fx"
		victimNS   = "fz"
		partnerAPI = "192.0.2.10"    // only fz may reach it (Security tier, subject selected by namespace)
		reporting  = "198.51.100.20" // only fz may reach it (Baseline tier, subject selected by namespace)
	)
	nsName := func(names ...string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpIn, Values: names}}}
	}
	podsIn := func(ns, app string) *securityv1alpha1.NamespacedPods {
		return &securityv1alpha1.NamespacedPods{NamespaceSelector: *nsName(ns), PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}}
	}
	everyone := []securityv1alpha1.CIDR{"0.0.0.0/0", "::/0"}
	policies := []*securityv1alpha1.ClusterSecurityPolicy{
		{ObjectMeta: metav1.ObjectMeta{Name: "forgery-protect-d"}, Spec: securityv1alpha1.ClusterSecurityPolicySpec{
			Tier: securityv1alpha1.TierSecurity, Priority: 700, Subject: securityv1alpha1.Subject{Pods: podsIn(victimNS, "svc-d")},
			Ingress: []securityv1alpha1.IngressRule{
				{Name: "allow-svc-c", Action: securityv1alpha1.ActionAllow, From: []securityv1alpha1.Peer{{Pods: podsIn(victimNS, "svc-c")}},
					Ports: []securityv1alpha1.Port{{NamedPort: "http"}}},
				{Name: "reject-rest", Action: securityv1alpha1.ActionReject, From: []securityv1alpha1.Peer{{Networks: everyone}}},
			}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "forgery-client-egress"}, Spec: securityv1alpha1.ClusterSecurityPolicySpec{
			Tier: securityv1alpha1.TierSecurity, Priority: 710, Subject: securityv1alpha1.Subject{Pods: podsIn(tenantNS, "client")},
			Egress: []securityv1alpha1.EgressRule{
				{Name: "to-svc-c", Action: securityv1alpha1.ActionAllow, To: []securityv1alpha1.Peer{{Pods: podsIn(victimNS, "svc-c")}}},
				{Name: "nothing-else", Action: securityv1alpha1.ActionDeny, To: []securityv1alpha1.Peer{{Networks: everyone}}},
			}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "forgery-fz-partner-api"}, Spec: securityv1alpha1.ClusterSecurityPolicySpec{
			Tier: securityv1alpha1.TierSecurity, Priority: 720, Subject: securityv1alpha1.Subject{Namespaces: nsName(victimNS)},
			Egress: []securityv1alpha1.EgressRule{{Name: "allow-partner-api", Action: securityv1alpha1.ActionAllow,
				To: []securityv1alpha1.Peer{{Networks: []securityv1alpha1.CIDR{"192.0.2.0/24"}}}}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "forgery-partner-api-only-fz"}, Spec: securityv1alpha1.ClusterSecurityPolicySpec{
			Tier: securityv1alpha1.TierSecurity, Priority: 730, Subject: securityv1alpha1.Subject{Namespaces: nsName(tenantNS, victimNS)},
			Egress: []securityv1alpha1.EgressRule{{Name: "deny-partner-api", Action: securityv1alpha1.ActionDeny,
				To: []securityv1alpha1.Peer{{Networks: []securityv1alpha1.CIDR{"192.0.2.0/24"}}}}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "forgery-baseline-fz-reporting"}, Spec: securityv1alpha1.ClusterSecurityPolicySpec{
			Tier: securityv1alpha1.TierBaseline, Priority: 700, Subject: securityv1alpha1.Subject{Namespaces: nsName(victimNS)},
			Egress: []securityv1alpha1.EgressRule{{Name: "allow-reporting", Action: securityv1alpha1.ActionAllow,
				To: []securityv1alpha1.Peer{{Networks: []securityv1alpha1.CIDR{"198.51.100.0/24"}}}}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "forgery-baseline-reporting-only-fz"}, Spec: securityv1alpha1.ClusterSecurityPolicySpec{
			Tier: securityv1alpha1.TierBaseline, Priority: 710, Subject: securityv1alpha1.Subject{Namespaces: nsName(tenantNS, victimNS)},
			Egress: []securityv1alpha1.EgressRule{{Name: "deny-reporting", Action: securityv1alpha1.ActionDeny,
				To: []securityv1alpha1.Peer{{Networks: []securityv1alpha1.CIDR{"198.51.100.0/24"}}}}}}},
	}
	// fz's developers admit only fx's client to svc-c.
	netpol := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: victimNS, Name: "svc-c-from-client"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "svc-c"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: nsName(tenantNS),
					PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "client"}}}},
				Ports: []networkingv1.NetworkPolicyPort{{Port: ptr.To(intstr.FromString("http"))}},
			}},
		}}
	pod := func(ns, name string, labels map[string]string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.invalid/app",
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}}}
	}
	pods := []*corev1.Pod{
		pod(victimNS, "svc-c", map[string]string{"app": "svc-c"}),
		pod(victimNS, "svc-d", map[string]string{"app": "svc-d"}),
		pod(tenantNS, "client", map[string]string{"app": "client"}),
		// The pod, and the same trick with NCP's other identity scopes.
		pod(tenantNS, "spoofer", map[string]string{"app": "svc-c", "ncp/project": victimNS}),
		pod(tenantNS, "spoofer-pod", map[string]string{"app": "svc-c", "ncp/pod": "svc-c"}),
		pod(tenantNS, "spoofer-cluster", map[string]string{"app": "svc-c", "ncp/cluster": clusterID}),
		// A pod of fz that claims to be fx's client.
		pod(victimNS, "spoofer-client", map[string]string{"app": "client", "ncp/project": tenantNS}),
	}
	spoofers := []string{"fx/spoofer", "fx/spoofer-pod", "fx/spoofer-cluster"}

	BeforeAll(func(ctx context.Context) {
		for _, ns := range []string{tenantNS, victimNS} {
			Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		}
		for _, p := range pods {
			Expect(k8s.Create(ctx, p)).To(Succeed(), "creating pod %s/%s: this suite has no admission policy", p.Namespace, p.Name)
		}
		for _, p := range policies {
			Expect(k8s.Create(ctx, p)).To(Succeed())
		}
		Expect(k8s.Create(ctx, netpol)).To(Succeed())
		DeferCleanup(func(ctx context.Context) {
			for _, o := range append([]client.Object{netpol}, objects(policies, pods)...) {
				Expect(client.IgnoreNotFound(k8s.Delete(ctx, o))).To(Succeed())
			}
			Expect(emu.WaitForSync(ctx)).To(Succeed())
		})
		Expect(emu.WaitForSync(ctx)).To(Succeed())
		Eventually(ctx, allCurrent).Should(Succeed())
	})

	It("keeps every spoofer out while the pods it imitates keep their access", func(ctx context.Context) {
		Eventually(ctx, func() error {
			var wrong []string
			// check traces f and looks at the side that should decide: "in" at the destination,
			// "out" at the source.
			check := func(what string, f dataplane.Flow, allowed bool, at, decidedBy string) {
				res, err := sim.Traceflow(ctx, f)
				if err != nil {
					wrong = append(wrong, what+": "+err.Error())
					return
				}
				side := res.Destination
				if at == "out" {
					side = res.Source
				}
				if res.Allowed != allowed || !strings.Contains(side.RuleName, decidedBy) {
					wrong = append(wrong, fmt.Sprintf("%s: allowed=%v, %s decided by %q %q; want allowed=%v by %q",
						what, res.Allowed, at, side.SectionName, side.RuleName, allowed, decidedBy))
				}
			}
			ports := podPorts()
			for _, s := range spoofers {
				check(s+" → fz/svc-d (ingress peer)", flow(ports, s, "fz/svc-d"), false, "in", "ingress reject-rest")
				check("fx/client → "+s+" (egress peer)", flow(ports, "fx/client", s), false, "out", "egress nothing-else")
				check(s+" → partner API (Security, subject by namespace)", flowTo(ports, s, partnerAPI), false, "out", "egress deny-partner-api")
				check(s+" → reporting (Baseline, subject by namespace)", flowTo(ports, s, reporting), false, "out", "egress deny-reporting")
			}
			check("fz/spoofer-client → fz/svc-c (NetworkPolicy peer)", flow(ports, "fz/spoofer-client", "fz/svc-c"), false, "in", "isolate ingress")
			check("fz/svc-c → fz/svc-d", flow(ports, "fz/svc-c", "fz/svc-d"), true, "in", "ingress allow-svc-c")
			check("fx/client → fz/svc-c", flow(ports, "fx/client", "fz/svc-c"), true, "in", "ingress 0")
			check("fz/svc-c → partner API", flowTo(ports, "fz/svc-c", partnerAPI), true, "out", "egress allow-partner-api")
			check("fz/svc-c → reporting", flowTo(ports, "fz/svc-c", reporting), true, "out", "egress allow-reporting")
			if len(wrong) > 0 {
				return fmt.Errorf("%s", strings.Join(wrong, "\n"))
			}
			return nil
		}).Should(Succeed())
	})

	It("says on the policies which rules a forged label affected, naming the pod and the label", func(ctx context.Context) {
		Eventually(ctx, func(g Gomega) {
			p, err := csp(ctx, "forgery-protect-d")
			g.Expect(err).NotTo(HaveOccurred())
			accepted := cond(p, securityv1alpha1.ConditionAccepted)
			g.Expect(accepted.Reason).To(Equal(securityv1alpha1.ReasonCompiledWithWarnings))
			g.Expect(accepted.Message).To(And(ContainSubstring(ir.WarnForgedIdentityLabel), ContainSubstring("rule ingress/allow-svc-c"),
				ContainSubstring("fx/spoofer"), ContainSubstring("ncp/project=fz")))
			g.Expect(cond(p, securityv1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue), "a warning does not stop the policy")
		}).Should(Succeed())
		// fz's NetworkPolicy is fooled twice (fx/spoofer would join its subjects, fz/spoofer-client
		// its peers); one event lists every warning.
		Eventually(ctx, func() ([]string, error) { return eventMessages(ctx, victimNS, netpol.Name) }).Should(ContainElement(
			And(ContainSubstring(ir.WarnForgedIdentityLabel), ContainSubstring("rule ingress/0"),
				ContainSubstring("fx/spoofer (ncp/project=fz)"), ContainSubstring("fz/spoofer-client (ncp/project=fx)"))))
	})
})

func objects(policies []*securityv1alpha1.ClusterSecurityPolicy, pods []*corev1.Pod) []client.Object {
	var out []client.Object
	for _, p := range policies {
		out = append(out, p)
	}
	for _, p := range pods {
		out = append(out, p)
	}
	return out
}

type podPort struct{ id, ip string }

// podPorts are the logical ports the NCP emulator holds, by "namespace/name".
func podPorts() map[string]podPort {
	out := map[string]podPort{}
	for _, p := range emu.Ports() {
		pp := podPort{id: p.PortID}
		if len(p.IPs) > 0 {
			pp.ip = p.IPs[0].String()
		}
		out[p.Pod.String()] = pp
	}
	return out
}

func flow(ports map[string]podPort, src, dst string) dataplane.Flow {
	return dataplane.Flow{SrcPortID: ports[src].id, SrcIP: ports[src].ip, DstPortID: ports[dst].id, DstIP: ports[dst].ip, Protocol: "TCP", DstPort: 8080}
}

func flowTo(ports map[string]podPort, src, ip string) dataplane.Flow {
	return dataplane.Flow{SrcPortID: ports[src].id, SrcIP: ports[src].ip, DstIP: ip, Protocol: "TCP", DstPort: 443}
}

// eventMessages lists the notes of the events.k8s.io Events regarding one object.
func eventMessages(ctx context.Context, namespace, name string) ([]string, error) {
	list := &eventsv1.EventList{}
	if err := k8s.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil, err
	}
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Name == name {
			out = append(out, e.Note)
		}
	}
	return out, nil
}
