package compile

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/compile/compiletest"
	"github.com/microseg/microseg/internal/ir"
)

// atLimitsWorld is a cluster of namespaces×podsPerNamespace pods, whose labels the selectors below
// partly match, with one ClusterSecurityPolicy that sits at every admission limit of
// api/v1alpha1 at once: MaxRules ingress and egress rules, each with MaxPeers peers and MaxPorts
// ports, every peer's list full (networks, NSX groups, selectors with MaxSelectorLabels labels
// and MaxSelectorExpressions expressions of MaxSelectorValues values), every bounded string at
// its maximum length, and a Pass rule in every four so that later rules are split around them.
// The API server would refuse to store it (it is far above etcd's object size limit), so it
// bounds what any storable policy can cost the compiler.
func atLimitsWorld(namespaces, podsPerNamespace int) Input {
	in := Input{ClusterID: "limits"}
	for n := range namespaces {
		ns := fmt.Sprintf("tenant-%02d", n)
		namespace := compiletest.Namespace(ns, fmt.Sprintf("team=t%d", n%5))
		for k := range securityv1alpha1.MaxSelectorLabels {
			namespace.Labels[labelKey(k)] = labelValue(k, n%4)
		}
		in.Namespaces = append(in.Namespaces, namespace)
		for i := range podsPerNamespace {
			labels := map[string]string{}
			for k := range securityv1alpha1.MaxSelectorLabels {
				labels[labelKey(k)] = labelValue(k, (n+i)%4)
			}
			p := compiletest.Pod(ns, fmt.Sprintf("pod-%d", i), "", []string{fmt.Sprintf("10.%d.%d.%d", 64+n/250, n%250, i+1)},
				strings.Repeat("p", securityv1alpha1.MaxNamedPortLength-2)+"01:8080")
			p.Labels = labels
			in.Pods = append(in.Pods, p)
		}
	}
	csp := securityv1alpha1.ClusterSecurityPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: strings.Repeat("x", 253)},
		Spec: securityv1alpha1.ClusterSecurityPolicySpec{
			Tier: securityv1alpha1.TierSecurity, Priority: 1000,
			Subject: securityv1alpha1.Subject{Pods: &securityv1alpha1.NamespacedPods{
				NamespaceSelector: selectorAtLimits(0), PodSelector: selectorAtLimits(1),
			}},
		},
	}
	actions := []securityv1alpha1.RuleAction{securityv1alpha1.ActionAllow, securityv1alpha1.ActionDeny, securityv1alpha1.ActionPass, securityv1alpha1.ActionReject}
	for r := range securityv1alpha1.MaxRules {
		name := fmt.Sprintf("%s-%03d", strings.Repeat("r", securityv1alpha1.MaxRuleNameLength-4), r)
		action := actions[r%len(actions)]
		peers, ports := peersAtLimits(r), portsAtLimits()
		csp.Spec.Ingress = append(csp.Spec.Ingress, securityv1alpha1.IngressRule{Name: name, Action: action, From: peers, Ports: ports, Logged: r%2 == 0})
		csp.Spec.Egress = append(csp.Spec.Egress, securityv1alpha1.EgressRule{Name: name, Action: action, To: peers, Ports: ports})
	}
	in.ClusterSecurityPolicies = []securityv1alpha1.ClusterSecurityPolicy{csp}
	return in
}

func labelKey(k int) string {
	return fmt.Sprintf("limits.microseg.io/%s%02d", strings.Repeat("k", 61), k)
}

// labelValue is 63 characters, Kubernetes' longest label value. Objects use v in 0..3; values
// from 100 on appear only in selectors.
func labelValue(k, v int) string { return fmt.Sprintf("%s%02d%04d", strings.Repeat("v", 57), k, v) }

// selectorAtLimits has every list full and matches a quarter of the objects (those whose labels
// have value variant%4); In lists hold the four values objects use and NotIn lists none of them,
// so every expression is satisfiable and the compiler has to work through all of it. variant
// makes the filler values of different peers differ, so that no two selectors are equal.
func selectorAtLimits(variant int) metav1.LabelSelector {
	s := metav1.LabelSelector{MatchLabels: map[string]string{}}
	for k := range securityv1alpha1.MaxSelectorLabels {
		s.MatchLabels[labelKey(k)] = labelValue(k, variant%4)
	}
	for e := range securityv1alpha1.MaxSelectorExpressions {
		req := metav1.LabelSelectorRequirement{Key: labelKey(e), Operator: metav1.LabelSelectorOpIn}
		first := 4 // In: the four values objects use, then fillers
		if e%2 == 1 {
			req.Operator, first = metav1.LabelSelectorOpNotIn, 0
		}
		for v := range securityv1alpha1.MaxSelectorValues {
			if v < first {
				req.Values = append(req.Values, labelValue(e, v))
			} else {
				req.Values = append(req.Values, labelValue(e, 100+(variant*securityv1alpha1.MaxSelectorValues+v)%9000))
			}
		}
		s.MatchExpressions = append(s.MatchExpressions, req)
	}
	return s
}

