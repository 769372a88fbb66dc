package operator_test

import (
	"context"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/nsxsim/dataplane"
	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/nsxclient"
)

// A Staged ClusterSecurityPolicy: realized in NSX with its rules disabled, changing no traffic,
// its status counting the connections enforcing it would change (recomputed when pods come), and
// enforced with one NSX write. Own namespaces (sx: clients, sy: the server).
var _ = Describe("a Staged ClusterSecurityPolicy", Ordered, func() {
	const name = "staged-deny-sx"
	policy := &securityv1alpha1.ClusterSecurityPolicy{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: securityv1alpha1.ClusterSecurityPolicySpec{
		Tier: securityv1alpha1.TierSecurity, Priority: 800, Enforcement: securityv1alpha1.EnforcementStaged,
		Subject: securityv1alpha1.Subject{Pods: &securityv1alpha1.NamespacedPods{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "sy"}},
			PodSelector:       metav1.LabelSelector{MatchLabels: map[string]string{"app": "server"}}}},
		Ingress: []securityv1alpha1.IngressRule{{Name: "deny-sx", Action: securityv1alpha1.ActionDeny,
			From:  []securityv1alpha1.Peer{{Namespaces: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "sx"}}}},
			Ports: []securityv1alpha1.Port{{NamedPort: "http"}}}},
	}}
	pod := func(ns, name, app string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": app}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.invalid/app",
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}}}
	}
	server, client1, client2 := pod("sy", "server", "server"), pod("sx", "client-1", "client"), pod("sx", "client-2", "client")

	impact := func(ctx context.Context) (*securityv1alpha1.StagedImpact, error) {
		p, err := csp(ctx, name)
		if err != nil {
			return nil, err
		}
		if err := kstatusCurrent(p); err != nil {
			return nil, err
		}
		return p.Status.StagedImpact, nil
	}
	allowed := func(ctx context.Context, src, dst string) (bool, error) {
		ports, addrs := podEndpoints()
		if ports[src] == "" || ports[dst] == "" {
			return false, fmt.Errorf("no logical port yet for %s or %s", src, dst)
		}
		res, err := sim.Traceflow(ctx, dataplane.Flow{SrcPortID: ports[src], SrcIP: addrs[src], DstPortID: ports[dst], DstIP: addrs[dst], Protocol: "TCP", DstPort: 8080})
		return res.Allowed, err
	}

	BeforeAll(func(ctx context.Context) {
		for _, ns := range []string{"sx", "sy"} {
			Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		}
		for _, p := range []*corev1.Pod{server, client1} {
			Expect(k8s.Create(ctx, p)).To(Succeed())
		}
		Expect(k8s.Create(ctx, policy)).To(Succeed())
		DeferCleanup(func(ctx context.Context) {
			for _, o := range []client.Object{policy, server, client1, client2} {
				Expect(client.IgnoreNotFound(k8s.Delete(ctx, o))).To(Succeed())
			}
			Expect(emu.WaitForSync(ctx)).To(Succeed())
		})
		Expect(emu.WaitForSync(ctx)).To(Succeed())
	})

	It("is in NSX with its rules disabled and changes no traffic", func(ctx context.Context) {
		Eventually(ctx, func() error {
			if _, err := impact(ctx); err != nil {
				return err
			}
			ok, err := allowed(ctx, "sx/client-1", "sy/server")
			if err == nil && !ok {
				err = fmt.Errorf("sx/client-1 → sy/server is denied while the policy is only staged")
			}
			return err
		}).Should(Succeed())
		disabled := stagedRules(ctx, name)
		Expect(disabled).NotTo(BeEmpty(), "the staged policy's rules are in NSX (%s API)", nsxAPI)
		for rule, off := range disabled {
			Expect(off).To(BeTrue(), "rule %s of a staged policy", rule)
		}
	})

	It("reports the connections enforcing it would deny, and counts again when a pod comes", func(ctx context.Context) {
		Eventually(ctx, impact).Should(And(Not(BeNil()), HaveField("Flips", int32(1)), HaveField("NewlyDenied", int32(1)),
			HaveField("LowerBound", false), HaveField("Ports", ContainElement("8080/TCP"))))
		imp, err := impact(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(imp.Examples).To(ConsistOf(securityv1alpha1.ImpactExample{Source: "sx/client-1", Destination: "sy/server", Port: "8080/TCP",
			Now: "allowed", IfEnforced: "denied", Rule: "ClusterSecurityPolicy/" + name + " ingress/deny-sx"}))

		Expect(k8s.Create(ctx, client2)).To(Succeed())
		Eventually(ctx, impact).Should(HaveField("Flips", int32(2)))
	})

	It("takes effect with one NSX write when enforced, and drops the impact from its status", func(ctx context.Context) {
		Expect(emu.WaitForSync(ctx)).To(Succeed())
		Eventually(ctx, func() error { _, err := allowed(ctx, "sx/client-2", "sy/server"); return err }).Should(Succeed())
		writes := dfwWrites()
		p, err := csp(ctx, name)
		Expect(err).NotTo(HaveOccurred())
		p.Spec.Enforcement = securityv1alpha1.EnforcementEnforced
		Expect(k8s.Update(ctx, p)).To(Succeed())
		Eventually(ctx, func() error {
			imp, err := impact(ctx)
			if err == nil && imp != nil {
				err = fmt.Errorf("status.stagedImpact still set on an enforced policy")
			}
			return err
		}).Should(Succeed())
		for _, src := range []string{"sx/client-1", "sx/client-2"} {
			Expect(allowed(ctx, src, "sy/server")).To(BeFalse(), "%s → sy/server once enforced", src)
		}
		Expect(dfwWrites()-writes).To(Equal(int64(1)), "enforcing a staged policy without Pass rules is one NSX write (%s API)", nsxAPI)
	})
})

// stagedRules reads, on the API the operator speaks now (the suite's containers run in random
// order, and the Policy stories leave the operator on the Policy API), whether each NSX rule of a
// ClusterSecurityPolicy is disabled, by rule name.
func stagedRules(ctx context.Context, csp string) map[string]bool {
	out := map[string]bool{}
	if nsxAPI != "policy" {
		st := readOwned(ctx)
		section, found := st.sections[sectionOf(csp)]
		if !found {
			return out
		}
		for _, r := range st.rules[section.ID] {
			out[r.DisplayName] = r.Disabled
		}
		return out
	}
	policies, err := admin.Policy().ListSecurityPolicies(ctx, "default", nsxclient.ListSecurityPoliciesOptions{})
	Expect(err).NotTo(HaveOccurred())
	for _, p := range policies {
		if ownership.TagValue(p.Tags, ownership.TagKey) != ownership.EncodeKey(sectionOf(csp)) {
			continue
		}
		rules, err := admin.Policy().ListRules(ctx, "default", p.ID, nsxclient.PolicyListOptions{})
		Expect(err).NotTo(HaveOccurred())
		for _, r := range rules {
			out[r.DisplayName] = r.Disabled
		}
	}
	return out
}

// dfwWrites counts microseg's DFW writes on the API the operator speaks now.
func dfwWrites() int64 {
	if nsxAPI == "policy" {
		return policyWrites()
	}
	return firewallWrites()
}
