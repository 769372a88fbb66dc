package compile

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/ir"
)

// Table tests, one construct at a time, asserting the shape of the IR. The semantic tests check
// meaning; these check the representation choices (tags when exact, where IPSets go, splits).

func rulesOf(m *ir.Model, objName, rulePrefix string) []ir.Rule {
	var out []ir.Rule
	for _, s := range m.Sections {
		for _, r := range s.Rules {
			if slices.ContainsFunc(r.Origin.All(), func(o ir.Origin) bool {
				return o.Object.Name == objName && strings.HasPrefix(o.Rule, rulePrefix)
			}) {
				out = append(out, r)
			}
		}
	}
	return out
}

func group(t *testing.T, m *ir.Model, ref ir.Ref) *ir.Group {
	t.Helper()
	g, ok := m.GroupByKey(ref.Group)
	if !ok {
		t.Fatalf("ref %+v is not a group of the model", ref)
	}
	return g
}

// criteriaStrings renders a tag group's criteria as "scope=tag&scope" strings.
func criteriaStrings(g *ir.Group) []string {
	var out []string
	for _, c := range g.Criteria {
		var parts []string
		for _, t := range c.Tags {
			if t.Tag == "" {
				parts = append(parts, t.Scope)
			} else {
				parts = append(parts, t.Scope+"="+t.Tag)
			}
		}
		out = append(out, strings.Join(parts, "&"))
	}
	return out
}

// groupIPs is every address entry of the IPSets a ref list names.
func groupIPs(t *testing.T, m *ir.Model, refs []ir.Ref) []string {
	t.Helper()
	var out []string
	for _, r := range refs {
		g := group(t, m, r)
		if g.Kind != ir.KindIPSet {
			t.Fatalf("%s is a %s, want an IPSet", g.Key, g.Kind)
		}
		out = append(out, g.IPs...)
	}
	slices.Sort(out)
	return out
}

func basicWorld() Input {
	return Input{ClusterID: "c1",
		Namespaces: []corev1.Namespace{namespace("shop", "env=prod"), namespace("tools", "env=dev"), namespace("kube-system", "")},
		Pods: []corev1.Pod{
			testPod("shop", "web-1", "app=web,tier=fe", []string{"10.0.0.1", "fd00::1"}, "http:8080"),
			testPod("shop", "web-2", "app=web,tier=fe", []string{"10.0.0.2"}, "http:9090"),
			testPod("shop", "web-3", "app=web", []string{"10.0.0.3"}),
			testPod("shop", "db-1", "app=db,tier=be", []string{"10.0.0.4"}, "pg:5432"),
			testPod("tools", "mon-1", "app=mon", []string{"10.0.1.1"}, "http:8080"),
			testPod("kube-system", "dns-1", "k8s-app=dns", []string{"10.0.2.1"}, "dns:53/UDP"),
		}}
}

func TestExactSelectorsBecomeTagGroups(t *testing.T) {
	in := basicWorld()
	p := np("shop", "web", sel("app=web"))
	p.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{
		{NamespaceSelector: sel("env=dev"), PodSelector: selExpr("app", metav1.LabelSelectorOpIn, "mon", "probe")},
		{NamespaceSelector: &metav1.LabelSelector{}},
	}}}
	in.NetworkPolicies = []networkingv1.NetworkPolicy{p}
	m := mustCompile(t, in)
	rules := rulesOf(m, "web", "ingress/")
	if len(rules) != 1 {
		t.Fatalf("got %d rules, want 1", len(rules))
	}
	r := rules[0]
	if got := criteriaStrings(group(t, m, r.AppliedTo[0])); !slices.Equal(got, []string{"ncp/cluster=c1&ncp/project=shop&app=web"}) {
		t.Errorf("applied_to criteria %v", got)
	}
	if len(r.Destinations) != 0 || len(r.Sources) != 1 || r.Services != nil {
		t.Fatalf("rule %+v: want one source group, no destinations, any service", r)
	}
	// The cluster-wide term ("every namespace") subsumes the other one.
	if got := criteriaStrings(group(t, m, r.Sources[0])); !slices.Equal(got, []string{"ncp/cluster=c1&ncp/pod"}) {
		t.Errorf("sources criteria %v", got)
	}
	for _, g := range m.Groups {
		if g.Kind != ir.KindTagGroup {
			t.Errorf("unexpected %s %s: every selector here is exact", g.Kind, g.Key)
		}
	}
}

