package apiserver_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
)

var _ = Describe("ClusterSecurityPolicy CRD", func() {
	It("is installed and served cluster-scoped with its short name and print columns", func(ctx context.Context) {
		resources, err := discoveryFor(env.Config).ServerResourcesForGroupVersion(securityv1alpha1.GroupVersion.String())
		Expect(err).NotTo(HaveOccurred())
		var found bool
		for _, r := range resources.APIResources {
			if r.Name == "clustersecuritypolicies" {
				found = true
				Expect(r.Namespaced).To(BeFalse())
				Expect(r.ShortNames).To(ConsistOf("csp"))
				Expect(r.Kind).To(Equal("ClusterSecurityPolicy"))
			}
		}
		Expect(found).To(BeTrue(), "clustersecuritypolicies is not served")
		Expect(printColumns(ctx)).To(ContainElements("Tier", "Enforcement", "Priority", "Ready", "Age"))
	})

	It("accepts a valid policy, applies defaults and round-trips it", func(ctx context.Context) {
		in := validPolicy("round-trip")
		Expect(admin.Create(ctx, in)).To(Succeed())
		DeferCleanup(func(ctx context.Context) { Expect(admin.Delete(ctx, in)).To(Succeed()) })

		out := &securityv1alpha1.ClusterSecurityPolicy{}
		Expect(admin.Get(ctx, client.ObjectKeyFromObject(in), out)).To(Succeed())
		want := validPolicy("round-trip").Spec
		want.Tier = securityv1alpha1.TierSecurity               // defaulted
		want.Enforcement = securityv1alpha1.EnforcementEnforced // defaulted
		for i := range want.Ingress {
			for j := range want.Ingress[i].Ports {
				if want.Ingress[i].Ports[j].Protocol == "" {
					want.Ingress[i].Ports[j].Protocol = securityv1alpha1.ProtocolTCP // defaulted
				}
			}
		}
		Expect(out.Spec).To(Equal(want))
	})

	It("lets the operator write status through the status subresource only", func(ctx context.Context) {
		p := validPolicy("status-subresource")
		Expect(admin.Create(ctx, p)).To(Succeed())
		DeferCleanup(func(ctx context.Context) { Expect(admin.Delete(ctx, p)).To(Succeed()) })
		p.Status.ObservedGeneration = p.Generation
		p.Status.Conditions = []metav1.Condition{{
			Type: securityv1alpha1.ConditionAccepted, Status: metav1.ConditionTrue, Reason: securityv1alpha1.ReasonCompiled,
			Message: "compiled", LastTransitionTime: metav1.Now(), ObservedGeneration: p.Generation,
		}}
		Expect(admin.Status().Update(ctx, p)).To(Succeed())
		got := &securityv1alpha1.ClusterSecurityPolicy{}
		Expect(admin.Get(ctx, client.ObjectKeyFromObject(p), got)).To(Succeed())
		Expect(got.Status.Conditions).To(HaveLen(1))
		Expect(got.Generation).To(Equal(int64(1)), "a status write must not bump the generation")
	})

	DescribeTable("rejects malformed policies at admission with a clear message", expectRejected,
		Entry("an invalid IPv4 CIDR", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Ingress[1].From[0].Networks = []securityv1alpha1.CIDR{"10.0.0.0/33"}
		}, "spec.ingress[1].from[0].networks[0]", "must be a CIDR such as 10.0.0.0/8"),
		Entry("an invalid IPv6 CIDR", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Egress[2].To[0].Networks = []securityv1alpha1.CIDR{"2001:db8::/129"}
		}, "spec.egress[2].to[0].networks[0]", "must be a CIDR"),
		Entry("a CIDR with host bits set", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Ingress[1].From[0].Networks = []securityv1alpha1.CIDR{"10.1.2.3/8"}
		}, "no host bits set, such as 10.0.0.0/8"),
		Entry("a port range whose start is after its end", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Egress[0].Ports[0].Port, p.Spec.Egress[0].Ports[0].EndPort = ptr.To[int32](6000), ptr.To[int32](5000)
		}, "spec.egress[0].ports[0]", "port range start (port) must not be greater than its end (endPort)"),
		Entry("a range end without a start", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Ingress[0].Ports[0].EndPort = ptr.To[int32](9000) // namedPort + endPort
		}, "endPort needs port"),
		Entry("a peer with no kind", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Ingress[0].From = []securityv1alpha1.Peer{{}}
		}, "spec.ingress[0].from[0]", "a peer must set exactly one of namespaces, pods, networks or nsxGroups"),
		Entry("a peer with two kinds", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Egress[0].To[0].Networks = []securityv1alpha1.CIDR{"192.168.0.0/16"}
		}, "spec.egress[0].to[0]", "a peer must set exactly one of namespaces, pods, networks or nsxGroups"),
		Entry("a subject with both kinds", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Subject.Namespaces = &metav1.LabelSelector{}
		}, "spec.subject", "subject must set exactly one of namespaces or pods"),
		Entry("a subject with neither kind", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Subject = securityv1alpha1.Subject{}
		}, "subject must set exactly one of namespaces or pods"),
		Entry("a priority above 1000", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Priority = 1001
		}, "spec.priority", "should be less than or equal to 1000"),
		Entry("a negative priority", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Priority = -1
		}, "spec.priority", "should be greater than or equal to 0"),
		Entry("an unknown action", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Ingress[0].Action = "Drop"
		}, "spec.ingress[0].action", `Unsupported value: "Drop"`, `"Allow", "Deny", "Reject", "Pass"`),
		Entry("an unknown protocol", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Ingress[0].Ports[1].Protocol = "ICMP"
		}, "spec.ingress[0].ports[1].protocol", `Unsupported value: "ICMP"`, `"TCP", "UDP", "SCTP"`),
		Entry("an unknown enforcement", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Enforcement = "Shadow"
		}, "spec.enforcement", `Unsupported value: "Shadow"`, `supported values: "Enforced", "Staged"`),
		Entry("an unknown tier", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Tier = "Admin"
		}, "spec.tier", `Unsupported value: "Admin"`),
		Entry("a named port together with a number", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Ingress[0].Ports[0].Port = ptr.To[int32](8080)
		}, "spec.ingress[0].ports[0]", "a port sets exactly one of port (a number) or namedPort"),
		Entry("a port with neither number nor name", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Ingress[0].Ports[1].Port = nil
		}, "a port sets exactly one of port (a number) or namedPort"),
		Entry("a port number out of range", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Ingress[0].Ports[1].Port = ptr.To[int32](70000)
		}, "spec.ingress[0].ports[1].port", "should be less than or equal to 65535"),
		Entry("duplicate ingress rule names", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Ingress[1].Name = p.Spec.Ingress[0].Name
		}, "ingress rule names must be unique within the policy"),
		Entry("duplicate egress rule names", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Egress[2].Name = p.Spec.Egress[0].Name
		}, "egress rule names must be unique within the policy"),
		Entry("a rule with no peers", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Ingress[0].From = nil
		}, "spec.ingress[0].from", "Required value"),
		Entry("a rule name that is not a DNS label", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Egress[0].Name = "Allow_DB"
		}, "spec.egress[0].name", "should match"),
		Entry("an empty NSX group name", func(p *securityv1alpha1.ClusterSecurityPolicy) {
			p.Spec.Egress[0].To[0].NSXGroups = []securityv1alpha1.NSXGroupName{""}
		}, "spec.egress[0].to[0].nsxGroups[0]", "should be at least 1 chars long"),
	)
})
