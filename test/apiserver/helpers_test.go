package apiserver_test

import (
	"context"
	"os"
	"path/filepath"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/utils/ptr"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/testenv"
)

// validPolicy is a policy that uses every field; tests break one thing at a time.
func validPolicy(name string) *securityv1alpha1.ClusterSecurityPolicy {
	z1 := metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "z1"}}
	return &securityv1alpha1.ClusterSecurityPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: securityv1alpha1.ClusterSecurityPolicySpec{
			Priority: 10,
			Subject: securityv1alpha1.Subject{Pods: &securityv1alpha1.NamespacedPods{
				NamespaceSelector: z1,
				PodSelector:       metav1.LabelSelector{MatchLabels: map[string]string{"app": "service-d"}},
			}},
			Ingress: []securityv1alpha1.IngressRule{
				{
					Name:   "allow-service-c",
					Action: securityv1alpha1.ActionAllow,
					From: []securityv1alpha1.Peer{{Pods: &securityv1alpha1.NamespacedPods{
						NamespaceSelector: z1,
						PodSelector:       metav1.LabelSelector{MatchLabels: map[string]string{"app": "service-c"}},
					}}},
					Ports: []securityv1alpha1.Port{{NamedPort: "http"}, {Protocol: securityv1alpha1.ProtocolUDP, Port: ptr.To[int32](53)}},
				},
				{
					Name:   "reject-rest",
					Action: securityv1alpha1.ActionReject,
					Logged: true,
					From:   []securityv1alpha1.Peer{{Networks: []securityv1alpha1.CIDR{"0.0.0.0/0", "::/0"}}},
				},
			},
			Egress: []securityv1alpha1.EgressRule{
				{
					Name:   "databases",
					Action: securityv1alpha1.ActionAllow,
					To:     []securityv1alpha1.Peer{{NSXGroups: []securityv1alpha1.NSXGroupName{"physical-databases"}}},
					Ports:  []securityv1alpha1.Port{{Protocol: securityv1alpha1.ProtocolSCTP, Port: ptr.To[int32](5000), EndPort: ptr.To[int32](5010)}},
				},
				{
					Name:   "pass-monitoring",
					Action: securityv1alpha1.ActionPass,
					To:     []securityv1alpha1.Peer{{Namespaces: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "team", Operator: metav1.LabelSelectorOpIn, Values: []string{"monitoring"}}}}}},
				},
				{
					Name:   "deny-rest",
					Action: securityv1alpha1.ActionDeny,
					To:     []securityv1alpha1.Peer{{Networks: []securityv1alpha1.CIDR{"10.0.0.0/8", "2001:db8::/32"}}},
				},
			},
		},
	}
}

// readYAMLObjects reads every object of a multi-document YAML file under the project root.
func readYAMLObjects(rel string) []*unstructured.Unstructured {
	root, err := testenv.ProjectRoot()
	Expect(err).NotTo(HaveOccurred())
	f, err := os.Open(filepath.Join(root, rel))
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	var objs []*unstructured.Unstructured
	dec := yaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			Expect(err.Error()).To(Equal("EOF"))
			break
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
	return objs
}

// expectRejected changes one thing of validPolicy and expects the API server to refuse the result
// as Invalid (422) with every one of wantMessages in its error.
func expectRejected(ctx context.Context, breakIt func(*securityv1alpha1.ClusterSecurityPolicy), wantMessages ...string) {
	p := validPolicy("rejected")
	breakIt(p)
	err := admin.Create(ctx, p)
	if err == nil {
		_ = admin.Delete(ctx, p)
	}
	Expect(err).To(HaveOccurred(), "the API server accepted the policy")
	Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want 422 Invalid, got %v", err)
	for _, m := range wantMessages {
		Expect(err.Error()).To(ContainSubstring(m))
	}
}