func TestInExpandsToCriteria(t *testing.T) {
	in := basicWorld()
	p := np("shop", "p", sel("app=db"))
	p.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{
		{NamespaceSelector: selExpr("env", metav1.LabelSelectorOpExists), PodSelector: selExpr("app", metav1.LabelSelectorOpIn, "web", "mon")},
	}}}
	in.NetworkPolicies = []networkingv1.NetworkPolicy{p}
	m := mustCompile(t, in)
	got := criteriaStrings(group(t, m, rulesOf(m, "p", "ingress/")[0].Sources[0]))
	want := []string{"ncp/cluster=c1&ncp/project=shop&app=mon", "ncp/cluster=c1&ncp/project=shop&app=web",
		"ncp/cluster=c1&ncp/project=tools&app=mon", "ncp/cluster=c1&ncp/project=tools&app=web"}
	if !slices.Equal(got, want) {
		t.Errorf("criteria %v, want %v", got, want)
	}
}

func TestNotInAndDoesNotExistBecomeIPSets(t *testing.T) {
	in := basicWorld()
	p := np("shop", "not-db", selExpr("app", metav1.LabelSelectorOpNotIn, "db"))
	p.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{
		{PodSelector: selExpr("tier", metav1.LabelSelectorOpDoesNotExist)}}}}
	in.NetworkPolicies = []networkingv1.NetworkPolicy{p}
	m := mustCompile(t, in)
	r := rulesOf(m, "not-db", "ingress/")[0]
	// applied_to: the tag superset (the NotIn dropped): every pod of shop.
	if got := criteriaStrings(group(t, m, r.AppliedTo[0])); !slices.Equal(got, []string{"ncp/cluster=c1&ncp/project=shop"}) {
		t.Errorf("applied_to criteria %v", got)
	}
	// destinations: exactly the selected pods' addresses (web-1, web-2, web-3).
	if got := groupIPs(t, m, r.Destinations); !slices.Equal(got, []string{"10.0.0.1-10.0.0.3", "fd00::1"}) {
		t.Errorf("destinations %v", got)
	}
	// sources: shop pods without tier: web-3.
	if got := groupIPs(t, m, r.Sources); !slices.Equal(got, []string{"10.0.0.3"}) {
		t.Errorf("sources %v", got)
	}
	iso := rulesOf(m, "not-db", "isolate/ingress")[0]
	if iso.Action != ir.ActionDrop || len(iso.Sources) != 0 || !slices.Equal(iso.Destinations, r.Destinations) {
		t.Errorf("isolation rule %+v", iso)
	}
}

func TestNamedPortIngressSplitsPerNumber(t *testing.T) {
	in := basicWorld()
	p := np("shop", "web", sel("app=web"))
	p.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{npPort("", "http")}}}
	in.NetworkPolicies = []networkingv1.NetworkPolicy{p}
	m := mustCompile(t, in)
	rules := rulesOf(m, "web", "ingress/")
	if len(rules) != 2 {
		t.Fatalf("got %d rules, want one per number (8080, 9090)", len(rules))
	}
	want := []struct{ port, ips string }{{"8080", "10.0.0.1 fd00::1"}, {"9090", "10.0.0.2"}}
	for i, r := range rules {
		if r.Services[0].DestinationPorts[0] != want[i].port {
			t.Errorf("rule %d: ports %v, want %s", i, r.Services, want[i].port)
		}
		if got := strings.Join(groupIPs(t, m, r.Destinations), " "); got != want[i].ips {
			t.Errorf("rule %d: destinations %s, want %s (web-3 has no http port and gets no rule)", i, got, want[i].ips)
		}
		if got := criteriaStrings(group(t, m, r.AppliedTo[0])); !slices.Equal(got, []string{"ncp/cluster=c1&ncp/project=shop&app=web"}) {
			t.Errorf("rule %d: applied_to %v, want the app=web tag superset", i, got)
		}
	}
}

