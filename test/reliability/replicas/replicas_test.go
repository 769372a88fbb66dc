package replicas_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/compile"
	ct "github.com/microseg/microseg/internal/compile/compiletest"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/nsxsync/manager"
)

var _ = Describe("two replicas with leader election", Ordered, func() {
	It("lets only the leader write to NSX, hands over within the lease timing when the leader dies, and the new leader converges from a full read", func(ctx SpecContext) {
		createWorkload(ctx)
		a, b := startReplica("replica-a"), startReplica("replica-b")
		DeferCleanup(func() {
			a.kill()
			b.kill()
		})

		By("converging with one leader; the other replica writes nothing")
		Eventually(ctx, nsxConverged).Should(Succeed())
		Eventually(func() int { return countElected(a, b) }).Should(Equal(1))
		leader, follower := a, b
		if a.elected().IsZero() {
			leader, follower = b, a
		}
		Expect(calls.writesBy(leader.name, 0)).To(BeNumerically(">", 0))
		Expect(calls.writesBy(follower.name, 0)).To(BeZero())

		By("writing an edit through the leader only")
		mark := len(calls.snapshot())
		editPolicy(ctx, 8001)
		Eventually(ctx, nsxConverged).Should(Succeed())
		Expect(calls.writesBy(leader.name, mark)).To(BeNumerically(">", 0))
		Consistently(func() int { return calls.writesBy(follower.name, 0) }, 2*time.Second).Should(BeZero())
		Expect(follower.elected().IsZero()).To(BeTrue())

		By("killing the leader: the follower takes over once the Lease expires, and realizes an edit made meanwhile")
		mark = len(calls.snapshot())
		killedAt := time.Now()
		leader.kill()
		editPolicy(ctx, 8002)
		Eventually(func() time.Time { return follower.elected() }, leaseDuration+4*retryPeriod).ShouldNot(BeZero())
		crashHandover := follower.elected().Sub(killedAt)
		Eventually(ctx, nsxConverged).Should(Succeed())
		convergedAfterKill := time.Since(killedAt)
		Expect(calls.writesBy(leader.name, mark)).To(BeZero())
		Expect(calls.writesBy(follower.name, mark)).To(BeNumerically(">", 0))
		Expect(fullReadBeforeFirstWrite(follower.name, mark)).To(Succeed())
		// The Lease is not taken before it expires, nor long after: the dead leader renewed it at
		// most a (jittered) retry period before it died, and the candidate polls every retry
		// period plus up to 1.2 of it in jitter.
		Expect(crashHandover).To(BeNumerically(">=", leaseDuration-3*retryPeriod))
		Expect(crashHandover).To(BeNumerically("<=", leaseDuration+3*retryPeriod))

		By("stopping the new leader as a rolling update does: it releases the Lease, a third replica takes over at once")
		c := startReplica("replica-c")
		DeferCleanup(c.kill)
		Consistently(func() time.Time { return c.elected() }, 2*retryPeriod).Should(BeZero())
		mark = len(calls.snapshot())
		stoppedAt := time.Now()
		follower.stop()
		editPolicy(ctx, 8003)
		Eventually(func() time.Time { return c.elected() }, leaseDuration+4*retryPeriod).ShouldNot(BeZero())
		releaseHandover := c.elected().Sub(stoppedAt)
		Eventually(ctx, nsxConverged).Should(Succeed())
		Expect(calls.writesBy(follower.name, mark)).To(BeZero())
		Expect(calls.writesBy(c.name, mark)).To(BeNumerically(">", 0))
		Expect(fullReadBeforeFirstWrite(c.name, mark)).To(Succeed())
		Expect(releaseHandover).To(BeNumerically("<=", 3*retryPeriod))

		By("checking that no write was ever made by two replicas: each one's writes form one block, in the order of leadership")
		Expect(writers()).To(Equal([]string{leader.name, follower.name, c.name}))
		GinkgoWriter.Printf("handover after a crash: %s (Lease %s, retry %s); NSX converged %s after the kill; handover after a release: %s; writes: %s %d, %s %d, %s %d\n",
			crashHandover.Round(time.Millisecond), leaseDuration, retryPeriod, convergedAfterKill.Round(time.Millisecond), releaseHandover.Round(time.Millisecond),
			leader.name, calls.writesBy(leader.name, 0), follower.name, calls.writesBy(follower.name, 0), c.name, calls.writesBy(c.name, 0))
		AddReportEntry("handover", fmt.Sprintf("crash %s, release %s", crashHandover, releaseHandover))
	})
})

func countElected(rs ...*replica) int {
	n := 0
	for _, r := range rs {
		if !r.elected().IsZero() {
			n++
		}
	}
	return n
}

