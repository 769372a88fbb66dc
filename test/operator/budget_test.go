package operator_test

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/budget"
	"github.com/microseg/microseg/internal/operator"
)

// The NSX budget: the operator runs with a rule budget a little above what the cluster uses; a
// NetworkPolicy that needs more rules than are left is never applied (NSX keeps the last DFW
// that fit), every ClusterSecurityPolicy says BudgetExceeded naming the namespace and the policy
// that take most, the NetworkPolicy gets an Event, and the metrics show usage above the limit.
// Removing the policy recovers without a write. The container brings its own namespace and
// policies, so that it does not depend on the order of the suite's containers.
var _ = Describe("the NSX budget", Ordered, func() {
	const ns = "bx"
	guard := &securityv1alpha1.ClusterSecurityPolicy{ObjectMeta: metav1.ObjectMeta{Name: "budget-guard"},
		Spec: securityv1alpha1.ClusterSecurityPolicySpec{Tier: securityv1alpha1.TierSecurity, Priority: 800,
			Subject: securityv1alpha1.Subject{Namespaces: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}}},
			Egress: []securityv1alpha1.EgressRule{{Name: "deny-metadata", Action: securityv1alpha1.ActionDeny,
				To: []securityv1alpha1.Peer{{Networks: []securityv1alpha1.CIDR{"169.254.169.254/32"}}}}}}}
	// wide needs one rule per ingress rule: peers and ports differ, so none merge.
	wide := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "wide"},
		Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}}}
	for i := range 12 {
		wide.Spec.Ingress = append(wide.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{
			From:  []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: fmt.Sprintf("10.200.%d.0/24", i)}}},
			Ports: []networkingv1.NetworkPolicyPort{{Port: ptr.To(intstr.FromInt32(int32(9000 + i)))}},
		})
	}

	BeforeAll(func(ctx context.Context) {
		Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		Expect(k8s.Create(ctx, guard)).To(Succeed())
		Eventually(ctx, allCurrent).Should(Succeed())
		DeferCleanup(func(ctx context.Context) {
			Expect(client.IgnoreNotFound(k8s.Delete(ctx, wide))).To(Succeed())
			Expect(k8s.Delete(ctx, guard)).To(Succeed())
			// Back to the suite's operator, with the default budget.
			op.stop()
			op = startOperator()
			Eventually(ctx, op.Synced).Should(BeTrue())
		})
		// The operator restarts with room for 5 more rules than the cluster takes now.
		used := budgetGauge("microseg_nsx_budget_used", budget.KindRules)
		Expect(used).To(BeNumerically(">", 0))
		op.stop()
		op = startOperator(func(o *operator.Options) { o.Budget = &budget.Budget{Rules: int(used) + 5} })
		Eventually(ctx, allCurrent).Should(Succeed())
	})

	It("leaves NSX untouched for a policy that does not fit, and says why where people look", func(ctx context.Context) {
		writes := dfwWrites()
		Expect(k8s.Create(ctx, wide)).To(Succeed())
		Eventually(ctx, func(g Gomega) {
			p, err := csp(ctx, guard.Name)
			g.Expect(err).NotTo(HaveOccurred())
			programmed := cond(p, securityv1alpha1.ConditionProgrammed)
			g.Expect(programmed.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(programmed.Reason).To(Equal(securityv1alpha1.ReasonBudgetExceeded))
			g.Expect(programmed.Message).To(And(ContainSubstring("--nsx-max-rules"), ContainSubstring("namespaces "+ns+" ("),
				ContainSubstring("np/"+ns+"/wide ("), ContainSubstring("last configuration that fit")))
			g.Expect(cond(p, securityv1alpha1.ConditionStalled).Reason).To(Equal(securityv1alpha1.ReasonBudgetExceeded))
		}).Should(Succeed())
		Eventually(ctx, func() ([]string, error) { return eventsAbout(ctx, ns, wide.Name) }).Should(ContainElement("Warning/" + securityv1alpha1.ReasonBudgetExceeded))
		Expect(budgetGauge("microseg_nsx_budget_used", budget.KindRules)).To(BeNumerically(">", budgetGauge("microseg_nsx_budget_limit", budget.KindRules)))
		// Through a periodic resync too: not one firewall write.
		Consistently(dfwWrites, 2*resyncPeriod, 500*time.Millisecond).Should(Equal(writes))
	})

	It("recovers when the policy goes, without writing to NSX", func(ctx context.Context) {
		writes := dfwWrites()
		Expect(k8s.Delete(ctx, wide)).To(Succeed())
		Eventually(ctx, allCurrent).Should(Succeed())
		p, err := csp(ctx, guard.Name)
		Expect(err).NotTo(HaveOccurred())
		Expect(cond(p, securityv1alpha1.ConditionProgrammed).Status).To(Equal(metav1.ConditionTrue))
		Expect(budgetGauge("microseg_nsx_budget_used", budget.KindRules)).To(BeNumerically("<=", budgetGauge("microseg_nsx_budget_limit", budget.KindRules)))
		Expect(dfwWrites()).To(Equal(writes), "NSX still holds the DFW the budget admitted")
	})
})

// budgetGauge reads one kind of microseg_nsx_budget_used or microseg_nsx_budget_limit.
func budgetGauge(name, kind string) float64 { return labelled(name, "kind", kind) }