func TestNamedPortResolvingAlikeKeepsTagGroup(t *testing.T) {
	in := basicWorld()
	p := np("tools", "mon", sel("app=mon"))
	p.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{npPort("", "http"), npPort("", 8443)}}}
	in.NetworkPolicies = []networkingv1.NetworkPolicy{p}
	m := mustCompile(t, in)
	rules := rulesOf(m, "mon", "ingress/")
	if len(rules) != 1 || len(rules[0].Destinations) != 0 {
		t.Fatalf("want one rule on the tag group, got %+v", rules)
	}
	if got := rules[0].Services[0].DestinationPorts; !slices.Equal(got, []string{"8080", "8443"}) {
		t.Errorf("ports %v: numeric and named ports resolving alike should share the rule", got)
	}
}

func TestNamedPortEgressSplitsPerDestination(t *testing.T) {
	in := basicWorld()
	p := np("tools", "mon", sel("app=mon"))
	p.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{
		To:    []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel("env=prod")}, {IPBlock: &networkingv1.IPBlock{CIDR: "192.0.2.0/24"}}},
		Ports: []networkingv1.NetworkPolicyPort{npPort("TCP", "http")}}}
	in.NetworkPolicies = []networkingv1.NetworkPolicy{p}
	m := mustCompile(t, in)
	rules := rulesOf(m, "mon", "egress/")
	if len(rules) != 2 {
		t.Fatalf("got %d rules, want 2", len(rules))
	}
	for i, want := range []string{"10.0.0.1 fd00::1", "10.0.0.2"} {
		r := rules[i]
		if r.Direction != ir.DirectionOut || len(r.Sources) != 0 {
			t.Errorf("rule %d: %+v", i, r)
		}
		// The outside CIDR has no pod, so it cannot resolve a named port.
		if got := strings.Join(groupIPs(t, m, r.Destinations), " "); got != want {
			t.Errorf("rule %d: destinations %s, want %s", i, got, want)
		}
	}
}

func TestInvalidObjectsAreRejectedAlone(t *testing.T) {
	in := basicWorld()
	bad := csp("bad", securityv1alpha1.TierSecurity, 1, subjectNamespaces(nil))
	bad.Spec.Ingress = []securityv1alpha1.IngressRule{{Name: "x", Action: securityv1alpha1.ActionDeny, From: []securityv1alpha1.Peer{networks("10.0.0.0/33")}}}
	badNP := np("shop", "bad-np", selExpr("app", "Matches", "x"))
	good := np("shop", "good", sel("app=web"))
	in.ClusterSecurityPolicies = []securityv1alpha1.ClusterSecurityPolicy{bad}
	in.NetworkPolicies = []networkingv1.NetworkPolicy{badNP, good}
	m := mustCompile(t, in)
	for _, name := range []string{"bad", "bad-np"} {
		var res *ir.ObjectResult
		for i := range m.Objects {
			if m.Objects[i].Object.Name == name {
				res = &m.Objects[i]
			}
		}
		if res == nil || res.Accepted || res.Error == "" || res.RuleCount != 0 || len(res.Warnings) != 1 || res.Warnings[0].Code != ir.WarnInvalid {
			t.Errorf("%s: %+v", name, res)
		}
	}
	if res, ok := m.Object(ir.ObjectRef{Kind: ir.KindNetworkPolicy, Namespace: "shop", Name: "good"}); !ok || !res.Accepted || res.RuleCount != 1 {
		t.Errorf("good: %+v", res)
	}
}

