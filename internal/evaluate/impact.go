package evaluate

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/ports"
)

// DefaultMaxConnections bounds the connections (pod pair and port) one impact evaluates. On the
// benchmark world (10,000 pods) one impact at this bound took 0.26 to 0.44 s, setup
// included (BenchmarkStagedImpact).
const DefaultMaxConnections = 100_000

// MaxImpactPorts and MaxExamples bound what an impact lists (the CRD's maxItems).
const (
	MaxImpactPorts = 32
	MaxExamples    = 5
)

// Impact is what enforcing a Staged ClusterSecurityPolicy would change.
type Impact struct {
	// Flips = NewlyDenied + NewlyAllowed connections, of Evaluated.
	Flips, NewlyDenied, NewlyAllowed, Evaluated int
	// LowerBound: the evaluation stopped at the bound (or at MaxImpactPorts ports); the counts
	// are at least what they say.
	LowerBound bool
	Ports      []ports.Port
	Examples   []Flip
	// Message says how the impact was computed when it is not the plain way, or what stopped it.
	Message string
}

// Flip is one connection whose verdict would change.
type Flip struct {
	Source, Destination string
	Port                ports.Port
	Now, IfEnforced     bool
	// Rule is the object and rule that would decide ("ClusterSecurityPolicy/x ingress/y").
	Rule string
}

// StagedImpact evaluates what enforcing the Staged policy name would change, given the compile
// input and the model compiled from it (where the policy's rules are disabled). The connections
// evaluated are every pair of pods in which one of the policy's subject pods is the source or the
// destination (its egress or ingress rules can only act there), on the ports the policy names
// (and, when one of its rules names none, every port any policy names, and 80/TCP), at most
// maxConnections of them in (source, destination, port) order.
//
// A policy without Pass rules is evaluated by enabling its disabled rules, which is exactly what
// enforcing it does in NSX. A Pass rule restricts the later rules of its tier when enforced, so a
// policy with Pass rules is compiled once more with it enforced, and that model is evaluated.
func StagedImpact(in compile.Input, model *ir.Model, name string, maxConnections int) (Impact, error) {
	i := slices.IndexFunc(in.ClusterSecurityPolicies, func(p securityv1alpha1.ClusterSecurityPolicy) bool { return p.Name == name })
	if i < 0 {
		return Impact{}, fmt.Errorf("no ClusterSecurityPolicy %s in the input", name)
	}
	policy := &in.ClusterSecurityPolicies[i]
	if policy.Spec.Enforcement != securityv1alpha1.EnforcementStaged {
		return Impact{}, fmt.Errorf("ClusterSecurityPolicy %s is not Staged", name)
	}
	var imp Impact
	imp.Ports = impactPorts(policy, in)
	if len(imp.Ports) > MaxImpactPorts {
		imp.Ports, imp.LowerBound = imp.Ports[:MaxImpactPorts], true
	}
	pods := PodsOf(in.Pods)
	opts := Options{ClusterID: in.ClusterID}
	before := New(model, pods, opts)
	var after *Evaluator
	if hasPass(policy) {
		enforced := in
		enforced.ClusterSecurityPolicies = slices.Clone(in.ClusterSecurityPolicies)
		enforced.ClusterSecurityPolicies[i].Spec.Enforcement = securityv1alpha1.EnforcementEnforced
		m, err := compile.Compile(enforced)
		if err != nil {
			return Impact{}, err
		}
		after = New(m, pods, opts)
		imp.Message = "The policy has Pass rules, which restrict the later rules of its tier when enforced: its impact was evaluated on the cluster compiled with it enforced."
	} else {
		obj := ir.ObjectRef{Kind: ir.KindClusterSecurityPolicy, Name: name}
		after = before.WithEnabled(func(o ir.Origin) bool { return o.Object == obj })
	}
	subject, err := subjectPods(policy, in.Namespaces, pods)
	if err != nil {
		return Impact{}, err
	}
	imp.count(before, after, subject, maxConnections)
	return imp, nil
}

