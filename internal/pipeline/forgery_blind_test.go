package pipeline

import (
	"context"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/ncpemu"
	"github.com/microseg/microseg/internal/ncpemu/layout"
	"github.com/microseg/microseg/internal/ncptags"
	"github.com/microseg/microseg/internal/nsxsim/dataplane"
	"github.com/microseg/microseg/internal/reference"
	"github.com/microseg/microseg/nsxclient"
)

// TestWithoutTheCheckTheForgedTagsWouldMatch shows the hole the compiler closes, in the simulator's
// own dataplane: the tag groups the compiler emitted before it checked for forged labels (the world
// compiled as if pod labels never overrode NCP's tags) take the spoofers' ports for members, while
// the compiler now realizes those sets by address. So the test above can fail: it fails if the
// check is removed.
func TestWithoutTheCheckTheForgedTagsWouldMatch(t *testing.T) {
	ctx := context.Background()
	w := forgeryWorld(t)
	r, err := Run(ctx, w, Options{})
	if err != nil {
		t.Fatal(err)
	}
	blind, err := compile.Compile(compile.Input{ClusterID: DefaultClusterID, ClusterSecurityPolicies: w.ClusterSecurityPolicies,
		NetworkPolicies: w.NetworkPolicies, Namespaces: w.Namespaces, Pods: withoutReservedLabels(w).Pods})
	if err != nil {
		t.Fatal(err)
	}
	honest := map[string][]ncptags.Tag{} // port id → the tags the pod's port would carry without its reserved labels
	for _, pod := range withoutReservedLabels(w).Pods {
		honest[r.ports[PodRef{pod.Namespace, pod.Name}].id] = ncptags.PortTags(DefaultClusterID,
			ncptags.Pod{Namespace: pod.Namespace, Name: pod.Name, Labels: pod.Labels})
	}
	owner := map[string]PodRef{}
	for ref, pp := range r.ports {
		owner[pp.id] = ref
	}
	// Which pods each of the blind model's tag groups takes for members they are not.
	fooled := map[PodRef][]string{}
	for _, g := range blind.Groups {
		if g.Kind != ir.KindTagGroup {
			continue
		}
		created, err := r.client.CreateNSGroup(ctx, tagGroupBody(g))
		if err != nil {
			t.Fatal(err)
		}
		ports, _ := r.sim.EffectivePorts(created.ID)
		for _, id := range ports {
			if !slices.ContainsFunc(g.Criteria, func(c ir.Criterion) bool { return ncptags.Satisfies(honest[id], criterionTags(c)) }) {
				fooled[owner[id]] = append(fooled[owner[id]], g.DisplayName)
			}
		}
	}
	// The simulator compares tags case-sensitively, so ncp/Project does not match there (NSX ≥ 3
	// may; the compiler's own tests cover that). ncp/pod and this cluster's ncp/cluster add nothing
	// a pod's port does not carry already: microseg's criteria only ask that ncp/pod exists.
	want := []PodRef{spoofer, spooferD, spooferOther, spooferA}
	if got := slices.SortedFunc(maps.Keys(fooled), func(a, b PodRef) int { return strings.Compare(a.String(), b.String()) }); !slices.Equal(got, want) {
		t.Fatalf("the blind model's tag groups take %v for pods they are not (%v); want %v", got, fooled, want)
	}
	t.Logf("without the check, tag groups match forged ports: %v", fooled)

	// With the check, the rules that used those groups as peers use IPSets instead.
	peerKind := func(m *ir.Model, object, rule string) []ir.GroupKind {
		var kinds []ir.GroupKind
		for _, s := range m.Sections {
			for _, rl := range s.Rules {
				if rl.Origin.Object.String() != object || rl.Origin.Rule != rule {
					continue
				}
				for _, ref := range slices.Concat(rl.Sources, rl.Destinations) {
					if g, ok := m.GroupByKey(ref.Group); ok {
						kinds = append(kinds, g.Kind)
					}
				}
			}
		}
		slices.Sort(kinds)
		return slices.Compact(kinds)
	}
	for _, x := range [][2]string{{"ClusterSecurityPolicy/protect-service-d", "ingress/allow-service-c"},
		{"ClusterSecurityPolicy/baseline-vault", "ingress/allow-z1"}, {"NetworkPolicy/z1/service-c-from-a-and-b", "ingress/0"}} {
		before, after := peerKind(blind, x[0], x[1]), peerKind(r.Model, x[0], x[1])
		if !slices.Equal(before, []ir.GroupKind{ir.KindTagGroup}) || slices.Contains(after, ir.KindTagGroup) {
			t.Errorf("%s %s: peers realized as %v without the check and %v with it; want a tag group, then none", x[0], x[1], before, after)
		}
	}
	count := func(m *ir.Model) map[ir.GroupKind]int {
		n := map[ir.GroupKind]int{}
		for _, g := range m.Groups {
			n[g.Kind]++
		}
		return n
	}
	t.Logf("groups without the check: %v; with it: %v", count(blind), count(r.Model))
}

