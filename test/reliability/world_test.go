package reliability_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/compile"
	ct "github.com/microseg/microseg/internal/compile/compiletest"
	"github.com/microseg/microseg/internal/ir"
)

// world is the Kubernetes side: namespaces, running pods with addresses, NetworkPolicies and
// ClusterSecurityPolicies. Worlds are drawn from a seed and mutated step by step (pod churn,
// policy edits, namespace relabels); the compiler turns each into the model microseg syncs.
type world struct {
	namespaces []corev1.Namespace
	pods       []corev1.Pod
	netpols    []networkingv1.NetworkPolicy
	csps       []securityv1alpha1.ClusterSecurityPolicy
	// nextPod numbers new pods (name, UID, address) so that a recreated pod is a new port.
	nextPod int
}

// The vocabulary of the drawn worlds. Every port a policy names is one of testPorts, so tracing
// every pod pair on them samples every rule.
var (
	envs  = []string{"prod", "dev"}
	teams = []string{"red", "blue"}
	apps  = []string{"web", "api", "db"}
)

type l4 struct {
	proto string
	port  int
}

var testPorts = []l4{{"TCP", 80}, {"TCP", 443}, {"TCP", 5432}, {"UDP", 53}}

func (w *world) clone() *world {
	c := *w
	c.namespaces = slices.Clone(w.namespaces)
	for i := range c.namespaces {
		c.namespaces[i] = *w.namespaces[i].DeepCopy()
	}
	c.pods = slices.Clone(w.pods)
	c.netpols = slices.Clone(w.netpols)
	c.csps = slices.Clone(w.csps)
	return &c
}

// compile is what the operator computes for the world.
func (w *world) compile(cluster string, settings compile.Settings) (*ir.Model, error) {
	return compile.Compile(compile.Input{ClusterID: cluster, Namespaces: w.namespaces, Pods: w.pods,
		NetworkPolicies: w.netpols, ClusterSecurityPolicies: w.csps, Settings: settings})
}

// newWorld draws namespaces, pods and policies.
func newWorld(rng *rand.Rand, namespaces, podsPerNamespace int) *world {
	w := &world{}
	for n := range namespaces {
		name := fmt.Sprintf("ns%d", n)
		w.namespaces = append(w.namespaces, ct.Namespace(name, fmt.Sprintf("env=%s,team=%s", pick(rng, envs), pick(rng, teams))))
		for range podsPerNamespace {
			w.addPod(rng, name)
		}
	}
	w.drawPolicies(rng)
	return w
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// addPod adds a running pod with a fresh name, UID and address.
func (w *world) addPod(rng *rand.Rand, namespace string) {
	w.nextPod++
	n := w.nextPod
	app := pick(rng, apps)
	p := ct.Pod(namespace, fmt.Sprintf("%s-%d", app, n), "app="+app, []string{fmt.Sprintf("10.20.%d.%d", n/250, n%250+1)},
		"http:80", "https:443", "pg:5432", "dns:53/UDP")
	p.UID = types.UID(fmt.Sprintf("uid-%d", n))
	w.pods = append(w.pods, p)
}

// drawPolicies replaces every policy with a new draw. Keys repeat between draws (the same names),
// so that a change updates objects as well as creating and deleting them.
func (w *world) drawPolicies(rng *rand.Rand) {
	w.netpols, w.csps = nil, nil
	for _, ns := range w.namespaces {
		for _, np := range []func(*rand.Rand, string) networkingv1.NetworkPolicy{isolateDB, allowWeb, egressDNS} {
			if rng.IntN(3) > 0 {
				w.netpols = append(w.netpols, np(rng, ns.Name))
			}
		}
	}
	for i := range 6 {
		if rng.IntN(4) > 0 {
			w.csps = append(w.csps, drawCSP(rng, fmt.Sprintf("sec-%d", i), securityv1alpha1.TierSecurity))
		}
	}
	for i := range 2 {
		if rng.IntN(3) > 0 {
			w.csps = append(w.csps, drawCSP(rng, fmt.Sprintf("base-%d", i), securityv1alpha1.TierBaseline))
		}
	}
}

func tcp(port int32) networkingv1.NetworkPolicyPort { return ct.NPPort("TCP", int(port)) }

// isolateDB: the databases of a namespace accept only api pods, on 5432 (or any port).
func isolateDB(rng *rand.Rand, ns string) networkingv1.NetworkPolicy {
	np := ct.NP(ns, "isolate-db", ct.Sel("app=db"))
	rule := networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{PodSelector: ct.Sel("app=api")}}}
	if rng.IntN(2) == 0 {
		rule.Ports = []networkingv1.NetworkPolicyPort{tcp(5432)}
	}
	np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{rule}
	np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	return np
}