func TestPolicyTypes(t *testing.T) {
	cases := []struct {
		name     string
		types    []networkingv1.PolicyType
		ingress  []networkingv1.NetworkPolicyIngressRule
		egress   []networkingv1.NetworkPolicyEgressRule
		isolates []string
	}{
		{"default ingress only", nil, nil, nil, []string{"isolate/ingress"}},
		{"default egress when egress rules exist", nil, nil, []networkingv1.NetworkPolicyEgressRule{{Ports: []networkingv1.NetworkPolicyPort{npPort("UDP", 53)}}}, []string{"isolate/ingress", "isolate/egress"}},
		// An egress rule that allows everything leaves the egress isolation nothing to drop:
		// the isolation rule it shadows is left out.
		{"egress isolation shadowed by allow-all", nil, nil, []networkingv1.NetworkPolicyEgressRule{{}}, []string{"isolate/ingress"}},
		{"empty egress list is not egress", nil, nil, []networkingv1.NetworkPolicyEgressRule{}, []string{"isolate/ingress"}},
		{"explicit egress", []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}, []networkingv1.NetworkPolicyIngressRule{{}}, nil, []string{"isolate/egress"}},
		{"explicit both", []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}, []networkingv1.NetworkPolicyIngressRule{}, nil, []string{"isolate/ingress", "isolate/egress"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := basicWorld()
			p := np("shop", "p", sel("app=web"))
			p.Spec.PolicyTypes, p.Spec.Ingress, p.Spec.Egress = tc.types, tc.ingress, tc.egress
			in.NetworkPolicies = []networkingv1.NetworkPolicy{p}
			m := mustCompile(t, in)
			var got []string
			for _, r := range rulesOf(m, "p", "isolate/") {
				got = append(got, r.Origin.Rule)
			}
			if !slices.Equal(got, tc.isolates) {
				t.Errorf("isolation %v, want %v", got, tc.isolates)
			}
			if tc.types != nil && tc.types[0] == networkingv1.PolicyTypeEgress && len(rulesOf(m, "p", "ingress/")) != 0 {
				t.Errorf("ingress rules of an egress-only policy must be ignored")
			}
		})
	}
}

func TestOnlyLivePodsTakePart(t *testing.T) {
	in := basicWorld()
	done := testPod("shop", "job", "app=web", []string{"10.0.0.9"})
	done.Status.Phase = corev1.PodSucceeded
	host := testPod("shop", "agent", "app=web", []string{"192.168.0.10"})
	host.Spec.HostNetwork = true
	pending := testPod("shop", "new", "app=web", nil)
	pending.Status.Phase = corev1.PodPending
	in.Pods = append(in.Pods, done, host, pending)
	p := np("shop", "p", selExpr("app", metav1.LabelSelectorOpNotIn, "db"))
	p.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{}}
	in.NetworkPolicies = []networkingv1.NetworkPolicy{p}
	m := mustCompile(t, in)
	if got := groupIPs(t, m, rulesOf(m, "p", "ingress/")[0].Destinations); !slices.Equal(got, []string{"10.0.0.1-10.0.0.3", "fd00::1"}) {
		t.Errorf("destinations %v: finished and host-network pods must not appear", got)
	}
}

func TestNamespaceNameLabelIsAlwaysThere(t *testing.T) {
	in := basicWorld()
	in.Namespaces = []corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}} // no labels; tools has no object at all
	p := csp("p", securityv1alpha1.TierSecurity, 1, subjectNamespaces(selExpr("kubernetes.io/metadata.name", metav1.LabelSelectorOpIn, "shop", "tools")))
	p.Spec.Ingress = []securityv1alpha1.IngressRule{{Name: "x", Action: securityv1alpha1.ActionDeny, From: []securityv1alpha1.Peer{nsPeer(nil)}}}
	in.ClusterSecurityPolicies = []securityv1alpha1.ClusterSecurityPolicy{p}
	m := mustCompile(t, in)
	got := criteriaStrings(group(t, m, rulesOf(m, "p", "ingress/")[0].AppliedTo[0]))
	if !slices.Equal(got, []string{"ncp/cluster=c1&ncp/project=shop", "ncp/cluster=c1&ncp/project=tools"}) {
		t.Errorf("applied_to %v", got)
	}
}

func TestLabelsTagsCannotCarry(t *testing.T) {
	long := strings.Repeat("k", 129)
	cases := []struct {
		name string
		pods []corev1.Pod
		sel  *metav1.LabelSelector
	}{
		{"key longer than a tag scope", []corev1.Pod{testPod("shop", "a", long+"=x", []string{"10.0.0.1"})}, sel(long + "=x")},
		{"NCP's own scope", []corev1.Pod{testPod("shop", "a", "ncp/pod=x", []string{"10.0.0.1"})}, sel("ncp/pod=x")},
		{"case variant in scope", []corev1.Pod{testPod("shop", "a", "app=web", []string{"10.0.0.1"}), testPod("shop", "b", "app=Web", []string{"10.0.0.2"})}, sel("app=web")},
		{"empty value", []corev1.Pod{testPod("shop", "a", "app=", []string{"10.0.0.1"}), testPod("shop", "b", "app=x", []string{"10.0.0.2"})}, sel("app=")},
		{"more labels than tags", []corev1.Pod{testPod("shop", "a", "app=web,"+manyLabels(28), []string{"10.0.0.1"})}, sel("app=web")},
		{"four label conditions", []corev1.Pod{testPod("shop", "a", "a=1,b=2,c=3,d=4", []string{"10.0.0.1"})}, sel("a=1,b=2,c=3,d=4")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{ClusterID: "c1", Namespaces: []corev1.Namespace{namespace("shop", "")}, Pods: tc.pods}
			p := np("shop", "p", tc.sel)
			p.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{}}
			in.NetworkPolicies = []networkingv1.NetworkPolicy{p}
			m := mustCompile(t, in)
			r := rulesOf(m, "p", "ingress/")[0]
			if got := groupIPs(t, m, r.Destinations); !slices.Equal(got, []string{"10.0.0.1"}) {
				t.Errorf("exact set must be an IPSet restriction, got %v", got)
			}
		})
	}
}

