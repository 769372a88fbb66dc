package operator_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/nsxconn"
	"github.com/microseg/microseg/internal/nsxsim"
)

// Credentials never leave the operator's memory except towards NSX: after a stretch of NSX faults
// (429, 503, 500/607, dropped connections) and a stretch of wrong credentials, neither password —
// nor its Basic-auth encoding — appears in the operator's log, in any Event, in any
// ClusterSecurityPolicy status, or in the errors those carry.
var _ = Describe("credentials", Ordered, func() {
	const wrongPassword = "Wrong-Passw0rd-From-A-Bad-Rotation"

	writePassword := func(p string) {
		Expect(os.WriteFile(filepath.Join(credsDir, nsxconn.PasswordFile), []byte(p+"\n"), 0o600)).To(Succeed())
	}

	It("never appear in logs, events or statuses, through NSX faults and a wrong password", func(ctx context.Context) {
		// A policy of this spec's own, so that the spec does not depend on the others' order.
		policy := &securityv1alpha1.ClusterSecurityPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "secrets-probe"},
			Spec: securityv1alpha1.ClusterSecurityPolicySpec{
				Priority: 950,
				Subject:  securityv1alpha1.Subject{Namespaces: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "default"}}},
				Ingress: []securityv1alpha1.IngressRule{{Name: "deny-doc-net", Action: securityv1alpha1.ActionDeny,
					From: []securityv1alpha1.Peer{{Networks: []securityv1alpha1.CIDR{"198.51.100.0/24"}}}}},
			},
		}
		Expect(k8s.Create(ctx, policy)).To(Succeed())
		DeferCleanup(func(ctx context.Context) { Expect(k8s.Delete(ctx, policy)).To(Succeed()) })
		// And a NetworkPolicy, whose Events carry the operator's errors.
		netpol := &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "secrets-probe"},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "secrets-probe"}},
				Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "203.0.113.0/24"}}}}},
			},
		}
		Expect(k8s.Create(ctx, netpol)).To(Succeed())
		DeferCleanup(func(ctx context.Context) { Expect(k8s.Delete(ctx, netpol)).To(Succeed()) })
		ready := func(g Gomega) {
			p, err := csp(ctx, policy.Name)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(kstatusCurrent(p)).To(Succeed())
		}
		Eventually(ctx, ready).Should(Succeed())

		By("answering a third of the calls with 429, 503, 500/607 or a dropped connection for a few resyncs")
		sim.SetFaults(nsxsim.Faults{Seed: 5, Rules: []nsxsim.FaultRule{
			{Kind: nsxsim.FaultTooManyRequests, Probability: 0.15},
			{Kind: nsxsim.FaultUnavailable, Probability: 0.1},
			{Kind: nsxsim.FaultReconfiguring, Probability: 0.05},
			{Kind: nsxsim.FaultDrop, Probability: 0.05},
		}})
		DeferCleanup(sim.ClearFaults)
		time.Sleep(3 * resyncPeriod)
		sim.ClearFaults()

		By("restarting the operator with a wrong password in its Secret: it cannot log in")
		op.stop()
		writePassword(wrongPassword)
		DeferCleanup(func() { writePassword(nsxPassword) })
		op = startOperator()
		Eventually(ctx, func(g Gomega) {
			p, err := csp(ctx, policy.Name)
			g.Expect(err).NotTo(HaveOccurred())
			programmed := cond(p, securityv1alpha1.ConditionProgrammed)
			g.Expect(programmed.Reason).To(Equal(securityv1alpha1.ReasonNSXUnavailable))
			g.Expect(programmed.Message).To(ContainSubstring("the credentials are wrong"))
		}).Should(Succeed())

		By("rotating the Secret back: the running operator logs in again")
		writePassword(nsxPassword)
		Eventually(ctx, ready).Should(Succeed())

		By("searching the operator's log, every Event and every status for the passwords")
		secrets := map[string]string{"the password": nsxPassword, "the wrong password": wrongPassword}
		for what, p := range map[string]string{"the password": nsxPassword, "the wrong password": wrongPassword} {
			secrets["Basic auth of "+what] = base64.StdEncoding.EncodeToString([]byte(nsxUser + ":" + p))
		}
		// Each place must show the wrong password's failure, or searching it would prove nothing.
		logs, events := operatorLogs.String(), ""
		Expect(logs).To(ContainSubstring("the credentials are wrong"), "the wrong password left no trace in the log")
		Eventually(ctx, func() string { events = allEvents(ctx); return events }).Should(ContainSubstring("the credentials are wrong"),
			"the wrong password left no trace in the NetworkPolicy's Events")
		places := map[string]string{"the operator's log": logs, "Events": events, "statuses": allStatuses(ctx)}
		for where, text := range places {
			for what, secret := range secrets {
				Expect(strings.Contains(text, secret)).To(BeFalse(), "%s holds %s", where, what)
			}
		}
	})
})

// allEvents renders every Event of the cluster (both APIs), notes included.
func allEvents(ctx context.Context) string {
	var b strings.Builder
	core := &corev1.EventList{}
	Expect(k8s.List(ctx, core)).To(Succeed())
	modern := &eventsv1.EventList{}
	Expect(k8s.List(ctx, modern)).To(Succeed())
	Expect(json.NewEncoder(&b).Encode(core)).To(Succeed())
	Expect(json.NewEncoder(&b).Encode(modern)).To(Succeed())
	return b.String()
}

// allStatuses renders the status of every ClusterSecurityPolicy.
func allStatuses(ctx context.Context) string {
	list := &securityv1alpha1.ClusterSecurityPolicyList{}
	Expect(k8s.List(ctx, list)).To(Succeed())
	var b strings.Builder
	for _, p := range list.Items {
		Expect(json.NewEncoder(&b).Encode(p.Status)).To(Succeed())
	}
	return b.String()
}
