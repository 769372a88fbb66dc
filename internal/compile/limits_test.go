package compile

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/ir"
)

// splitEvidence counts what the splits produced, to prove each one happened.
type splitEvidence struct {
	continuedSections, nestedGroups, nestedOfNested, excludedCollapsed, multiEntryL4, ipsetChunks int
}

func evidence(m *ir.Model) splitEvidence {
	var e splitEvidence
	nested := map[string]bool{}
	for _, g := range m.Groups {
		if g.Kind == ir.KindNestedGroup {
			e.nestedGroups++
			nested[g.Key] = true
		}
	}
	for _, g := range m.Groups {
		for _, k := range g.Members {
			if nested[k] {
				e.nestedOfNested++
			}
		}
	}
	for _, s := range m.Sections {
		if strings.Contains(s.Key, "#") {
			e.continuedSections++
		}
		for _, r := range s.Rules {
			for _, list := range [][]ir.Ref{r.Sources, r.Destinations} {
				if len(list) == 1 && (r.SourcesExcluded || r.DestinationsExcluded) && list[0].Group != "" && nested[list[0].Group] {
					e.excludedCollapsed++
				}
			}
			l4 := map[string]int{}
			for _, s := range r.Services {
				l4[s.L4Protocol]++
			}
			if l4["TCP"] > 1 || l4["UDP"] > 1 {
				e.multiEntryL4++
			}
			ipsets := 0
			for _, ref := range r.Destinations {
				if g, ok := m.GroupByKey(ref.Group); ok && g.Kind == ir.KindIPSet && g.Family == ir.FamilyIPv4 {
					ipsets++
				}
			}
			if ipsets > 1 {
				e.ipsetChunks++
			}
		}
	}
	return e
}

// TestTinyLimitsSplitEverything: with every limit tiny, the output still passes ir.Check (so
// every list is within its limit), and each kind of split actually happened.
func TestTinyLimitsSplitEverything(t *testing.T) {
	in := goldenPassWorld()
	in.Settings = tinySettings()
	// A third excluded peer for reject-rest: the negated list no longer fits and is collapsed.
	in.ClusterSecurityPolicies[0].Spec.Ingress = append([]securityv1alpha1.IngressRule{{Name: "pass-doc",
		Action: securityv1alpha1.ActionPass, From: []securityv1alpha1.Peer{networks("192.0.2.0/24")}}},
		in.ClusterSecurityPolicies[0].Spec.Ingress...)
	// Enough namespaces for nested groups of nested groups (2 criteria per group... 1 here).
	for i := range 6 {
		in.Namespaces = append(in.Namespaces, namespace(fmt.Sprintf("team-%d", i), "env=dev"))
		in.Pods = append(in.Pods, testPod(fmt.Sprintf("team-%d", i), "p", "app=x", []string{fmt.Sprintf("10.1.%d.1", i)}))
	}
	m := mustCompile(t, in)
	e := evidence(m)
	t.Logf("%+v", e)
	// And the splits preserve the semantics (the NSX group's members respect the documented
	// assumption: no pod, no address of another peer).
	w := testWorld{in: in, external: map[string][]netip.Addr{"monitoring-vms": {netip.MustParseAddr("203.0.113.5")}},
		outside: []netip.Addr{netip.MustParseAddr("203.0.113.5"), netip.MustParseAddr("192.0.2.7"),
			netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("2001:db8::1")}}
	for _, fold := range []bool{false, true} {
		_, bad := checkWorld(t, w, fold)
		reportMismatches(t, "tiny limits, pass world", w, bad)
	}
	if e.continuedSections == 0 || e.nestedGroups == 0 || e.nestedOfNested == 0 || e.excludedCollapsed == 0 || e.multiEntryL4 == 0 {
		t.Errorf("a split did not happen: %+v", e)
	}
	// Refs per field: pods resolving http to 8080 have three addresses, one IPSet each (one entry
	// per IPSet), which at two refs per field need two rules.
	n8080 := 0
	for _, r := range rulesOf(m, "platform", "ingress/allow-tools-http") {
		if r.Services[0].DestinationPorts[0] == "8080" {
			n8080++
		}
	}
	if n8080 != 2 {
		t.Errorf("allow-tools-http on 8080: %d rules, want the three destination refs split over two", n8080)
	}
}