func criterionTags(c ir.Criterion) []ncptags.Tag {
	out := make([]ncptags.Tag, len(c.Tags))
	for i, t := range c.Tags {
		out[i] = ncptags.Tag{Scope: t.Scope, Tag: t.Tag}
	}
	return out
}

// tagGroupBody is an NSGroup with a TagGroup's criteria, as apply writes it.
func tagGroupBody(g ir.Group) nsxclient.NSGroup {
	ng := nsxclient.NSGroup{ManagedResource: nsxclient.ManagedResource{DisplayName: "blind " + g.DisplayName}}
	for _, c := range g.Criteria {
		exprs := make([]nsxclient.NSGroupExpression, len(c.Tags))
		for i, t := range c.Tags {
			exprs[i] = nsxclient.NSGroupExpression{ResourceType: nsxclient.ExprTag, TargetType: nsxclient.TargetLogicalPort, Scope: t.Scope, Tag: t.Tag}
		}
		ng.MembershipCriteria = append(ng.MembershipCriteria, nsxclient.NSGroupExpression{ResourceType: nsxclient.ExprComplex, Expressions: exprs})
	}
	return ng
}

// TestAnotherClustersForgedTagsAreBeyondTheCompiler pins the limit docs/security.md states: a pod
// of another cluster sharing the NSX Manager, whose labels name this cluster and one of its
// namespaces, gets a port that this cluster's tag groups match. The compiler cannot see that pod,
// so it cannot route around it; the admission policy (config/admission) must run in every cluster
// that shares the manager. Should this test start failing, the limit is gone: update the docs.
func TestAnotherClustersForgedTagsAreBeyondTheCompiler(t *testing.T) {
	ctx := context.Background()
	r, err := Run(ctx, worldFrom(t, "config/samples"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	intruder := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant", Name: "intruder", UID: "other-cluster-intruder",
		Labels: map[string]string{"app": "service-c", "ncp/cluster": DefaultClusterID, "ncp/project": "z1"}}}
	const intruderIP = "10.99.0.1"
	port, err := r.client.CreateLogicalPort(ctx, layout.PortForPod(ncpemu.Config{ClusterName: "another-cluster"}, intruder,
		[]netip.Addr{netip.MustParseAddr(intruderIP)}))
	if err != nil {
		t.Fatal(err)
	}
	d := r.ports[PodRef{"z1", "service-d-0"}]
	res, err := r.sim.Traceflow(ctx, dataplane.Flow{SrcPortID: port.ID, SrcIP: intruderIP, DstPortID: d.id, DstIP: d.addrs[0],
		Protocol: "TCP", DstPort: reference.ServedPort})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Allowed || !strings.Contains(res.Destination.RuleName, "allow-service-c") {
		t.Fatalf("another cluster's pod with forged ncp/cluster and ncp/project tags: allowed=%v by %q; docs/security.md says this "+
			"cluster's compiler cannot stop it: update the docs if that changed", res.Allowed, res.Destination.RuleName)
	}
}
