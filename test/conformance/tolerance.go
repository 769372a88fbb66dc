package conformance

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/pipeline"
)

// tolerance decides whether a difference in direction d is explained by a documented NSX limit
// that microseg reports:
//
//   - SCTPPortsNotExpressible: NSX's L4 port-set service carries TCP and UDP only, so a rule on
//     some SCTP ports is realized fail-closed (an Allow is left out for SCTP, a Deny/Reject
//     covers every SCTP port).
//   - PassRestrictionTooComplex: a rule whose exact Pass restriction needs more than
//     MaxPassPieces pieces is realized fail-closed.
//
// Fail-closed can only turn an allow into a deny, so a difference is tolerated only when
// microseg denies and the oracle allows, and only when the model carries that warning on a rule
// of the same direction of an object that applies to this side's pod (the source for egress, the
// destination for ingress) and that is evaluated no later than the rule that denied (the same
// object, or an earlier one: earlier tier, or earlier (priority, name) in the same CSP tier; a
// left-out Allow lets the flow fall through to a later deny, a widened Deny denies itself). For
// SCTPPortsNotExpressible the flow must be SCTP.
func tolerance(m *ir.Model, norm pipeline.World, f Flow, d direction, side pipeline.Side, microsegAllows, oracleAllows bool) (string, bool) {
	if microsegAllows || !oracleAllows || side.Tier == "" {
		return "", false
	}
	pod := f.Src
	if d == ingress {
		pod = f.Dst
	}
	decided, ok := evalOrder(norm, side.Object)
	if !ok {
		return "", false
	}
	for _, w := range m.Warnings {
		if w.Code != ir.WarnSCTPPorts && w.Code != ir.WarnPassTooComplex {
			continue
		}
		if w.Code == ir.WarnSCTPPorts && f.Protocol != corev1.ProtocolSCTP {
			continue
		}
		if !strings.HasPrefix(w.Rule, d.String()+"/") || !objectApplies(norm, w.Object, pod) {
			continue
		}
		if warned, ok := evalOrder(norm, w.Object.String()); !ok || warned.after(decided) {
			continue
		}
		return fmt.Sprintf("%s on %s rule %s", w.Code, w.Object, w.Rule), true
	}
	return "", false
}

// order is where an object's rules are evaluated: tier (0 Security, 1 Developer, 2 Baseline),
// then priority and name within a CSP tier (NetworkPolicies of a direction act together).
type order struct {
	tier     int
	priority int32
	name     string
}

func (a order) after(b order) bool {
	if a.tier != b.tier {
		return a.tier > b.tier
	}
	if a.tier == 1 {
		return false
	}
	if a.priority != b.priority {
		return a.priority > b.priority
	}
	return a.name > b.name
}

// evalOrder finds the evaluation order of an object named "ClusterSecurityPolicy/name" or
// "NetworkPolicy/namespace/name".
func evalOrder(norm pipeline.World, object string) (order, bool) {
	kind, name, _ := strings.Cut(object, "/")
	switch kind {
	case ir.KindNetworkPolicy:
		return order{tier: 1}, true
	case ir.KindClusterSecurityPolicy:
		for _, c := range norm.ClusterSecurityPolicies {
			if c.Name == name {
				t := 0
				if c.Spec.Tier == securityv1alpha1.TierBaseline {
					t = 2
				}
				return order{tier: t, priority: c.Spec.Priority, name: c.Name}, true
			}
		}
	}
	return order{}, false
}

// objectApplies reports whether a CSP's subject or a NetworkPolicy's podSelector selects the pod.
func objectApplies(norm pipeline.World, obj ir.ObjectRef, ref pipeline.PodRef) bool {
	var pod *corev1.Pod
	for i := range norm.Pods {
		if norm.Pods[i].Namespace == ref.Namespace && norm.Pods[i].Name == ref.Name {
			pod = &norm.Pods[i]
		}
	}
	nsl := labels.Set{}
	for _, ns := range norm.Namespaces {
		if ns.Name == ref.Namespace {
			nsl = ns.Labels
		}
	}
	if pod == nil {
		return false
	}
	switch obj.Kind {
	case ir.KindClusterSecurityPolicy:
		for _, c := range norm.ClusterSecurityPolicies {
			if c.Name != obj.Name {
				continue
			}
			s := c.Spec.Subject
			switch {
			case s.Namespaces != nil:
				return selects(s.Namespaces, nsl)
			case s.Pods != nil:
				return selects(&s.Pods.NamespaceSelector, nsl) && selects(&s.Pods.PodSelector, pod.Labels)
			}
		}
	case ir.KindNetworkPolicy:
		for _, np := range norm.NetworkPolicies {
			if np.Namespace == obj.Namespace && np.Name == obj.Name && np.Namespace == pod.Namespace {
				return selects(&np.Spec.PodSelector, pod.Labels)
			}
		}
	}
	return false
}
