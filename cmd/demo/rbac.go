package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/manifest"
	"github.com/microseg/microseg/internal/operator"
	"github.com/microseg/microseg/internal/testenv"
)

// tenant is the user of the RBAC walk-through, and tenantNamespace where it is an admin.
const tenant, tenantNamespace = "dev", "x1"

// installRBAC installs config/rbac as `kubectl apply -k config/default` would (the operator's
// namespace first), and waits until kube-controller-manager's aggregation controller has filled
// the built-in admin, edit and view roles, microseg-policy-viewer included: before that, a tenant
// bound to admin in a namespace can do nothing at all.
func (d *demo) installRBAC(ctx context.Context) error {
	root, err := testenv.ProjectRoot()
	if err != nil {
		return err
	}
	objs, err := manifest.ReadPaths(filepath.Join(root, "config", "manager", "namespace.yaml"), filepath.Join(root, "config", "rbac"))
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := d.k8s.Create(ctx, o); err != nil {
			return fmt.Errorf("creating %s %s from config/rbac: %w", o.GetKind(), name(o), err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, role := range []string{"view", "edit", "admin"} {
		for !grants(ctx, d.k8s, role, "clustersecuritypolicies") || !grants(ctx, d.k8s, role, "pods") {
			if time.Now().After(deadline) {
				return fmt.Errorf("kube-controller-manager did not aggregate microseg-policy-viewer into %s within 60s: is the clusterrole-aggregation controller running?", role)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	fmt.Println("demo: RBAC from config/rbac installed; admin, edit and view aggregate microseg-policy-viewer")
	return nil
}

func grants(ctx context.Context, c client.Client, role, resource string) bool {
	cr := &rbacv1.ClusterRole{}
	if err := c.Get(ctx, client.ObjectKey{Name: role}, cr); err != nil {
		return false
	}
	return slices.ContainsFunc(cr.Rules, func(r rbacv1.PolicyRule) bool { return slices.Contains(r.Resources, resource) })
}

// step is one request of the walk-through, made as the tenant (or, with asAdmin, by the cluster
// admin), shown as the kubectl command that makes the same request.
type step struct {
	kubectl string
	asAdmin bool
	allowed bool // what the README's RBAC section promises
	do      func(ctx context.Context, c client.Client) (string, error)
}

// rbacWalkthrough walks through the README's RBAC story as a tenant meets it: "dev", bound to the
// built-in admin role in x1, manages NetworkPolicies there, cannot create or change a
// ClusterSecurityPolicy, cannot even read them until given view cluster-wide, and then reads but
// still cannot change them. It prints a transcript and fails if any step does not behave.
func (d *demo) rbacWalkthrough(ctx context.Context, w io.Writer) error {
	cfg := rest.CopyConfig(d.env.Config)
	// As kubectl --as=dev: the API server authorizes every request as user dev (and the group
	// system:authenticated it adds).
	cfg.Impersonate = rest.ImpersonationConfig{UserName: tenant}
	dev, err := client.New(cfg, client.Options{Scheme: operator.Scheme()})
	if err != nil {
		return err
	}
	np := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: tenantNamespace, Name: "dev-walkthrough"},
		// Selects no pod of the scenario, so the table stays as checked.
		Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "dev-walkthrough"}}},
	}
	csp := &securityv1alpha1.ClusterSecurityPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "dev-walkthrough"},
		Spec:       securityv1alpha1.ClusterSecurityPolicySpec{Priority: 1, Subject: securityv1alpha1.Subject{Namespaces: &metav1.LabelSelector{}}},
	}
	lowerPriority := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"priority":999}}`))
	steps := []step{
		{kubectl: fmt.Sprintf("kubectl create rolebinding dev-admin --clusterrole=admin --user=%s -n %s", tenant, tenantNamespace), asAdmin: true, allowed: true,
			do: func(ctx context.Context, c client.Client) (string, error) {
				return "created", c.Create(ctx, binding(tenantNamespace, "dev-admin", "admin"))
			}},
		{kubectl: "kubectl --as=dev -n x1 get pods", allowed: true, do: func(ctx context.Context, c client.Client) (string, error) {
			pods, err := d.podsIn(ctx, c, tenantNamespace)
			return fmt.Sprintf("%d pods", pods), err
		}},
		{kubectl: "kubectl --as=dev -n x1 create -f networkpolicy.yaml", allowed: true, do: func(ctx context.Context, c client.Client) (string, error) {
			return "networkpolicy/dev-walkthrough created", c.Create(ctx, np.DeepCopy())
		}},
		{kubectl: "kubectl --as=dev -n x1 label networkpolicy dev-walkthrough reviewed=yes", allowed: true, do: func(ctx context.Context, c client.Client) (string, error) {
			return "labeled", c.Patch(ctx, np.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"reviewed":"yes"}}}`)))
		}},
		{kubectl: "kubectl --as=dev -n x1 delete networkpolicy dev-walkthrough", allowed: true, do: func(ctx context.Context, c client.Client) (string, error) {
			return "deleted", c.Delete(ctx, np.DeepCopy())
		}},
		{kubectl: "kubectl --as=dev -n y1 get networkpolicies", allowed: false, do: func(ctx context.Context, c client.Client) (string, error) {
			return "listed", c.List(ctx, &networkingv1.NetworkPolicyList{}, client.InNamespace("y1"))
		}},
		{kubectl: "kubectl --as=dev create -f clustersecuritypolicy.yaml", allowed: false, do: func(ctx context.Context, c client.Client) (string, error) {
			return "created", c.Create(ctx, csp.DeepCopy())
		}},
		{kubectl: `kubectl --as=dev patch csp protect-service-d -p '{"spec":{"priority":999}}'`, allowed: false, do: func(ctx context.Context, c client.Client) (string, error) {
			return "patched", c.Patch(ctx, &securityv1alpha1.ClusterSecurityPolicy{ObjectMeta: metav1.ObjectMeta{Name: "protect-service-d"}}, lowerPriority)
		}},
		{kubectl: "kubectl --as=dev get csp", allowed: false, do: d.listPolicies},
		{kubectl: fmt.Sprintf("kubectl create clusterrolebinding dev-view --clusterrole=view --user=%s", tenant), asAdmin: true, allowed: true,
			do: func(ctx context.Context, c client.Client) (string, error) {
				return "created", c.Create(ctx, binding("", "dev-view", "view"))
			}},
		{kubectl: "kubectl --as=dev get csp", allowed: true, do: d.listPolicies},
		{kubectl: `kubectl --as=dev patch csp protect-service-d -p '{"spec":{"priority":999}}'`, allowed: false, do: func(ctx context.Context, c client.Client) (string, error) {
			return "patched", c.Patch(ctx, &securityv1alpha1.ClusterSecurityPolicy{ObjectMeta: metav1.ObjectMeta{Name: "protect-service-d"}}, lowerPriority)
		}},
		{kubectl: "kubectl --as=dev delete csp protect-service-d", allowed: false, do: func(ctx context.Context, c client.Client) (string, error) {
			return "deleted", c.Delete(ctx, &securityv1alpha1.ClusterSecurityPolicy{ObjectMeta: metav1.ObjectMeta{Name: "protect-service-d"}})
		}},
	}

	fmt.Fprintf(w, "\ndemo: RBAC as a tenant meets it (README, RBAC). Each line is the request the kubectl command makes,\n"+
		"sent by the cluster admin or as user %q (impersonation, as kubectl --as=%s):\n", tenant, tenant)
	var failed []string
	for _, s := range steps {
		c := dev
		if s.asAdmin {
			c = d.k8s
		}
		outcome, ok := s.run(ctx, c)
		mark := "ok  "
		if !ok {
			mark = "FAIL"
			failed = append(failed, s.kubectl)
		}
		fmt.Fprintf(w, "  %s %-78s %s\n", mark, s.kubectl, outcome)
	}
	if len(failed) > 0 {
		return fmt.Errorf("the RBAC walk-through did not behave as the README says at: %s", strings.Join(failed, "; "))
	}
	fmt.Fprintln(w, "demo: the RBAC walk-through behaves as the README says.")
	return nil
}

