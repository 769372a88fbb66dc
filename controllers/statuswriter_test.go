package controllers

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/nsxclient"
)

// TestStatusWriterSeesThroughAStaleCache: the cache still shows the status from before our last
// write when the next sync wants that old status back; the writer must notice and write it.
func TestStatusWriterSeesThroughAStaleCache(t *testing.T) {
	scheme := newScheme(t)
	ctx := context.Background()
	var patches int
	server := fake.NewClientBuilder().WithScheme(scheme).
		WithStatusSubresource(&securityv1alpha1.ClusterSecurityPolicy{}).
		WithObjects(&securityv1alpha1.ClusterSecurityPolicy{ObjectMeta: metav1.ObjectMeta{Name: policy, UID: types.UID("uid-p"), Generation: 1}}).
		WithInterceptorFuncs(interceptor.Funcs{SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
			patches++
			return c.SubResource(sub).Patch(ctx, obj, p, opts...)
		}}).Build()
	w := &statusWriter{client: server, reader: server, written: map[types.UID]string{}}
	cached := func() []securityv1alpha1.ClusterSecurityPolicy {
		p := securityv1alpha1.ClusterSecurityPolicy{}
		if err := server.Get(ctx, client.ObjectKey{Name: policy}, &p); err != nil {
			t.Fatal(err)
		}
		return []securityv1alpha1.ClusterSecurityPolicy{p}
	}
	m := model(compiled)
	ok := synced(m)
	down := &Outcome{Model: m, Err: &nsxclient.APIError{StatusCode: 503, Method: "GET", Path: "/firewall/sections"}}

	if err := w.write(ctx, cached(), ok, false); err != nil {
		t.Fatal(err)
	}
	stale := cached() // Programmed=True, as the cache will go on showing it
	if err := w.write(ctx, cached(), down, false); err != nil {
		t.Fatal(err)
	}
	if err := w.write(ctx, stale, ok, false); err != nil {
		t.Fatal(err)
	}
	if got := cached()[0].Status; !meta.IsStatusConditionTrue(got.Conditions, securityv1alpha1.ConditionProgrammed) {
		t.Errorf("the API server holds %+v, want Programmed=True again", got.Conditions)
	}
	if patches != 3 {
		t.Errorf("%d status writes, want 3", patches)
	}
	if err := w.write(ctx, cached(), ok, false); err != nil {
		t.Fatal(err)
	}
	if patches != 3 {
		t.Errorf("an unchanged status was written again (%d writes)", patches)
	}
}

func newScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := securityv1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}
