package controllers

import (
	"context"
	"encoding/json"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/nsxclient"
)

// statusHarness is the status controller over a fake API server that counts status writes and
// refuses, as the real one does, a write computed from an outdated resourceVersion. stale, when
// set, is what the controller's cache returns instead of the server's copy.
type statusHarness struct {
	t        *testing.T
	server   client.Client
	r        *StatusReconciler
	outcomes *Outcomes
	writes   int
	stale    *securityv1alpha1.ClusterSecurityPolicy
	// fieldManager and forced are the options of the last status write.
	fieldManager string
	forced       bool
}

func newStatusHarness(t *testing.T, objs ...client.Object) *statusHarness {
	h := &statusHarness{t: t, outcomes: NewOutcomes()}
	h.server = fake.NewClientBuilder().WithScheme(newScheme(t)).
		WithStatusSubresource(&securityv1alpha1.ClusterSecurityPolicy{}).WithObjects(objs...).Build()
	cache := interceptor.NewClient(h.server.(client.WithWatch), interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if p, ok := obj.(*securityv1alpha1.ClusterSecurityPolicy); ok && h.stale != nil {
				h.stale.DeepCopyInto(p)
				return nil
			}
			return c.Get(ctx, key, obj, opts...)
		},
		SubResourceApply: func(ctx context.Context, c client.Client, sub string, obj runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
			h.writes++
			o := &client.SubResourceApplyOptions{}
			o.ApplyOpts(opts)
			h.fieldManager, h.forced = o.FieldManager, o.Force != nil && *o.Force
			u := applied(t, obj)
			cur := &securityv1alpha1.ClusterSecurityPolicy{}
			if err := c.Get(ctx, client.ObjectKey{Name: u.GetName()}, cur); err != nil {
				return err
			}
			if rv := u.GetResourceVersion(); rv != "" && rv != cur.ResourceVersion {
				return apierrors.NewConflict(schema.GroupResource{Group: securityv1alpha1.GroupVersion.Group, Resource: "clustersecuritypolicies"}, u.GetName(), nil)
			}
			return c.SubResource(sub).Apply(ctx, obj, opts...)
		},
	})
	h.r = NewStatusReconciler(cache, h.outcomes)
	return h
}

func (h *statusHarness) reconcile() error {
	h.t.Helper()
	_, err := h.r.Reconcile(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Name: policy}})
	return err
}

