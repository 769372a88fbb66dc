package apiserver_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
)

// as returns a client that impersonates the user (the admin connection may impersonate anyone).
func as(user string, groups ...string) client.Client {
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: append(groups, "system:authenticated")}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	return c
}

func applyFile(ctx context.Context, rel string) {
	for _, obj := range readYAMLObjects(rel) {
		Expect(admin.Create(ctx, obj)).To(Succeed(), "creating %s %s from %s", obj.GetKind(), obj.GetName(), rel)
	}
}

func bindCluster(ctx context.Context, user, role string) {
	Expect(admin.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: user + "-" + role},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: user}},
	})).To(Succeed())
}

func bindInNamespace(ctx context.Context, namespace, user, role string) {
	Expect(admin.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: user + "-" + role, Namespace: namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: user}},
	})).To(Succeed())
}

func expectForbidden(err error) {
	ExpectWithOffset(1, err).To(HaveOccurred())
	ExpectWithOffset(1, apierrors.IsForbidden(err)).To(BeTrue(), "want 403 Forbidden, got %v", err)
}

func roleGrantsPolicyRead(ctx context.Context, role string) bool {
	cr := &rbacv1.ClusterRole{}
	if err := admin.Get(ctx, client.ObjectKey{Name: role}, cr); err != nil {
		return false
	}
	for _, r := range cr.Rules {
		for _, res := range r.Resources {
			if res == "clustersecuritypolicies" {
				return true
			}
		}
	}
	return false
}

var _ = Describe("RBAC", Ordered, func() {
	const tenantNS = "team-a"
	existing := validPolicy("rbac-existing")
	mergePatch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"priority":999}}`))

	BeforeAll(func(ctx context.Context) {
		applyFile(ctx, "config/rbac/role.yaml")
		applyFile(ctx, "config/rbac/role_binding.yaml")
		applyFile(ctx, "config/rbac/security_admin_role.yaml")
		applyFile(ctx, "config/rbac/policy_viewer_role.yaml")
		Expect(admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tenantNS}})).To(Succeed())
		bindInNamespace(ctx, tenantNS, "alice-tenant-admin", "admin")
		bindInNamespace(ctx, tenantNS, "eve-tenant-editor", "edit")
		bindCluster(ctx, "sam-security", "microseg-security-admin")
		bindCluster(ctx, "victor-viewer", "view")
		bindCluster(ctx, "carol-cluster-editor", "edit")
		Expect(admin.Create(ctx, existing)).To(Succeed())
		By("waiting for kube-controller-manager to aggregate microseg-policy-viewer into view, edit and admin")
		for _, role := range []string{"view", "edit", "admin"} {
			Eventually(func(ctx context.Context) bool { return roleGrantsPolicyRead(ctx, role) }).
				WithContext(ctx).WithTimeout(60*time.Second).Should(BeTrue(), "ClusterRole %s never got ClusterSecurityPolicy read access", role)
		}
	})

	It("forbids a namespace admin to create, patch or delete a ClusterSecurityPolicy", func(ctx context.Context) {
		tenant := as("alice-tenant-admin")
		// Sanity check: the impersonated tenant really is an admin of its namespace.
		Expect(tenant.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "proof", Namespace: tenantNS}})).To(Succeed())

		expectForbidden(tenant.Create(ctx, validPolicy("tenant-made")))
		expectForbidden(tenant.Patch(ctx, existing.DeepCopy(), mergePatch))
		expectForbidden(tenant.Delete(ctx, existing.DeepCopy()))
	})

	It("forbids namespace and cluster-wide editors to write ClusterSecurityPolicies", func(ctx context.Context) {
		for _, user := range []string{"eve-tenant-editor", "carol-cluster-editor"} {
			c := as(user)
			expectForbidden(c.Create(ctx, validPolicy("editor-made")))
			expectForbidden(c.Patch(ctx, existing.DeepCopy(), mergePatch))
		}
	})

	It("lets a cluster-wide editor read them through the aggregated role", func(ctx context.Context) {
		Expect(as("carol-cluster-editor").Get(ctx, client.ObjectKeyFromObject(existing), &securityv1alpha1.ClusterSecurityPolicy{})).To(Succeed())
	})

	It("lets a view user read ClusterSecurityPolicies but not change them", func(ctx context.Context) {
		viewer := as("victor-viewer")
		got := &securityv1alpha1.ClusterSecurityPolicy{}
		Expect(viewer.Get(ctx, client.ObjectKeyFromObject(existing), got)).To(Succeed())
		Expect(got.Spec.Priority).To(Equal(existing.Spec.Priority))
		list := &securityv1alpha1.ClusterSecurityPolicyList{}
		Expect(viewer.List(ctx, list)).To(Succeed())
		Expect(list.Items).NotTo(BeEmpty())
		expectForbidden(viewer.Create(ctx, validPolicy("viewer-made")))
		expectForbidden(viewer.Patch(ctx, existing.DeepCopy(), mergePatch))
	})

	It("lets a microseg-security-admin create, patch and delete ClusterSecurityPolicies", func(ctx context.Context) {
		sec := as("sam-security")
		p := validPolicy("security-made")
		Expect(sec.Create(ctx, p)).To(Succeed())
		Expect(sec.Patch(ctx, p, mergePatch)).To(Succeed())
		Expect(p.Spec.Priority).To(Equal(int32(999)))
		Expect(sec.Delete(ctx, p)).To(Succeed())
	})

	It("gives the operator read access and status writes only", func(ctx context.Context) {
		op := as("system:serviceaccount:microseg-system:microseg-manager", "system:serviceaccounts")
		got := &securityv1alpha1.ClusterSecurityPolicy{}
		Expect(op.Get(ctx, client.ObjectKeyFromObject(existing), got)).To(Succeed())
		Expect(op.List(ctx, &corev1.PodList{})).To(Succeed())
		got.Status.ObservedGeneration = got.Generation
		Expect(op.Status().Update(ctx, got)).To(Succeed())
		expectForbidden(op.Create(ctx, validPolicy("operator-made")))
		expectForbidden(op.Patch(ctx, existing.DeepCopy(), mergePatch))
		expectForbidden(op.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: tenantNS}}))
	})
})