// writers is the sequence of replicas that wrote to NSX, one entry per uninterrupted run of
// writes by the same replica.
func writers() []string {
	var out []string
	for _, c := range calls.snapshot() {
		if !c.write || replicaPwd[c.user] == "" {
			continue
		}
		if len(out) == 0 || out[len(out)-1] != c.user {
			out = append(out, c.user)
		}
	}
	return out
}

// fullReadBeforeFirstWrite checks that a replica listed every section and every NSGroup (the
// Manager backend's full read) after the log position from and before its first write there.
func fullReadBeforeFirstWrite(user string, from int) error {
	listed := map[string]bool{}
	for _, c := range calls.snapshot()[from:] {
		if c.user != user {
			continue
		}
		if c.write {
			if !listed["/api/v1/firewall/sections"] || !listed["/api/v1/ns-groups"] {
				return fmt.Errorf("%s wrote %s %s before listing the sections and NSGroups (listed %v)", user, c.method, c.uri, listed)
			}
			return nil
		}
		if u, err := url.ParseRequestURI(c.uri); err == nil && c.method == "GET" {
			listed[u.Path] = true
		}
	}
	return fmt.Errorf("%s made no write", user)
}

// The workload: one namespace of three services, a NetworkPolicy that isolates the database and
// a cluster policy that denies the web tier egress to the database.
func createWorkload(ctx context.Context) {
	ns := ct.Namespace("shop", "env=prod")
	Expect(rk8s.Create(ctx, &ns)).To(Succeed())
	for _, app := range []string{"web", "api", "db"} {
		for i := range 2 {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: fmt.Sprintf("%s-%d", app, i), Labels: map[string]string{"app": app}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.invalid/app:1"}}}}
			Expect(rk8s.Create(ctx, pod)).To(Succeed())
		}
	}
	np := ct.NP("shop", "isolate-db", ct.Sel("app=db"))
	np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{PodSelector: ct.Sel("app=api")}},
		Ports: []networkingv1.NetworkPolicyPort{ct.NPPort("TCP", 5432)}}}
	np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	Expect(rk8s.Create(ctx, &np)).To(Succeed())
	csp := ct.CSP("web-not-db", securityv1alpha1.TierSecurity, 50, ct.SubjectPods(ct.Sel("env=prod"), ct.Sel("app=web")))
	csp.Spec.Egress = []securityv1alpha1.EgressRule{{Name: "no-db", Action: securityv1alpha1.ActionDeny,
		To: []securityv1alpha1.Peer{ct.PodsPeer(ct.Sel("env=prod"), ct.Sel("app=db"))}}}
	Expect(rk8s.Create(ctx, &csp)).To(Succeed())
}

// editPolicy opens one more port to the database in the NetworkPolicy.
func editPolicy(ctx context.Context, port int) {
	np := &networkingv1.NetworkPolicy{}
	Expect(rk8s.Get(ctx, client.ObjectKey{Namespace: "shop", Name: "isolate-db"}, np)).To(Succeed())
	np.Spec.Ingress[0].Ports = append(np.Spec.Ingress[0].Ports, ct.NPPort("TCP", port))
	Expect(rk8s.Update(ctx, np)).To(Succeed())
}

// nsxConverged compiles the cluster as it is now and says whether NSX holds exactly that: a full
// read by a client of the test's own plans nothing.
func nsxConverged(ctx context.Context) error {
	in := compile.Input{ClusterID: replicaCluster}
	csps := &securityv1alpha1.ClusterSecurityPolicyList{}
	nps := &networkingv1.NetworkPolicyList{}
	nss := &corev1.NamespaceList{}
	pods := &corev1.PodList{}
	for _, l := range []client.ObjectList{csps, nps, nss, pods} {
		if err := rk8s.List(ctx, l); err != nil {
			return err
		}
	}
	if i := slices.IndexFunc(pods.Items, func(p corev1.Pod) bool { return p.Status.PodIP == "" }); i >= 0 {
		return fmt.Errorf("pod %s has no address yet", pods.Items[i].Name)
	}
	in.ClusterSecurityPolicies, in.NetworkPolicies, in.Namespaces, in.Pods = csps.Items, nps.Items, nss.Items, pods.Items
	m, err := compile.Compile(in)
	if err != nil {
		return err
	}
	b, err := manager.Over(rnsx.Client, manager.Config{ClusterID: replicaCluster})
	if err != nil {
		return err
	}
	st, err := b.Read(ctx, nsxsync.ReadFull)
	if err != nil {
		return err
	}
	pl, err := b.Plan(m, st)
	if err != nil {
		return err
	}
	if !pl.Empty() {
		return errors.New("NSX is not the compiled model yet: " + fmt.Sprintf("%+v", pl.Summary().Ops))
	}
	return nil
}