// allowWeb: web pods accept 80 and/or 443 from namespaces of one environment.
func allowWeb(rng *rand.Rand, ns string) networkingv1.NetworkPolicy {
	np := ct.NP(ns, "allow-web", ct.Sel("app=web"))
	ports := [][]networkingv1.NetworkPolicyPort{{tcp(80)}, {tcp(443)}, {tcp(80), tcp(443)}}[rng.IntN(3)]
	np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{Ports: ports,
		From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: ct.Sel("env=" + pick(rng, envs))}}}}
	np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	return np
}

// egressDNS: some pods may only send DNS (and, sometimes, 443 to their own namespace).
func egressDNS(rng *rand.Rand, ns string) networkingv1.NetworkPolicy {
	np := ct.NP(ns, "egress-dns", ct.Sel("app="+pick(rng, apps)))
	np.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{Ports: []networkingv1.NetworkPolicyPort{ct.NPPort("UDP", 53)}}}
	if rng.IntN(2) == 0 {
		np.Spec.Egress = append(np.Spec.Egress, networkingv1.NetworkPolicyEgressRule{Ports: []networkingv1.NetworkPolicyPort{tcp(443)},
			To: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}})
	}
	np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
	return np
}

// drawCSP draws a cluster policy: a subject, then 1–4 rules of every action over pods,
// namespaces and networks.
func drawCSP(rng *rand.Rand, name string, tier securityv1alpha1.Tier) securityv1alpha1.ClusterSecurityPolicy {
	var subject securityv1alpha1.Subject
	switch rng.IntN(3) {
	case 0:
		subject = ct.SubjectNamespaces(ct.Sel("env=" + pick(rng, envs)))
	case 1:
		subject = ct.SubjectPods(ct.Sel("team="+pick(rng, teams)), ct.Sel("app="+pick(rng, apps)))
	default:
		subject = ct.SubjectPods(&metav1.LabelSelector{}, ct.Sel("app="+pick(rng, apps)))
	}
	p := ct.CSP(name, tier, int32(10+rng.IntN(90)), subject)
	actions := []securityv1alpha1.RuleAction{securityv1alpha1.ActionAllow, securityv1alpha1.ActionDeny,
		securityv1alpha1.ActionReject, securityv1alpha1.ActionPass}
	peer := func() securityv1alpha1.Peer {
		switch rng.IntN(4) {
		case 0:
			return ct.NSPeer(ct.Sel("env=" + pick(rng, envs)))
		case 1:
			return ct.PodsPeer(ct.Sel("team="+pick(rng, teams)), ct.Sel("app="+pick(rng, apps)))
		case 2:
			return ct.Networks(fmt.Sprintf("10.20.0.%d/30", 4*rng.IntN(8)))
		}
		return ct.PodsPeer(&metav1.LabelSelector{}, ct.Sel("app="+pick(rng, apps)))
	}
	ports := func() []securityv1alpha1.Port {
		if rng.IntN(3) == 0 {
			return nil
		}
		tp := pick(rng, testPorts)
		return []securityv1alpha1.Port{ct.CSPPortNum(tp.proto, int32(tp.port))}
	}
	for i := range 1 + rng.IntN(4) {
		action := pick(rng, actions)
		if tier == securityv1alpha1.TierBaseline && action == securityv1alpha1.ActionPass {
			action = securityv1alpha1.ActionDeny
		}
		if rng.IntN(2) == 0 {
			p.Spec.Ingress = append(p.Spec.Ingress, securityv1alpha1.IngressRule{Name: fmt.Sprintf("in-%d", i), Action: action,
				From: []securityv1alpha1.Peer{peer()}, Ports: ports()})
		} else {
			p.Spec.Egress = append(p.Spec.Egress, securityv1alpha1.EgressRule{Name: fmt.Sprintf("out-%d", i), Action: action,
				To: []securityv1alpha1.Peer{peer()}, Ports: ports()})
		}
	}
	return p
}

