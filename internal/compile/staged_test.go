package compile

import (
	"slices"
	"strings"
	"testing"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/ir"
)

// stagedWorld is the reference scenario plus two Security-tier policies around protect-service-d
// (priority 10): "audit" (priority 5) passes z1's traffic on and denies x1's egress to z1 on
// 8080, "late" (priority 20) denies everything into z1's pods.
func stagedWorld(t *testing.T) Input {
	in := referenceScenario(t)
	z1 := sel("kubernetes.io/metadata.name=z1")
	audit := csp("audit", securityv1alpha1.TierSecurity, 5, subjectNamespaces(z1))
	audit.Spec.Ingress = []securityv1alpha1.IngressRule{
		{Name: "z1-internal", Action: securityv1alpha1.ActionPass, From: []securityv1alpha1.Peer{nsPeer(z1)}},
		{Name: "no-x1", Action: securityv1alpha1.ActionDeny, From: []securityv1alpha1.Peer{nsPeer(sel("kubernetes.io/metadata.name=x1"))},
			Ports: []securityv1alpha1.Port{cspPortNum("TCP", 8080)}},
	}
	late := csp("late", securityv1alpha1.TierSecurity, 20, subjectNamespaces(z1))
	late.Spec.Ingress = []securityv1alpha1.IngressRule{{Name: "deny-all", Action: securityv1alpha1.ActionDeny, From: []securityv1alpha1.Peer{networks("0.0.0.0/0")}}}
	in.ClusterSecurityPolicies = append(in.ClusterSecurityPolicies, audit, late)
	return in
}

func withEnforcement(in Input, name string, e securityv1alpha1.Enforcement) Input {
	out := in
	out.ClusterSecurityPolicies = slices.Clone(in.ClusterSecurityPolicies)
	for i := range out.ClusterSecurityPolicies {
		if out.ClusterSecurityPolicies[i].Name == name {
			out.ClusterSecurityPolicies[i].Spec.Enforcement = e
		}
	}
	return out
}

func without(in Input, name string) Input {
	out := in
	out.ClusterSecurityPolicies = slices.DeleteFunc(slices.Clone(in.ClusterSecurityPolicies),
		func(p securityv1alpha1.ClusterSecurityPolicy) bool { return p.Name == name })
	return out
}

func sectionKeys(m *ir.Model) []string {
	var keys []string
	for _, s := range m.Sections {
		keys = append(keys, s.Key)
	}
	return keys
}

// TestStagedPolicyChangesNoEnforcedRule: with a policy staged, every other section is exactly what
// it is without that policy (its Pass rules restrict nothing), and the staged policy's section sits
// at its place in the tier, its rules those it has when enforced, disabled.
func TestStagedPolicyChangesNoEnforcedRule(t *testing.T) {
	for _, name := range []string{"audit", "protect-service-d", "late", "baseline-isolate-app-namespaces"} {
		t.Run(name, func(t *testing.T) {
			in := stagedWorld(t)
			staged := mustCompile(t, withEnforcement(in, name, securityv1alpha1.EnforcementStaged))
			absent := mustCompile(t, without(in, name))
			enforced := mustCompile(t, in)
			if !slices.Equal(sectionKeys(staged), sectionKeys(enforced)) {
				t.Fatalf("sections %v, want the enforced order %v", sectionKeys(staged), sectionKeys(enforced))
			}
			key := "csp/" + name
			var others []ir.Section
			for _, s := range staged.Sections {
				if s.Key != key {
					others = append(others, s)
					continue
				}
				want := sectionOf(t, enforced, key)
				if len(s.Rules) == 0 || len(s.Rules) != len(want.Rules) {
					t.Fatalf("staged section has %d rules, enforced %d", len(s.Rules), len(want.Rules))
				}
				for i, r := range s.Rules {
					w := want.Rules[i]
					if !r.Disabled || w.Disabled {
						t.Errorf("rule %s: disabled %v (enforced: %v)", r.Key, r.Disabled, w.Disabled)
					}
					r.Disabled, r.Hash, w.Hash = false, "", ""
					if toJSON(t, r) != toJSON(t, w) {
						t.Errorf("staged rule differs from the enforced one beyond the flag:\n%s\n%s", toJSON(t, r), toJSON(t, w))
					}
				}
			}
			if toJSON(t, others) != toJSON(t, absent.Sections) {
				t.Errorf("the other sections differ from the world without %s", name)
			}
			for _, g := range absent.Groups {
				if _, ok := staged.GroupByKey(g.Key); !ok {
					t.Errorf("group %s of the world without the policy is missing", g.Key)
				}
			}
		})
	}
}

// TestStagedPassRestrictsNothing: audit's Pass rule hands z1's internal traffic to the developer
// tier; enforced, it restricts late's deny rule (pieces outside z1), staged it does not.
func TestStagedPassRestrictsNothing(t *testing.T) {
	in := stagedWorld(t)
	enforced := sectionOf(t, mustCompile(t, in), "csp/late")
	staged := sectionOf(t, mustCompile(t, withEnforcement(in, "audit", securityv1alpha1.EnforcementStaged)), "csp/late")
	absent := sectionOf(t, mustCompile(t, without(in, "audit")), "csp/late")
	if toJSON(t, staged) != toJSON(t, absent) {
		t.Errorf("late's section with audit staged differs from the world without audit")
	}
	if toJSON(t, enforced) == toJSON(t, absent) {
		t.Errorf("late's section is the same with audit enforced: the Pass rule should restrict it, or this test proves nothing")
	}
}

func sectionOf(t *testing.T, m *ir.Model, key string) ir.Section {
	t.Helper()
	for _, s := range m.Sections {
		if s.Key == key {
			return s
		}
	}
	t.Fatalf("no section %s in %s", key, strings.Join(sectionKeys(m), ", "))
	return ir.Section{}
}
