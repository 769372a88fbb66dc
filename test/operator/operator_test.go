package operator_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/operator"
	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/nsxclient"
)

// longWait bounds what needs kube-controller-manager and the NCP emulator (pods coming up).
const longWait = 60 * time.Second

var _ = Describe("the operator", Ordered, func() {
	It("realizes the reference scenario from config/samples: every policy Ready, the reference table in NSX", func(ctx context.Context) {
		for _, o := range samples() {
			Expect(k8s.Create(ctx, o)).To(Succeed(), "creating %s %s", o.GetKind(), o.GetName())
		}
		for service := range namespaceOf {
			Eventually(ctx, func() ([]string, error) { return podsOf(ctx, service) }).WithTimeout(longWait).Should(HaveLen(2))
		}
		Expect(emu.WaitForSync(ctx)).To(Succeed())
		Eventually(ctx, allCurrent).Should(Succeed())
		Eventually(ctx, func() error { return checkTable(ctx, referenceTable) }).Should(Succeed())
		Expect(op.Synced()).To(BeTrue())
		Expect(nsxsync.Syncs()).To(BeNumerically(">", syncsAtStart), "the operator syncs through the one sync path, internal/nsxsync")

		By("status.realized naming what NSX holds")
		p, err := csp(ctx, "protect-service-d")
		Expect(err).NotTo(HaveOccurred())
		r := p.Status.Realized
		Expect(r).NotTo(BeNil())
		Expect(r.RuleCount).To(BeNumerically(">", 0))
		Expect(r.GroupIDs).To(HaveLen(int(r.GroupCount)))
		st := readOwned(ctx)
		Expect(r.SectionIDs).To(Equal([]string{st.sections[sectionOf("protect-service-d")].ID}))
		for _, id := range r.GroupIDs {
			Expect(st.groups).To(HaveKey(id))
		}
		Expect(cond(p, securityv1alpha1.ConditionAccepted).Reason).To(Equal(securityv1alpha1.ReasonCompiled))
		Expect(cond(p, securityv1alpha1.ConditionProgrammed).Reason).To(Equal(securityv1alpha1.ReasonProgrammed))

		By("a Programmed event on each NetworkPolicy")
		Eventually(ctx, func() ([]string, error) { return eventsAbout(ctx, "y1", "service-b-from-service-a") }).Should(ContainElement("Normal/Programmed"))
		Eventually(ctx, func() ([]string, error) { return eventsAbout(ctx, "z1", "service-c-from-a-and-b") }).Should(ContainElement("Normal/Programmed"))
	})

	It("keeps the table right for the new pods while Deployments scale up and down", func(ctx context.Context) {
		for _, step := range []struct {
			service  string
			replicas int32
		}{{"service-b", 3}, {"service-d", 1}, {"service-c", 3}, {"service-b", 1}, {"service-b", 2}, {"service-c", 2}, {"service-d", 2}} {
			By(fmt.Sprintf("scaling %s to %d", step.service, step.replicas))
			scale(ctx, step.service, step.replicas)
			Eventually(ctx, func() error { return checkTable(ctx, referenceTable) }).Should(Succeed())
		}
		Eventually(ctx, allCurrent).Should(Succeed())
	})

	It("reports what NSX cannot express on the NetworkPolicy, and a missing NSX group on the ClusterSecurityPolicy", func(ctx context.Context) {
		sctp := corev1.ProtocolSCTP
		np := &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "service-c-sctp", Namespace: "z1"},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "service-c"}},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{
					From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "service-c"}}}},
					Ports: []networkingv1.NetworkPolicyPort{{Protocol: &sctp, Port: ptr.To(intstr.FromInt32(9999))}},
				}},
			},
		}
		Expect(k8s.Create(ctx, np)).To(Succeed())
		DeferCleanup(func(ctx context.Context) { Expect(k8s.Delete(ctx, np)).To(Succeed()) })
		Eventually(ctx, func() ([]string, error) { return eventsAbout(ctx, "z1", np.Name) }).Should(ContainElement("Warning/NotExactlyExpressible"))

		missing := &securityv1alpha1.ClusterSecurityPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "egress-to-missing-group"},
			Spec: securityv1alpha1.ClusterSecurityPolicySpec{
				Tier:     securityv1alpha1.TierSecurity,
				Priority: 500,
				Subject: securityv1alpha1.Subject{Pods: &securityv1alpha1.NamespacedPods{
					NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "x1"}},
					PodSelector:       metav1.LabelSelector{MatchLabels: map[string]string{"app": "service-a"}},
				}},
				Egress: []securityv1alpha1.EgressRule{{
					Name: "to-databases", Action: securityv1alpha1.ActionAllow,
					To: []securityv1alpha1.Peer{{NSXGroups: []securityv1alpha1.NSXGroupName{"no-such-nsx-group"}}},
				}},
			},
		}
		Expect(k8s.Create(ctx, missing)).To(Succeed())
		DeferCleanup(func(ctx context.Context) { Expect(k8s.Delete(ctx, missing)).To(Succeed()) })
		Eventually(ctx, func(g Gomega) {
			p, err := csp(ctx, missing.Name)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(p.Status.ObservedGeneration).To(Equal(p.Generation))
			g.Expect(cond(p, securityv1alpha1.ConditionAccepted).Status).To(Equal(metav1.ConditionTrue))
			programmed := cond(p, securityv1alpha1.ConditionProgrammed)
			g.Expect(programmed.Reason).To(Equal(securityv1alpha1.ReasonInvalidReference))
			g.Expect(programmed.Message).To(ContainSubstring("no-such-nsx-group"))
			g.Expect(cond(p, securityv1alpha1.ConditionStalled).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(cond(p, securityv1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionFalse))
			g.Expect(cond(p, securityv1alpha1.ConditionReconciling).Type).To(BeEmpty())
		}).Should(Succeed())
		// The rest of the DFW is unaffected.
		Expect(checkTable(ctx, referenceTable)).To(Succeed())
	})

	It("removes a deleted policy's section and the groups nothing else uses", func(ctx context.Context) {
		p, err := csp(ctx, "protect-service-d")
		Expect(err).NotTo(HaveOccurred())
		itsGroups := p.Status.Realized.GroupIDs
		Expect(k8s.Delete(ctx, p)).To(Succeed())

		Eventually(ctx, func() error {
			st := readOwned(ctx)
			if _, ok := st.sections[sectionOf("protect-service-d")]; ok {
				return fmt.Errorf("the section of protect-service-d is still in NSX")
			}
			used := st.referenced()
			for id, key := range st.groups {
				if !used[id] {
					return fmt.Errorf("group %s (%s) is in NSX but no rule uses it", id, key)
				}
			}
			return nil
		}).Should(Succeed())
		st := readOwned(ctx)
		var gone []string
		for _, id := range itsGroups {
			if _, ok := st.groups[id]; !ok {
				gone = append(gone, id)
			}
		}
		Expect(gone).NotTo(BeEmpty(), "the groups only protect-service-d used are deleted")
		// Without the security team's policy, the Baseline tier isolates service-d from service-c too.
		Eventually(ctx, func() error {
			return checkTable(ctx, tableWith(map[[2]string]bool{{"service-c", "service-d"}: false}))
		}).Should(Succeed())

		By("creating it again")
		Expect(k8s.Create(ctx, sample("ClusterSecurityPolicy", "protect-service-d"))).To(Succeed())
		Eventually(ctx, allCurrent).Should(Succeed())
		Eventually(ctx, func() error { return checkTable(ctx, referenceTable) }).Should(Succeed())
	})

	It("repairs edits made in NSX behind its back at the next periodic resync", func(ctx context.Context) {
		Eventually(ctx, allCurrent).Should(Succeed())
		section := readOwned(ctx).sections[sectionOf("protect-service-d")]
		want := ruleSummary(readOwned(ctx).rules[section.ID])
		repairs := metricValue("microseg_drift_repairs_total")

		By("turning the REJECT rule into an ALLOW and deleting the other rule")
		rules, err := admin.ListRules(ctx, section.ID)
		Expect(err).NotTo(HaveOccurred())
		Expect(len(rules)).To(BeNumerically(">=", 2))
		var edited bool
		for _, r := range rules {
			if r.Action == "REJECT" && !edited {
				r.Action = "ALLOW"
				_, err := admin.UpdateRule(ctx, section.ID, r)
				Expect(err).NotTo(HaveOccurred())
				edited = true
			} else {
				Expect(admin.DeleteRule(ctx, section.ID, r.ID)).To(Succeed())
			}
		}
		Expect(edited).To(BeTrue())
		Eventually(ctx, func() []string { return ruleSummary(readOwned(ctx).rules[section.ID]) }).Should(Equal(want))
		Eventually(ctx, func() error { return checkTable(ctx, referenceTable) }).Should(Succeed())
		Expect(metricValue("microseg_drift_repairs_total")).To(BeNumerically(">", repairs))

		By("deleting the whole section")
		Expect(admin.DeleteSection(ctx, section.ID, true)).To(Succeed())
		Eventually(ctx, func(g Gomega) {
			now, ok := readOwned(ctx).sections[sectionOf("protect-service-d")]
			g.Expect(ok).To(BeTrue(), "the section is back")
			p, err := csp(ctx, "protect-service-d")
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(p.Status.Realized.SectionIDs).To(Equal([]string{now.ID}))
		}).Should(Succeed())
		Eventually(ctx, func() error { return checkTable(ctx, referenceTable) }).Should(Succeed())
		Eventually(ctx, allCurrent).Should(Succeed())
	})

	It("repairs a group edited in NSX behind its back within the verification window", func(ctx context.Context) {
		Eventually(ctx, allCurrent).Should(Succeed())
		Eventually(ctx, func() error { return checkTable(ctx, referenceTable) }).Should(Succeed())
		groups, err := admin.ListNSGroups(ctx, nsxclient.ListNSGroupsOptions{})
		Expect(err).NotTo(HaveOccurred())
		var edited nsxclient.NSGroup
		for _, g := range groups {
			if ownership.Owned(g.Tags, clusterID) && len(g.MembershipCriteria) > 0 {
				edited = g
				break
			}
		}
		Expect(edited.ID).NotTo(BeEmpty(), "microseg owns a tag group")
		want := edited.MembershipCriteria

		By("pointing the group's criteria at pods it must not select")
		edited.MembershipCriteria = slices.Clone(want)
		if c := &edited.MembershipCriteria[0]; len(c.Expressions) > 0 {
			c.Expressions = slices.Clone(c.Expressions)
			c.Expressions[len(c.Expressions)-1].Tag = "not-a-pod"
		} else {
			c.Tag = "not-a-pod"
		}
		_, err = admin.UpdateNSGroup(ctx, edited)
		Expect(err).NotTo(HaveOccurred())
		start := time.Now()
		Eventually(ctx, func(g Gomega) {
			cur, err := admin.GetNSGroup(ctx, edited.ID)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(cur.MembershipCriteria).To(Equal(want))
		}).WithTimeout(verifyWindow + 10*resyncPeriod).Should(Succeed())
		GinkgoWriter.Printf("group repaired %s after the edit (window %s, resync %s)\n", time.Since(start).Round(100*time.Millisecond), verifyWindow, resyncPeriod)
		Eventually(ctx, func() error { return checkTable(ctx, referenceTable) }).Should(Succeed())
	})

	It("reports NSXUnavailable while NSX answers 503, and converges when NSX recovers", func(ctx context.Context) {
		sim.SetFaults(nsxsim.Faults{Rules: []nsxsim.FaultRule{{Kind: nsxsim.FaultUnavailable}}})
		DeferCleanup(sim.ClearFaults)

		By("changing a policy while NSX is down")
		p, err := csp(ctx, "protect-service-d")
		Expect(err).NotTo(HaveOccurred())
		p.Spec.Ingress[0].Logged = true
		Expect(k8s.Update(ctx, p)).To(Succeed())
		Eventually(ctx, func(g Gomega) {
			cur, err := csp(ctx, p.Name)
			g.Expect(err).NotTo(HaveOccurred())
			programmed := cond(cur, securityv1alpha1.ConditionProgrammed)
			g.Expect(programmed.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(programmed.Reason).To(Equal(securityv1alpha1.ReasonNSXUnavailable))
			g.Expect(programmed.Message).To(ContainSubstring("503"))
			g.Expect(programmed.ObservedGeneration).To(Equal(cur.Generation))
			g.Expect(cond(cur, securityv1alpha1.ConditionReady).Reason).To(Equal(securityv1alpha1.ReasonNSXUnavailable))
			g.Expect(cond(cur, securityv1alpha1.ConditionReconciling).Status).To(Equal(metav1.ConditionTrue))
		}).Should(Succeed())
		Eventually(ctx, func() ([]string, error) { return eventsAbout(ctx, "y1", "service-b-from-service-a") }).Should(ContainElement("Warning/NSXUnavailable"))

		By("NSX recovering")
		sim.ClearFaults()
		Eventually(ctx, allCurrent).Should(Succeed())
		section := readOwned(ctx).sections[sectionOf("protect-service-d")]
		Expect(readOwned(ctx).rules[section.ID]).To(ContainElement(And(
			HaveField("DisplayName", ContainSubstring("allow-service-c")), HaveField("Logged", BeTrue()))))
		Expect(checkTable(ctx, referenceTable)).To(Succeed())
	})

	It("makes no NSX write and no status write when restarted against unchanged state", func(ctx context.Context) {
		Eventually(ctx, allCurrent).Should(Succeed())
		Eventually(ctx, func() error { return checkTable(ctx, referenceTable) }).Should(Succeed())
		Eventually(func() float64 { return metricValue("microseg_pending_changes") }).Should(BeZero())
		op.stop()

		writes, reads, statusWritesBefore := firewallWrites(), firewallReads(), statusWrites.Load()
		Expect(writes).To(BeNumerically(">", 0), "the counter sees the first operator's writes")
		Expect(statusWritesBefore).To(BeNumerically(">", 0), "the counter sees the first operator's status writes")
		versions := map[string]string{}
		list := &securityv1alpha1.ClusterSecurityPolicyList{}
		Expect(k8s.List(ctx, list)).To(Succeed())
		for _, p := range list.Items {
			versions[p.Name] = p.ResourceVersion
		}

		syncs := nsxsync.Syncs()
		op = startOperator()
		Eventually(op.Synced).Should(BeTrue())
		Expect(nsxsync.Syncs()).To(BeNumerically(">", syncs), "the restarted operator syncs through internal/nsxsync")
		// The first sync and at least one periodic resync have read NSX.
		Eventually(firewallReads).Should(BeNumerically(">=", reads+2))
		Expect(firewallWrites()).To(Equal(writes), "NSX writes after the restart")
		Expect(statusWrites.Load()).To(Equal(statusWritesBefore), "status writes after the restart")
		Expect(k8s.List(ctx, list)).To(Succeed())
		for _, p := range list.Items {
			Expect(p.ResourceVersion).To(Equal(versions[p.Name]), "%s was written after the restart", p.Name)
		}
	})

	It("in dry-run mode plans but writes nothing to NSX, and says so on the policies", func(ctx context.Context) {
		op.stop()
		writes := firewallWrites()
		dry := startOperator(func(o *operator.Options) { o.DryRun = true })
		p, err := csp(ctx, "protect-service-d")
		Expect(err).NotTo(HaveOccurred())
		p.Spec.Ingress[0].Logged = false
		Expect(k8s.Update(ctx, p)).To(Succeed())
		Eventually(ctx, func(g Gomega) {
			cur, err := csp(ctx, p.Name)
			g.Expect(err).NotTo(HaveOccurred())
			programmed := cond(cur, securityv1alpha1.ConditionProgrammed)
			g.Expect(programmed.Reason).To(Equal(securityv1alpha1.ReasonDryRun))
			g.Expect(programmed.ObservedGeneration).To(Equal(cur.Generation))
			g.Expect(cond(cur, securityv1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionFalse))
			g.Expect(cond(cur, securityv1alpha1.ConditionReconciling).Type).To(BeEmpty())
			g.Expect(cond(cur, securityv1alpha1.ConditionStalled).Type).To(BeEmpty())
		}).Should(Succeed())
		Expect(dry.Synced()).To(BeTrue(), "a computed dry-run plan makes the operator ready")
		Expect(firewallWrites()).To(Equal(writes), "NSX writes in dry-run mode")
		section := readOwned(ctx).sections[sectionOf("protect-service-d")]
		Expect(readOwned(ctx).rules[section.ID]).To(ContainElement(And(
			HaveField("DisplayName", ContainSubstring("allow-service-c")), HaveField("Logged", BeTrue()))), "NSX still holds the previous generation")
		dry.stop()

		By("leaving dry-run mode")
		op = startOperator()
		Eventually(ctx, allCurrent).Should(Succeed())
		Expect(readOwned(ctx).rules[section.ID]).To(ContainElement(And(
			HaveField("DisplayName", ContainSubstring("allow-service-c")), HaveField("Logged", BeFalse()))))
	})

	It("leaves every ClusterSecurityPolicy Current by the kstatus rules Flux and Argo CD apply", func(ctx context.Context) {
		Eventually(ctx, allCurrent).Should(Succeed())
		list := &securityv1alpha1.ClusterSecurityPolicyList{}
		Expect(k8s.List(ctx, list)).To(Succeed())
		Expect(list.Items).To(HaveLen(2))
		for i := range list.Items {
			Expect(kstatusCurrent(&list.Items[i])).To(Succeed())
		}
	})

	policyStories()
})

// cond returns a condition of a policy (the zero value when absent).
func cond(p *securityv1alpha1.ClusterSecurityPolicy, typ string) metav1.Condition {
	for _, c := range p.Status.Conditions {
		if c.Type == typ {
			return c
		}
	}
	return metav1.Condition{}
}

// ruleSummary is what matters of a section's rules for the DFW's verdicts, in order.
func ruleSummary(rules []nsxclient.FirewallRule) []string {
	out := make([]string, 0, len(rules))
	for _, r := range rules {
		out = append(out, fmt.Sprintf("%s %s %s %s", r.DisplayName, r.Action, r.Direction, r.Notes))
	}
	return out
}
