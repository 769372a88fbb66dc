package apiserver_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	sigyaml "sigs.k8s.io/yaml"

	"github.com/microseg/microseg/internal/ncptags"
	"github.com/microseg/microseg/internal/testenv"
)

// The admission policy of config/admission: the API server refuses pod labels in NCP's reserved
// tag scopes, for a Pod and for the pod template of every workload kind, to a tenant who is admin
// of its namespace; NCP's own service account is exempt.
var _ = Describe("the reserved-label admission policy (config/admission)", Ordered, func() {
	const (
		tenantNS = "x1"
		tenant   = "tina-tenant-admin"
		ncp      = "system:serviceaccount:nsx-system:ncp-svc-account"
	)
	var asTenant, asNCP client.Client

	BeforeAll(func(ctx context.Context) {
		applyFile(ctx, "config/admission/reserved_labels_policy.yaml")
		applyFile(ctx, "config/admission/reserved_labels_binding.yaml")
		Expect(admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tenantNS}})).To(Succeed())
		bindInNamespace(ctx, tenantNS, tenant, "admin")
		bindInNamespace(ctx, tenantNS, ncp, "admin")
		bindInNamespace(ctx, tenantNS, "eve-x1-editor", "edit")
		asTenant, asNCP = as(tenant), as(ncp, "system:serviceaccounts", "system:serviceaccounts:nsx-system")
		By("waiting until the API server enforces the policy (it loads policies asynchronously)")
		Eventually(func(ctx context.Context) error {
			return asTenant.Create(ctx, labelledPod(tenantNS, "probe", map[string]string{"ncp/project": "z1"}), client.DryRunAll)
		}).WithContext(ctx).WithTimeout(30 * time.Second).Should(MatchError(ContainSubstring("microseg-reserved-ncp-labels")))
	})

	It("is served by this kube-apiserver as a GA API, on by default", func(ctx context.Context) {
		list := &admissionregistrationv1.ValidatingAdmissionPolicyList{}
		Expect(admin.List(ctx, list)).To(Succeed())
		Expect(list.Items).To(ContainElement(HaveField("ObjectMeta.Name", "microseg-reserved-ncp-labels")))
	})

	It("refuses a tenant's pod whose labels use a reserved scope, whatever the case, and says why", func(ctx context.Context) {
		for key, value := range map[string]string{"ncp/project": "z1", "ncp/Project": "z1", "ncp/pod": "service-c-0",
			"ncp/cluster": "prod", "ncp/anything": "x"} {
			err := asTenant.Create(ctx, labelledPod(tenantNS, "spoofer", map[string]string{"app": "service-c", key: value}))
			expectRefused(err, key+"="+value)
			Expect(err.Error()).To(ContainSubstring("NSX Container Plugin"))
			Expect(err.Error()).To(ContainSubstring("docs/security.md"))
		}
	})

	It("refuses every reserved prefix microseg's compiler knows (internal/ncptags), and no other", func(ctx context.Context) {
		for _, prefix := range ncptags.ReservedScopePrefixes() {
			expectRefused(asTenant.Create(ctx, labelledPod(tenantNS, "spoofer", map[string]string{prefix + "x": "y"}), client.DryRunAll), prefix+"x=y")
		}
		policy := readPolicy()
		var prefixes string
		for _, v := range policy.Spec.Variables {
			if v.Name == "reservedPrefixes" {
				prefixes = v.Expression
			}
		}
		want := "['" + strings.Join(ncptags.ReservedScopePrefixes(), "', '") + "']"
		Expect(prefixes).To(Equal(want), "config/admission and internal/ncptags must reserve the same prefixes")
	})

	It("lets a tenant create pods with ordinary labels, and labels that merely mention ncp", func(ctx context.Context) {
		pod := labelledPod(tenantNS, "ordinary", map[string]string{"app": "service-c", "example.com/ncp": "yes", "ncp": "x"})
		Expect(asTenant.Create(ctx, pod)).To(Succeed())
		DeferCleanup(func(ctx context.Context) { Expect(admin.Delete(ctx, pod)).To(Succeed()) })
	})

	It("refuses the pod template of every workload kind, and accepts ordinary ones", func(ctx context.Context) {
		for _, kind := range []string{"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicationController", "PodTemplate"} {
			By(kind)
			c := asTenant
			if kind == "PodTemplate" {
				c = admin // the built-in admin role does not grant podtemplates; the policy binds cluster admins too
			}
			forged := workload(kind, tenantNS, map[string]string{"app": "service-c", "ncp/project": "z1"})
			err := c.Create(ctx, forged, client.DryRunAll)
			expectRefused(err, "ncp/project=z1")
			Expect(err.Error()).To(ContainSubstring("in the pod template"))
			Expect(c.Create(ctx, workload(kind, tenantNS, map[string]string{"app": "service-c"}), client.DryRunAll)).To(Succeed(), kind)
		}
	})

	It("refuses adding or changing a reserved label on an existing pod, allows other updates and removing it", func(ctx context.Context) {
		pod := labelledPod(tenantNS, "relabelled", map[string]string{"app": "service-a"})
		Expect(asTenant.Create(ctx, pod)).To(Succeed())
		DeferCleanup(func(ctx context.Context) { Expect(client.IgnoreNotFound(admin.Delete(ctx, pod))).To(Succeed()) })
		expectRefused(asTenant.Patch(ctx, pod.DeepCopy(), labelPatch(`{"ncp/project":"z1"}`)), "ncp/project=z1")
		Expect(asTenant.Patch(ctx, pod.DeepCopy(), labelPatch(`{"tier":"frontend"}`))).To(Succeed())

		By("a pod NCP labelled (it is exempt) keeps its label through the tenant's other updates, not through changes")
		grandfathered := labelledPod(tenantNS, "grandfathered", map[string]string{"app": "service-a", "ncp/project": tenantNS})
		Expect(asNCP.Create(ctx, grandfathered)).To(Succeed())
		DeferCleanup(func(ctx context.Context) {
			Expect(client.IgnoreNotFound(admin.Delete(ctx, grandfathered))).To(Succeed())
		})
		Expect(asTenant.Patch(ctx, grandfathered.DeepCopy(), labelPatch(`{"tier":"frontend"}`))).To(Succeed())
		expectRefused(asTenant.Patch(ctx, grandfathered.DeepCopy(), labelPatch(`{"ncp/project":"z1"}`)), "ncp/project=z1")
		Expect(asTenant.Patch(ctx, grandfathered.DeepCopy(), labelPatch(`{"ncp/project":null}`))).To(Succeed(), "removing the label is the remedy")
	})

	It("exempts NCP's own service account, and only it", func(ctx context.Context) {
		pod := labelledPod(tenantNS, "ncp-made", map[string]string{"ncp/project": tenantNS})
		Expect(asNCP.Create(ctx, pod, client.DryRunAll)).To(Succeed())
		other := as("system:serviceaccount:nsx-system:someone-else", "system:serviceaccounts")
		bindInNamespace(ctx, tenantNS, "system:serviceaccount:nsx-system:someone-else", "admin")
		Eventually(func(ctx context.Context) error {
			return other.Create(ctx, pod.DeepCopy(), client.DryRunAll)
		}).WithContext(ctx).Should(MatchError(ContainSubstring("microseg-reserved-ncp-labels")), "someone else's RBAC binding takes effect")
		expectRefused(other.Create(ctx, pod.DeepCopy(), client.DryRunAll), "ncp/project="+tenantNS)
		Expect(readPolicy().Spec.MatchConditions[0].Expression).To(ContainSubstring("'"+ncp+"'"),
			"docs/security.md patches /spec/matchConditions/0/expression to change the exemption")
	})

	It("leaves namespace labels to cluster administrators: the tenant cannot relabel its namespace", func(ctx context.Context) {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tenantNS}}
		expectForbidden(asTenant.Patch(ctx, ns, labelPatch(`{"team":"z"}`)))
		expectForbidden(as("eve-x1-editor").Patch(ctx, ns, labelPatch(`{"team":"z"}`)))
	})

	It("takes another exempt account from the patch docs/security.md shows", func(ctx context.Context) {
		const other = "system:serviceaccount:vmware-system-nsx:ncp"
		doc, err := os.ReadFile(filepath.Join(projectRoot(), "docs", "security.md"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(doc)).To(ContainSubstring("path: /spec/matchConditions/0/expression"))
		Expect(string(doc)).To(ContainSubstring(`value: "!(request.userInfo.username in ['` + other + `'])"`))
		bindInNamespace(ctx, tenantNS, other, "admin")
		live := &admissionregistrationv1.ValidatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Name: "microseg-reserved-ncp-labels"}}
		original := readPolicy().Spec.MatchConditions[0].Expression
		patch := func(expression string) client.Patch {
			return client.RawPatch(types.JSONPatchType, []byte(fmt.Sprintf(
				`[{"op":"replace","path":"/spec/matchConditions/0/expression","value":%q}]`, expression)))
		}
		Expect(admin.Patch(ctx, live, patch("!(request.userInfo.username in ['"+other+"'])"))).To(Succeed())
		DeferCleanup(func(ctx context.Context) { Expect(admin.Patch(ctx, live, patch(original))).To(Succeed()) })
		pod := labelledPod(tenantNS, "ncp-made", map[string]string{"ncp/project": tenantNS})
		Eventually(func(ctx context.Context) error {
			return as(other, "system:serviceaccounts").Create(ctx, pod.DeepCopy(), client.DryRunAll)
		}).WithContext(ctx).Should(Succeed())
		expectRefused(asNCP.Create(ctx, pod.DeepCopy(), client.DryRunAll), "ncp/project="+tenantNS)
	})

	It("is part of config/default", func() {
		k, err := os.ReadFile(filepath.Join(projectRoot(), "config", "default", "kustomization.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(k)).To(ContainSubstring("- ../admission"))
	})
})