func peersAtLimits(rule int) []securityv1alpha1.Peer {
	var peers []securityv1alpha1.Peer
	for p := range securityv1alpha1.MaxPeers {
		variant := rule*securityv1alpha1.MaxPeers + p
		switch p % 4 {
		case 0:
			var nets []securityv1alpha1.CIDR
			for i := range securityv1alpha1.MaxNetworks {
				if i%2 == 0 {
					nets = append(nets, securityv1alpha1.CIDR(fmt.Sprintf("172.%d.%d.0/24", 16+variant%16, (variant*securityv1alpha1.MaxNetworks+i)%256)))
				} else {
					nets = append(nets, securityv1alpha1.CIDR(fmt.Sprintf("2001:db8:%x:%x::/64", variant, i)))
				}
			}
			peers = append(peers, securityv1alpha1.Peer{Networks: nets})
		case 1:
			var groups []securityv1alpha1.NSXGroupName
			for i := range securityv1alpha1.MaxNSXGroups {
				suffix := fmt.Sprintf("-%d-%d", variant, i)
				groups = append(groups, securityv1alpha1.NSXGroupName(strings.Repeat("g", securityv1alpha1.MaxNSXGroupNameLength-len(suffix))+suffix))
			}
			peers = append(peers, securityv1alpha1.Peer{NSXGroups: groups})
		case 2:
			ns := selectorAtLimits(variant)
			peers = append(peers, securityv1alpha1.Peer{Namespaces: &ns})
		default:
			peers = append(peers, securityv1alpha1.Peer{Pods: &securityv1alpha1.NamespacedPods{
				NamespaceSelector: selectorAtLimits(variant), PodSelector: selectorAtLimits(variant + 1),
			}})
		}
	}
	return peers
}

func portsAtLimits() []securityv1alpha1.Port {
	var ports []securityv1alpha1.Port
	protocols := []securityv1alpha1.Protocol{securityv1alpha1.ProtocolTCP, securityv1alpha1.ProtocolUDP, securityv1alpha1.ProtocolSCTP}
	for i := range securityv1alpha1.MaxPorts {
		p := int32(1000 + 10*i)
		switch i % 3 {
		case 0:
			ports = append(ports, compiletest.CSPPortNum(string(protocols[i%3]), p))
		case 1:
			ports = append(ports, compiletest.CSPPortNum(string(protocols[i%3]), p, p+5))
		default:
			ports = append(ports, securityv1alpha1.Port{Protocol: securityv1alpha1.ProtocolTCP, NamedPort: fmt.Sprintf("%s%02d", strings.Repeat("p", securityv1alpha1.MaxNamedPortLength-2), i%3)})
		}
	}
	return ports
}

// TestAdmissionLimitsCompile: a policy at every admission limit at once compiles into a model
// within NSX's limits. How long it takes is measured (and reported with -v), never asserted:
//
//	go test -run TestAdmissionLimitsCompile -v ./internal/compile/
//	go test -bench AdmissionLimits -run '^$' ./internal/compile/
func TestAdmissionLimitsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the largest policy the CRD admits")
	}
	in := atLimitsWorld(50, 20)
	size, err := json.Marshal(in.ClusterSecurityPolicies[0])
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	m, err := Compile(in)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if errs := ir.Check(m, ir.Limits{}); len(errs) > 0 {
		t.Fatalf("the model breaks NSX's limits: %v (and %d more)", errs[0], len(errs)-1)
	}
	res, ok := m.Object(ir.ObjectRef{Kind: ir.KindClusterSecurityPolicy, Name: in.ClusterSecurityPolicies[0].Name})
	if !ok || !res.Accepted {
		t.Fatalf("the policy at the limits was not accepted: %+v", res)
	}
	codes := map[string]int{}
	for _, w := range res.Warnings {
		codes[w.Code]++
	}
	t.Logf("warnings by code: %v", codes)
	t.Logf("a policy at every admission limit (%.1f MiB of JSON; etcd stores at most 1.5 MiB) with %d pods compiled in %s into %d sections, %d rules, %d groups, %d warnings",
		float64(len(size))/(1<<20), len(in.Pods), took.Round(time.Millisecond), len(m.Sections), m.RuleCount(), len(m.Groups), len(res.Warnings))
}

// BenchmarkAdmissionLimits measures the compile of the policy at every admission limit in a
// cluster of 1,000 and of 10,000 pods.
func BenchmarkAdmissionLimits(b *testing.B) {
	for _, pods := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("pods=%d", pods), func(b *testing.B) {
			in := atLimitsWorld(pods/20, 20)
			var m *ir.Model
			for b.Loop() {
				var err error
				if m, err = Compile(in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(m.RuleCount()), "rules")
			b.ReportMetric(float64(len(m.Groups)), "groups")
		})
	}
}