// run makes the step's request and says whether the outcome is the promised one. A request that
// should be allowed is retried for a few seconds: the API server's RBAC authorizer learns of new
// bindings through a watch.
func (s step) run(ctx context.Context, c client.Client) (string, bool) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		result, err := s.do(ctx, c)
		forbidden := apierrors.IsForbidden(err)
		switch {
		case err != nil && !forbidden:
			return "error: " + err.Error(), false
		case s.allowed && !forbidden:
			return "allowed: " + result, true
		case !s.allowed && forbidden:
			return "Forbidden, as it should be", true
		case !s.allowed:
			return "ALLOWED (" + result + "), but the README says it is not", false
		case time.Now().After(deadline) || ctx.Err() != nil:
			return "Forbidden, but the README says it is allowed: " + err.Error(), false
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (d *demo) podsIn(ctx context.Context, c client.Client, namespace string) (int, error) {
	list := &corev1.PodList{}
	if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return 0, err
	}
	return len(list.Items), nil
}

func (d *demo) listPolicies(ctx context.Context, c client.Client) (string, error) {
	list := &securityv1alpha1.ClusterSecurityPolicyList{}
	if err := c.List(ctx, list); err != nil {
		return "", err
	}
	names := make([]string, len(list.Items))
	for i, p := range list.Items {
		names[i] = p.Name
	}
	if len(names) == 0 {
		return "", errors.New("no ClusterSecurityPolicy is visible")
	}
	return strings.Join(names, ", "), nil
}

// binding binds the tenant to a ClusterRole: in a namespace (a RoleBinding) or cluster-wide.
func binding(namespace, name, role string) client.Object {
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}
	subjects := []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: tenant}}
	if namespace == "" {
		return &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name}, RoleRef: ref, Subjects: subjects}
	}
	return &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, RoleRef: ref, Subjects: subjects}
}