func (h *statusHarness) get() *securityv1alpha1.ClusterSecurityPolicy {
	h.t.Helper()
	p := &securityv1alpha1.ClusterSecurityPolicy{}
	if err := h.server.Get(context.Background(), client.ObjectKey{Name: policy}, p); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// outcome is o compiled from the policy as the server holds it now.
func (h *statusHarness) outcome(o *Outcome) *Outcome {
	p := h.get()
	o.Sources = map[ir.ObjectRef]Source{policyRef: {UID: p.UID, Generation: p.Generation}}
	return o
}

func testPolicy(generation int64) *securityv1alpha1.ClusterSecurityPolicy {
	return &securityv1alpha1.ClusterSecurityPolicy{ObjectMeta: metav1.ObjectMeta{Name: policy, UID: types.UID("uid-p"), Generation: generation}}
}

func TestStatusControllerWritesOnlyChanges(t *testing.T) {
	h := newStatusHarness(t, testPolicy(1))
	m := model(compiled)
	if err := h.reconcile(); err != nil || h.writes != 0 {
		t.Fatalf("before any outcome: %d writes, %v", h.writes, err)
	}
	h.outcomes.publish(h.outcome(synced(m)))
	for range 2 {
		if err := h.reconcile(); err != nil {
			t.Fatal(err)
		}
	}
	if !meta.IsStatusConditionTrue(h.get().Status.Conditions, securityv1alpha1.ConditionProgrammed) || h.writes != 1 {
		t.Fatalf("%d writes, status %+v; want one write, Programmed=True", h.writes, h.get().Status.Conditions)
	}
	h.outcomes.publish(h.outcome(&Outcome{Model: m, Err: &nsxclient.APIError{StatusCode: 503, Method: "GET", Path: "/firewall/sections"}}))
	if err := h.reconcile(); err != nil {
		t.Fatal(err)
	}
	if c := meta.FindStatusCondition(h.get().Status.Conditions, securityv1alpha1.ConditionProgrammed); c.Reason != securityv1alpha1.ReasonNSXUnavailable || h.writes != 2 {
		t.Fatalf("%d writes, Programmed %+v", h.writes, c)
	}
	if h.fieldManager != FieldOwner || !h.forced {
		t.Errorf("status applied by %q (forced %v), want server-side apply as %q", h.fieldManager, h.forced, FieldOwner)
	}
}

// TestStatusControllerCatchesUpWithAStaleCache: the cache can lag behind the controller's own
// writes. When it still shows the status from before the last write and the next outcome wants
// that old status back, nothing is written until the cache catches up (the write's watch event
// brings the policy back to the controller); a status computed from an outdated copy is refused
// by the API server (outdated resourceVersion) and retried for this policy alone.
func TestStatusControllerCatchesUpWithAStaleCache(t *testing.T) {
	h := newStatusHarness(t, testPolicy(1))
	m := model(compiled)
	ok := h.outcome(synced(m))
	down := h.outcome(&Outcome{Model: m, Err: &nsxclient.APIError{StatusCode: 503, Method: "GET", Path: "/firewall/sections"}})
	programmed := func() bool {
		return meta.IsStatusConditionTrue(h.get().Status.Conditions, securityv1alpha1.ConditionProgrammed)
	}

	h.outcomes.publish(ok)
	if err := h.reconcile(); err != nil {
		t.Fatal(err)
	}
	old := h.get() // Programmed=True
	h.outcomes.publish(down)
	if err := h.reconcile(); err != nil || programmed() {
		t.Fatalf("NSX down: %v, Programmed still True", err)
	}
	h.stale = old // the cache has not seen the False yet
	h.outcomes.publish(ok)
	if err := h.reconcile(); err != nil {
		t.Fatal(err)
	}
	h.stale = nil // the watch event of the False arrives
	if err := h.reconcile(); err != nil {
		t.Fatal(err)
	}
	if !programmed() {
		t.Errorf("the API server holds %+v, want Programmed=True again", h.get().Status.Conditions)
	}
	h.stale = old // an even older copy, which differs from what NSX being down calls for
	h.outcomes.publish(down)
	if err := h.reconcile(); !apierrors.IsConflict(err) {
		t.Fatalf("a status computed from an outdated copy: %v, want a conflict (retried for this policy)", err)
	}
	h.stale = nil
	if err := h.reconcile(); err != nil || programmed() {
		t.Fatalf("after the retry: %v, Programmed %v", err, programmed())
	}
	if h.writes != 5 { // True, False, True, the refused False, False
		t.Errorf("%d status writes, want 5", h.writes)
	}
}

func TestStatusControllerInterimOutcome(t *testing.T) {
	h := newStatusHarness(t, testPolicy(1))
	m := model(compiled)
	// A new policy says at once that it compiled, before NSX is reached.
	h.outcomes.publish(h.outcome(&Outcome{Model: m}))
	if err := h.reconcile(); err != nil {
		t.Fatal(err)
	}
	if c := meta.FindStatusCondition(h.get().Status.Conditions, securityv1alpha1.ConditionProgrammed); c == nil || c.Reason != securityv1alpha1.ReasonPending {
		t.Fatalf("Programmed %+v, want Pending", c)
	}
	h.outcomes.publish(h.outcome(synced(m)))
	if err := h.reconcile(); err != nil {
		t.Fatal(err)
	}
	// The next sync's interim outcome leaves a policy whose generation has its status alone.
	writes := h.writes
	h.outcomes.publish(h.outcome(&Outcome{Model: m}))
	if err := h.reconcile(); err != nil {
		t.Fatal(err)
	}
	if h.writes != writes || !meta.IsStatusConditionTrue(h.get().Status.Conditions, securityv1alpha1.ConditionProgrammed) {
		t.Errorf("the interim outcome rewrote a current status (%d writes)", h.writes-writes)
	}
}

func TestStatusControllerWaitsForItsGeneration(t *testing.T) {
	h := newStatusHarness(t, testPolicy(2))
	o := synced(model(compiled))
	o.Sources = map[ir.ObjectRef]Source{policyRef: {UID: "uid-p", Generation: 1}}
	h.outcomes.publish(o)
	if err := h.reconcile(); err != nil || h.writes != 0 {
		t.Errorf("an outcome of generation 1 wrote the status of generation 2 (%d writes, %v)", h.writes, err)
	}
	o = synced(model(compiled))
	o.Sources = map[ir.ObjectRef]Source{policyRef: {UID: "another-uid", Generation: 2}}
	h.outcomes.publish(o)
	if err := h.reconcile(); err != nil || h.writes != 0 {
		t.Errorf("an outcome of a deleted namesake wrote the status (%d writes, %v)", h.writes, err)
	}
}

// applied decodes an apply configuration.
func applied(t *testing.T, obj runtime.ApplyConfiguration) *unstructured.Unstructured {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal(b, u); err != nil {
		t.Fatal(err)
	}
	return u
}

func newScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := securityv1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}