func manyLabels(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, "l"+strings.Repeat("x", i)+"=v")
	}
	return strings.Join(parts, ",")
}

func TestIPBlockExceptIsCIDRArithmetic(t *testing.T) {
	in := basicWorld()
	p := np("shop", "p", sel("app=web"))
	p.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{
		{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/22", Except: []string{"10.0.1.0/24", "10.0.2.0/23"}}}}}}
	in.NetworkPolicies = []networkingv1.NetworkPolicy{p}
	m := mustCompile(t, in)
	r := rulesOf(m, "p", "egress/")[0]
	if !slices.Equal(r.Destinations, []ir.Ref{{CIDR: "10.0.0.0/24"}}) {
		t.Errorf("destinations %+v", r.Destinations)
	}
}

func TestObjectResults(t *testing.T) {
	m := mustCompile(t, referenceScenario(t))
	res, ok := m.Object(ir.ObjectRef{Kind: ir.KindClusterSecurityPolicy, Name: "protect-service-d"})
	if !ok || !res.Accepted || res.RuleCount != 2 || !slices.Equal(res.Sections, []string{"csp/protect-service-d"}) || len(res.Groups) != 2 {
		t.Errorf("protect-service-d: %+v", res)
	}
	res, ok = m.Object(ir.ObjectRef{Kind: ir.KindNetworkPolicy, Namespace: "z1", Name: "service-c-from-a-and-b"})
	if !ok || res.RuleCount != 2 || !slices.Equal(res.Sections, []string{"np/"}) {
		t.Errorf("service-c-from-a-and-b: %+v", res)
	}
}

func TestCompileRejectsUnusableInput(t *testing.T) {
	if _, err := Compile(Input{}); err == nil {
		t.Error("no cluster id must fail")
	}
	if _, err := Compile(Input{ClusterID: "c", Settings: Settings{Limits: ir.Limits{MaxExpressionsPerCriterion: 1}}}); err == nil {
		t.Error("a criterion that cannot hold cluster and namespace must fail")
	}
	if _, err := Compile(Input{ClusterID: "c"}); err != nil {
		t.Errorf("an empty cluster compiles: %v", err)
	}
	d := DefaultSettings()
	if d.validate() != nil || d.MaxRulesPerSection != 1000 || d.MaxPassPieces != 256 || d.MaxGroupNesting != 3 {
		t.Errorf("DefaultSettings: %+v", d)
	}
}

func TestLongNamesFitNSX(t *testing.T) {
	in := basicWorld()
	name := strings.Repeat("a", 253)
	p := csp(name, securityv1alpha1.TierSecurity, 1, subjectNamespaces(nil))
	p.Spec.Ingress = []securityv1alpha1.IngressRule{{Name: strings.Repeat("r", 63), Action: securityv1alpha1.ActionDeny, From: []securityv1alpha1.Peer{nsPeer(nil)}}}
	in.ClusterSecurityPolicies = []securityv1alpha1.ClusterSecurityPolicy{p}
	in.ClusterID = strings.Repeat("c", 200)
	m := mustCompile(t, in) // ir.Check enforces display names ≤255 and section keys ≤256
	if len(m.Sections[0].Key) > 256 || !strings.HasPrefix(m.Sections[0].Key, "csp/aaa") {
		t.Errorf("section key %q", m.Sections[0].Key)
	}
}