// Mutations of the soak, each a change a cluster sees every day.

// churnPods deletes one pod and starts another (a rollout), or relabels one.
func (w *world) churnPods(rng *rand.Rand) string {
	if len(w.pods) > 0 && rng.IntN(3) == 0 {
		i := rng.IntN(len(w.pods))
		p := w.pods[i].DeepCopy()
		app := pick(rng, apps)
		p.Labels = map[string]string{"app": app}
		w.pods[i] = *p
		return "relabel pod " + p.Namespace + "/" + p.Name + " app=" + app
	}
	what := ""
	if len(w.pods) > len(w.namespaces) {
		i := rng.IntN(len(w.pods))
		what = "delete pod " + w.pods[i].Namespace + "/" + w.pods[i].Name + ", "
		w.pods = slices.Delete(w.pods, i, i+1)
	}
	ns := pick(rng, w.namespaces).Name
	w.addPod(rng, ns)
	return what + "add pod " + ns + "/" + w.pods[len(w.pods)-1].Name
}

// editPolicies redraws one NetworkPolicy or cluster policy (or all of them, now and then).
func (w *world) editPolicies(rng *rand.Rand) string {
	switch rng.IntN(6) {
	case 0:
		w.drawPolicies(rng)
		return "redraw every policy"
	case 1, 2:
		ns := pick(rng, w.namespaces).Name
		np := []func(*rand.Rand, string) networkingv1.NetworkPolicy{isolateDB, allowWeb, egressDNS}[rng.IntN(3)](rng, ns)
		if i := slices.IndexFunc(w.netpols, func(x networkingv1.NetworkPolicy) bool { return x.Namespace == ns && x.Name == np.Name }); i >= 0 {
			if rng.IntN(2) == 0 {
				w.netpols = slices.Delete(w.netpols, i, i+1)
				return "delete NetworkPolicy " + ns + "/" + np.Name
			}
			w.netpols[i] = np
			return "edit NetworkPolicy " + ns + "/" + np.Name
		}
		w.netpols = append(w.netpols, np)
		return "add NetworkPolicy " + ns + "/" + np.Name
	default:
		tier, name := securityv1alpha1.TierSecurity, fmt.Sprintf("sec-%d", rng.IntN(6))
		if rng.IntN(4) == 0 {
			tier, name = securityv1alpha1.TierBaseline, fmt.Sprintf("base-%d", rng.IntN(2))
		}
		p := drawCSP(rng, name, tier)
		if i := slices.IndexFunc(w.csps, func(x securityv1alpha1.ClusterSecurityPolicy) bool { return x.Name == name }); i >= 0 {
			if rng.IntN(3) == 0 {
				w.csps = slices.Delete(w.csps, i, i+1)
				return "delete ClusterSecurityPolicy " + name
			}
			w.csps[i] = p
			return "edit ClusterSecurityPolicy " + name
		}
		w.csps = append(w.csps, p)
		return "add ClusterSecurityPolicy " + name
	}
}

// relabelNamespace flips a namespace's environment or team.
func (w *world) relabelNamespace(rng *rand.Rand) string {
	i := rng.IntN(len(w.namespaces))
	ns := w.namespaces[i].DeepCopy()
	key, values := "env", envs
	if rng.IntN(2) == 0 {
		key, values = "team", teams
	}
	ns.Labels[key] = pick(rng, values)
	w.namespaces[i] = *ns
	return "relabel namespace " + ns.Name + " " + key + "=" + ns.Labels[key]
}

// podsByName lists the pods in (namespace, name) order.
func (w *world) podsByName() []corev1.Pod {
	out := slices.Clone(w.pods)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out
}
