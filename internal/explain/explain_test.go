package explain

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/kinds"
	"github.com/microseg/microseg/internal/live"
	"github.com/microseg/microseg/internal/live/livetest"
	"github.com/microseg/microseg/internal/manifest"
	"github.com/microseg/microseg/internal/pipeline"
	"github.com/microseg/microseg/internal/ports"
	"github.com/microseg/microseg/internal/testenv"
	"github.com/microseg/microseg/nsxclient"
)

// cluster is config/samples realized in the NSX simulator (the operator's work done), and a
// Kubernetes API holding the same objects, with the ClusterSecurityPolicies' status as the
// operator writes it.
type cluster struct {
	r   *pipeline.Realized
	k8s client.Client
}

func newCluster(t *testing.T, change func(pipeline.World) pipeline.World, funcs *interceptor.Funcs) cluster {
	t.Helper()
	root, err := testenv.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.ReadPaths(root + "/config/samples")
	if err != nil {
		t.Fatal(err)
	}
	w, _, err := pipeline.FromObjects(objs)
	if err != nil {
		t.Fatal(err)
	}
	if change != nil {
		w = change(w)
	}
	r, err := pipeline.Run(context.Background(), w, pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range w.ClusterSecurityPolicies {
		p := &w.ClusterSecurityPolicies[i]
		res, _ := r.Model.Object(objRef(p.Name))
		p.Status.Realized = &securityv1alpha1.RealizedState{}
		for _, key := range res.Sections {
			id, _ := r.Sync.Owned.Section(key)
			p.Status.Realized.SectionIDs = append(p.Status.Realized.SectionIDs, id)
		}
	}
	b := fake.NewClientBuilder().WithScheme(kinds.Scheme()).WithObjects(livetest.Objects(w)...)
	if funcs != nil {
		b = b.WithInterceptorFuncs(*funcs)
	}
	return cluster{r: r, k8s: b.Build()}
}

func explainOn(t *testing.T, c cluster, src, dst string, port int, nsx *nsxclient.Client) *Explanation {
	t.Helper()
	opts := Options{Output: OutputText, API: APIAuto, TraceflowTimeout: 10e9, ClusterID: pipeline.DefaultClusterID,
		Ports: []ports.Port{{Protocol: "TCP", Number: port}}}
	var err error
	if opts.Source, err = live.ParseTarget(src); err != nil {
		t.Fatal(err)
	}
	if opts.Destination, err = live.ParseTarget(dst); err != nil {
		t.Fatal(err)
	}
	e, err := Run(context.Background(), opts, livetest.Reader(c.k8s), nsx)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := WriteText(&out, e); err != nil {
		t.Fatal(err)
	}
	t.Logf("explain %s %s:\n%s", src, dst, out.String())
	if len(e.Connections) != 1 {
		t.Fatalf("%d connections", len(e.Connections))
	}
	return e
}

func has(lines []string, sub string) bool {
	return slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, sub) })
}

// TestExplainWithoutNSX: service-a → service-d is rejected at service-d's port by the Security
// tier; the why names the subject and the matching network; the section id comes from the
// policy's status; the egress side is NSX's default.
func TestExplainWithoutNSX(t *testing.T) {
	c := newCluster(t, nil, nil)
	e := explainOn(t, c, "x1/service-a-0", "z1/app=service-d", 8080, nil)
	conn := e.Connections[0]
	sectionID, _ := c.r.Sync.Owned.Section("csp/protect-service-d")
	in := conn.Ingress
	switch {
	case conn.Allowed || in.Action != "REJECT" || in.Tier != "Security" || in.Object != "ClusterSecurityPolicy/protect-service-d" ||
		in.Rule != "ingress/reject-everyone-else":
		t.Errorf("ingress %+v", in)
	case !has(in.Why, "z1/service-d-0 is one of them") || !has(in.Why, "is in the network 0.0.0.0/0"):
		t.Errorf("why %q", in.Why)
	case in.NSX.SectionID != sectionID || in.NSX.RuleID != "" || !strings.Contains(in.NSX.IDsFrom, "status of ClusterSecurityPolicy/protect-service-d"):
		t.Errorf("NSX %+v, want section %s from the status", in.NSX, sectionID)
	case conn.Egress.Tier != TierDefault || conn.Egress.Action != "ALLOW":
		t.Errorf("egress %+v", conn.Egress)
	case e.Destination.Pod != "z1/service-d-0" || !has(e.Notes, "selects 2 pods; explaining z1/service-d-0"):
		t.Errorf("destination %+v, notes %q", e.Destination, e.Notes)
	}
}