func labelledPod(namespace, name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels}, Spec: podSpec()}
}

func podSpec() corev1.PodSpec {
	return corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.invalid/app"}}, RestartPolicy: corev1.RestartPolicyAlways}
}

func labelPatch(labels string) client.Patch {
	return client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"labels":`+labels+`}}`))
}

// workload is a minimal valid object of the kind whose pod template carries the labels.
func workload(kind, namespace string, labels map[string]string) client.Object {
	meta := metav1.ObjectMeta{Namespace: namespace, Name: strings.ToLower(kind)}
	selector := &metav1.LabelSelector{MatchLabels: map[string]string{"app": labels["app"]}}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: podSpec()}
	jobTmpl := tmpl
	jobTmpl.Spec.RestartPolicy = corev1.RestartPolicyNever
	switch kind {
	case "Deployment":
		return &appsv1.Deployment{ObjectMeta: meta, Spec: appsv1.DeploymentSpec{Selector: selector, Template: tmpl}}
	case "ReplicaSet":
		return &appsv1.ReplicaSet{ObjectMeta: meta, Spec: appsv1.ReplicaSetSpec{Selector: selector, Template: tmpl}}
	case "StatefulSet":
		return &appsv1.StatefulSet{ObjectMeta: meta, Spec: appsv1.StatefulSetSpec{Selector: selector, Template: tmpl, ServiceName: "s"}}
	case "DaemonSet":
		return &appsv1.DaemonSet{ObjectMeta: meta, Spec: appsv1.DaemonSetSpec{Selector: selector, Template: tmpl}}
	case "Job":
		return &batchv1.Job{ObjectMeta: meta, Spec: batchv1.JobSpec{Template: jobTmpl}}
	case "CronJob":
		return &batchv1.CronJob{ObjectMeta: meta, Spec: batchv1.CronJobSpec{Schedule: "@hourly",
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: jobTmpl}}}}
	case "ReplicationController":
		return &corev1.ReplicationController{ObjectMeta: meta, Spec: corev1.ReplicationControllerSpec{Replicas: ptr.To[int32](1),
			Selector: selector.MatchLabels, Template: &tmpl}}
	case "PodTemplate":
		return &corev1.PodTemplate{ObjectMeta: meta, Template: tmpl}
	}
	panic("unknown kind " + kind)
}

// expectRefused checks that the policy refused a request, naming the label.
func expectRefused(err error, label string) {
	GinkgoHelper()
	Expect(err).To(HaveOccurred(), "want %s refused", label)
	Expect(apierrors.IsForbidden(err)).To(BeTrue(), "want 403 Forbidden, got %v", err)
	Expect(err.Error()).To(ContainSubstring("microseg-reserved-ncp-labels"))
	Expect(err.Error()).To(ContainSubstring(label))
}

func projectRoot() string {
	root, err := testenv.ProjectRoot()
	Expect(err).NotTo(HaveOccurred())
	return root
}

func readPolicy() *admissionregistrationv1.ValidatingAdmissionPolicy {
	raw, err := os.ReadFile(filepath.Join(projectRoot(), "config", "admission", "reserved_labels_policy.yaml"))
	Expect(err).NotTo(HaveOccurred())
	p := &admissionregistrationv1.ValidatingAdmissionPolicy{}
	Expect(sigyaml.UnmarshalStrict(raw, p)).To(Succeed(), fmt.Sprintf("%s is not a ValidatingAdmissionPolicy", "config/admission/reserved_labels_policy.yaml"))
	return p
}