// TestDefaultLimitsAtScale exercises the real limits: more than 1,000 rules from one policy,
// IPSets past 4,000 entries, criteria past 5 per group and members past 500 per nested group.
func TestDefaultLimitsAtScale(t *testing.T) {
	in := Input{ClusterID: "c1"}
	const namespaces = 3000
	for i := range namespaces {
		in.Namespaces = append(in.Namespaces, namespace(fmt.Sprintf("ns%04d", i), "env=dev"))
	}
	// 1,200 pods in ns0000 with a different number for the named port each; every other address,
	// so that the addresses do not merge into ranges.
	for i := range 1200 {
		in.Pods = append(in.Pods, testPod("ns0000", fmt.Sprintf("p%04d", i), "app=web",
			[]string{fmt.Sprintf("10.%d.%d.%d", 1+i/(128*256), (i/128)%256, 2*(i%128))}, fmt.Sprintf("http:%d", 10000+i)))
	}
	for i := range 4500 {
		in.Pods = append(in.Pods, testPod("ns0001", fmt.Sprintf("q%04d", i), "app=db",
			[]string{fmt.Sprintf("10.%d.%d.%d", 100+i/(128*256), (i/128)%256, 2*(i%128))}))
	}
	p := csp("named", securityv1alpha1.TierSecurity, 1, subjectPods(sel("kubernetes.io/metadata.name=ns0000"), nil))
	p.Spec.Ingress = []securityv1alpha1.IngressRule{{Name: "http", Action: securityv1alpha1.ActionAllow,
		From: []securityv1alpha1.Peer{nsPeer(sel("env=dev"))}, Ports: []securityv1alpha1.Port{cspPortNamed("TCP", "http")}}}
	big := np("ns0001", "not-web", selExpr("app", metav1.LabelSelectorOpNotIn, "web"))
	big.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{}}
	in.ClusterSecurityPolicies = []securityv1alpha1.ClusterSecurityPolicy{p}
	in.NetworkPolicies = []networkingv1.NetworkPolicy{big}
	m := mustCompile(t, in)
	keys := []string{}
	for _, s := range m.Sections {
		keys = append(keys, fmt.Sprintf("%s:%d", s.Key, len(s.Rules)))
	}
	// The NetworkPolicy allows every ingress to the pods it isolates: its isolation rule is never
	// reached and left out.
	if want := "csp/named:1000 csp/named#2:200 np/:1"; strings.Join(keys, " ") != want {
		t.Errorf("sections %v, want %s", keys, want)
	}
	e := evidence(m)
	if e.ipsetChunks == 0 {
		t.Errorf("4,500 addresses must be split over two IPSets")
	}
	// 3,000 namespaces = 600 tag groups of 5 criteria, nested as 2 groups of ≤500 under one.
	if e.nestedOfNested == 0 {
		t.Errorf("3,000 namespaces need nested groups of nested groups: %+v", e)
	}
}

// TestSemanticFailClosedPassBudget: with a Pass budget of one piece, rules past it are realized
// fail-closed. The DFW may then deny what the policies allow, never the other way round, and the
// warning says so.
func TestSemanticFailClosedPassBudget(t *testing.T) {
	seeds := *semanticSeeds / 4
	warned := 0
	for seed := range uint64(seeds) {
		w := randomWorld(seed + 200000)
		w.in.Settings = Settings{MaxPassPieces: 1}
		m := mustCompile(t, w.in)
		tooComplex := false
		for _, x := range m.Warnings {
			tooComplex = tooComplex || x.Code == ir.WarnPassTooComplex
		}
		if tooComplex {
			warned++
		}
		_, bad := checkWorld(t, w, false)
		for _, x := range bad {
			if x.got || !tooComplex {
				reportMismatches(t, fmt.Sprintf("fail-closed, seed %d", seed+200000), w, bad)
				return
			}
		}
	}
	if warned == 0 {
		t.Errorf("no world exceeded the Pass budget: the test proves nothing")
	}
}
