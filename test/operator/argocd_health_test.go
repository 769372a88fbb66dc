package operator_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/argocd"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/testenv"
)

// The README's Argo CD health check (config/argocd/health.lua), run by Argo CD's Lua interpreter
// on the ClusterSecurityPolicy exactly as the API server returns it while the operator works on
// it: Progressing until programmed, Healthy when Ready, Progressing while NSX is down and while
// the operator has not observed an edit, Degraded when a human must act.
var _ = Describe("the Argo CD health check", Ordered, func() {
	const name = "argocd-health"
	var script string

	BeforeAll(func() {
		root, err := testenv.ProjectRoot()
		Expect(err).NotTo(HaveOccurred())
		script, err = argocd.ReadScript(root)
		Expect(err).NotTo(HaveOccurred())
	})

	// health evaluates the script on the object as Argo CD sees it: unstructured, from the API server.
	health := func(obj client.Object) argocd.Health {
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		Expect(err).NotTo(HaveOccurred())
		h, err := argocd.Evaluate(script, u)
		Expect(err).NotTo(HaveOccurred())
		return h
	}
	healthNow := func(ctx context.Context) (argocd.Health, error) {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(securityv1alpha1.GroupVersion.WithKind("ClusterSecurityPolicy"))
		if err := k8s.Get(ctx, client.ObjectKey{Name: name}, u); err != nil {
			return argocd.Health{}, err
		}
		return argocd.Evaluate(script, u.Object)
	}

	policy := &securityv1alpha1.ClusterSecurityPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: securityv1alpha1.ClusterSecurityPolicySpec{
			Priority: 900,
			// The default namespace has no pods in this suite, and 192.0.2.0/24 is a documentation
			// network: the policy changes no verdict of the other specs, but a namespace subject
			// makes its rules real (a policy selecting nothing compiles to no rule to check).
			Subject: securityv1alpha1.Subject{Namespaces: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "default"}}},
			Ingress: []securityv1alpha1.IngressRule{{
				Name: "deny-lab", Action: securityv1alpha1.ActionDeny,
				From: []securityv1alpha1.Peer{{Networks: []securityv1alpha1.CIDR{"192.0.2.0/24"}}},
			}},
		},
	}

	It("is Progressing right after the policy is created, before the operator wrote any status", func(ctx context.Context) {
		Expect(k8s.Create(ctx, policy)).To(Succeed())
		// Create returns the object as stored: no status yet.
		Expect(policy.Status.Conditions).To(BeEmpty())
		Expect(health(policy)).To(Equal(argocd.Health{Status: argocd.Progressing, Message: "Waiting for microseg to compile and program the policy"}))
	})

	It("is Healthy once the operator reports Ready, with Ready's message", func(ctx context.Context) {
		Eventually(ctx, healthNow).Should(Equal(argocd.Health{Status: argocd.Healthy, Message: "The policy is compiled and programmed in NSX."}))
	})

	It("is Progressing while the operator has not observed an edit", func(ctx context.Context) {
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(policy), policy)).To(Succeed())
		policy.Spec.Priority = 901
		Expect(k8s.Update(ctx, policy)).To(Succeed())
		// Update returns the object as stored at once: the new generation with the old status.
		Expect(policy.Status.ObservedGeneration).To(Equal(policy.Generation - 1))
		Expect(apimeta.IsStatusConditionTrue(policy.Status.Conditions, securityv1alpha1.ConditionReady)).To(BeTrue())
		Expect(health(policy)).To(Equal(argocd.Health{Status: argocd.Progressing, Message: "Waiting for microseg to observe generation 2"}))
		Eventually(ctx, healthNow).Should(HaveField("Status", argocd.Healthy))
	})

	It("is Progressing while NSX is unavailable, with the reason, and Healthy again when it is back", func(ctx context.Context) {
		sim.SetFaults(nsxsim.Faults{Rules: []nsxsim.FaultRule{{Kind: nsxsim.FaultUnavailable}}})
		DeferCleanup(sim.ClearFaults)
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(policy), policy)).To(Succeed())
		policy.Spec.Ingress[0].Logged = true
		Expect(k8s.Update(ctx, policy)).To(Succeed())
		Eventually(ctx, func(g Gomega) {
			cur := &securityv1alpha1.ClusterSecurityPolicy{}
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(policy), cur)).To(Succeed())
			g.Expect(cur.Status.ObservedGeneration).To(Equal(cur.Generation))
			g.Expect(apimeta.IsStatusConditionTrue(cur.Status.Conditions, securityv1alpha1.ConditionReconciling)).To(BeTrue())
			h := health(cur)
			g.Expect(h.Status).To(Equal(argocd.Progressing))
			g.Expect(h.Message).To(ContainSubstring("503"))
		}).Should(Succeed())
		sim.ClearFaults()
		Eventually(ctx, healthNow).Should(HaveField("Status", argocd.Healthy))
	})

	It("is Degraded, with the operator's message, when the policy names an NSX group that does not exist", func(ctx context.Context) {
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(policy), policy)).To(Succeed())
		policy.Spec.Egress = []securityv1alpha1.EgressRule{{
			Name: "to-missing-group", Action: securityv1alpha1.ActionAllow,
			To: []securityv1alpha1.Peer{{NSXGroups: []securityv1alpha1.NSXGroupName{"microseg-argocd-test-no-such-group"}}},
		}}
		Expect(k8s.Update(ctx, policy)).To(Succeed())
		Eventually(ctx, func(g Gomega) {
			h, err := healthNow(ctx)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(h.Status).To(Equal(argocd.Degraded))
			g.Expect(h.Message).To(ContainSubstring("microseg-argocd-test-no-such-group"))
		}).Should(Succeed())

		By("and Healthy again once the reference is fixed")
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(policy), policy)).To(Succeed())
		policy.Spec.Egress = nil
		Expect(k8s.Update(ctx, policy)).To(Succeed())
		Eventually(ctx, healthNow).Should(HaveField("Status", argocd.Healthy))
	})

	AfterAll(func(ctx context.Context) {
		Expect(client.IgnoreNotFound(k8s.Delete(ctx, policy))).To(Succeed())
		Eventually(ctx, func() error { return k8s.Get(ctx, client.ObjectKeyFromObject(policy), policy) }).Should(Satisfy(apierrors.IsNotFound))
	})
})