// TestExplainWithNSXTraceflow: with NSX access the ids come from NSX and NSX's Traceflow agrees,
// rule for rule; after an NSX admin deletes the allow rule behind microseg's back, the Traceflow
// disagrees and says so.
func TestExplainWithNSXTraceflow(t *testing.T) {
	c := newCluster(t, nil, nil)
	nsx := c.r.NSXClient()
	e := explainOn(t, c, "z1/service-c-0", "z1/service-d-1", 8080, nsx)
	conn := e.Connections[0]
	key, _ := keyOfRule(c, "ClusterSecurityPolicy/protect-service-d", "ingress/allow-service-c")
	ruleID, ok := c.r.Sync.Owned.Rule(key)
	if !ok {
		t.Fatalf("no NSX rule for %s", key)
	}
	tr := conn.Traceflow
	switch {
	case !conn.Allowed || conn.Ingress.NSX.IDsFrom != "NSX" || conn.Ingress.NSX.RuleID != ruleID:
		t.Errorf("ingress %+v, want rule %s from NSX", conn.Ingress, ruleID)
	case tr == nil || tr.Skipped != "" || tr.API != APIManager || !tr.Agrees || !tr.Delivered || tr.Destination.RuleID != ruleID:
		t.Errorf("traceflow %+v", tr)
	}
	if err := nsx.DeleteRule(context.Background(), sectionOf(c, "csp/protect-service-d"), ruleID); err != nil {
		t.Fatal(err)
	}
	e = explainOn(t, c, "z1/service-c-0", "z1/service-d-1", 8080, nsx)
	if tr := e.Connections[0].Traceflow; tr == nil || tr.Agrees || tr.Delivered || !strings.Contains(tr.Message, "disagrees") {
		t.Errorf("after the allow rule was deleted in NSX: %+v", tr)
	}
}

// TestExplainStagedEffect: with protect-service-d staged, service-c → service-d is decided by the
// Baseline tier, and enforcing the staged policy would allow it by its rule.
func TestExplainStagedEffect(t *testing.T) {
	c := newCluster(t, func(w pipeline.World) pipeline.World {
		return w.WithEnforcement("protect-service-d", securityv1alpha1.EnforcementStaged)
	}, nil)
	conn := explainOn(t, c, "z1/service-c-0", "z1/service-d-0", 8080, nil).Connections[0]
	want := []StagedEffect{{Policy: "ClusterSecurityPolicy/protect-service-d", Allowed: true, Decider: "ClusterSecurityPolicy/protect-service-d ingress/allow-service-c"}}
	if conn.Allowed || conn.Ingress.Tier != "Baseline" || !slices.Equal(conn.Staged, want) {
		t.Errorf("allowed %v, ingress %+v, staged %+v", conn.Allowed, conn.Ingress, conn.Staged)
	}
}

// TestExplainWithViewRightsInTwoNamespaces: cluster-wide lists of pods and NetworkPolicies are
// forbidden; explain reads the two namespaces, says what it could not read, and still decides
// right.
func TestExplainWithViewRightsInTwoNamespaces(t *testing.T) {
	forbidden := interceptor.Funcs{List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
		lo := &client.ListOptions{}
		lo.ApplyOptions(opts)
		switch list.(type) {
		case *corev1.PodList, *corev1.NamespaceList:
			if lo.Namespace == "" {
				return apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New("no cluster-wide rights"))
			}
		}
		return c.List(ctx, list, opts...)
	}}
	c := newCluster(t, nil, &forbidden)
	e := explainOn(t, c, "x1/service-a-1", "y1/service-b-0", 8080, nil)
	conn := e.Connections[0]
	if !conn.Allowed || conn.Ingress.Object != "NetworkPolicy/y1/service-b-from-service-a" || !has(e.Missing, "Pods of every namespace: forbidden") ||
		!has(e.Missing, "Namespaces: forbidden") {
		t.Errorf("allowed %v, ingress %+v, missing %q", conn.Allowed, conn.Ingress, e.Missing)
	}
}

func keyOfRule(c cluster, object, rule string) (string, bool) {
	for _, s := range c.r.Model.Sections {
		for _, r := range s.Rules {
			if r.Origin.Object.String() == object && r.Origin.Rule == rule {
				return r.Key, true
			}
		}
	}
	return "", false
}

func sectionOf(c cluster, key string) string {
	id, _ := c.r.Sync.Owned.Section(key)
	return id
}

func objRef(name string) ir.ObjectRef {
	return ir.ObjectRef{Kind: ir.KindClusterSecurityPolicy, Name: name}
}