// count evaluates the pairs in which a subject pod takes part, in (source, destination) order.
func (imp *Impact) count(before, after *Evaluator, subject []bool, maxConnections int) {
	pods := before.Pods()
	var subjects []int
	for i, in := range subject {
		if in {
			subjects = append(subjects, i)
		}
	}
	for src := range pods {
		dsts := subjects
		if subject[src] {
			dsts = nil
			for d := range pods {
				dsts = append(dsts, d)
			}
		}
		for _, dst := range dsts {
			if dst == src {
				continue
			}
			for _, port := range imp.Ports {
				if imp.Evaluated >= maxConnections {
					imp.LowerBound = true
					return
				}
				b, ok := before.Connection(src, dst, port.Protocol, port.Number, 0)
				if !ok {
					continue
				}
				a, _ := after.Connection(src, dst, port.Protocol, port.Number, 0)
				imp.Evaluated++
				if a.Allowed == b.Allowed {
					continue
				}
				imp.Flips++
				if a.Allowed {
					imp.NewlyAllowed++
				} else {
					imp.NewlyDenied++
				}
				if len(imp.Examples) < MaxExamples {
					imp.Examples = append(imp.Examples, Flip{Source: pods[src].Ref(), Destination: pods[dst].Ref(), Port: port,
						Now: b.Allowed, IfEnforced: a.Allowed, Rule: Deciding(a)})
				}
			}
		}
	}
}

// Deciding names the object and rule that decided a verdict: for a denied connection the side
// that denied it (the source's egress first: the DFW stops it there), for an allowed one the
// destination's ingress rule, or the source's egress rule when no ingress rule matched. Empty when
// no microseg rule decided.
func Deciding(v Verdict) string {
	d := v.Ingress
	switch {
	case !v.Allowed && !v.Egress.Allows():
		d = v.Egress
	case v.Allowed && v.Ingress.Rule == nil:
		d = v.Egress
	}
	if d.Rule == nil {
		return ""
	}
	return d.Rule.Origin.Object.String() + " " + d.Rule.Origin.Rule
}

func hasPass(p *securityv1alpha1.ClusterSecurityPolicy) bool {
	for _, r := range p.Spec.Ingress {
		if r.Action == securityv1alpha1.ActionPass {
			return true
		}
	}
	for _, r := range p.Spec.Egress {
		if r.Action == securityv1alpha1.ActionPass {
			return true
		}
	}
	return false
}

// impactPorts: the ports the policy names; when a rule names none, also every port any policy
// names and 80/TCP (ports.Named); never empty.
func impactPorts(p *securityv1alpha1.ClusterSecurityPolicy, in compile.Input) []ports.Port {
	list, everyPort := ports.OfPolicy(p, in.Pods)
	if everyPort || len(list) == 0 {
		list = ports.Sort(append(list, ports.Named(in.NetworkPolicies, in.ClusterSecurityPolicies, in.Pods)...))
	}
	return list
}

// subjectPods marks the pods the policy's subject selects.
func subjectPods(p *securityv1alpha1.ClusterSecurityPolicy, namespaces []corev1.Namespace, pods []Pod) ([]bool, error) {
	var nsSel, podSel *metav1.LabelSelector
	switch {
	case p.Spec.Subject.Namespaces != nil:
		nsSel = p.Spec.Subject.Namespaces
	case p.Spec.Subject.Pods != nil:
		nsSel, podSel = &p.Spec.Subject.Pods.NamespaceSelector, &p.Spec.Subject.Pods.PodSelector
	default:
		return nil, fmt.Errorf("ClusterSecurityPolicy %s has no subject", p.Name)
	}
	nsMatch, err := metav1.LabelSelectorAsSelector(nsSel)
	if err != nil {
		return nil, fmt.Errorf("subject namespaces: %w", err)
	}
	podMatch := labels.Everything()
	if podSel != nil {
		if podMatch, err = metav1.LabelSelectorAsSelector(podSel); err != nil {
			return nil, fmt.Errorf("subject pods: %w", err)
		}
	}
	selected := map[string]bool{}
	for _, ns := range namespaces {
		selected[ns.Name] = nsMatch.Matches(labels.Set(ns.Labels))
	}
	out := make([]bool, len(pods))
	for i, pod := range pods {
		out[i] = selected[pod.Namespace] && podMatch.Matches(labels.Set(pod.Labels))
	}
	return out, nil
}
