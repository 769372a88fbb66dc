// Package evaluate decides connections between pods over a compiled model (ir.Model) the way the
// NSX DFW runs it: pods' logical ports carry NCP's tags, groups take their members from those
// tags (and from addresses), and at each side of a connection the first matching rule in section
// order decides. It is pure (no NSX, no Kubernetes API) and cheap enough for the operator: the
// status controller uses it for the impact of Staged policies, and the CLI for explain.
//
// Its answers are those of the simulator's dataplane for the same model (a test compares them on
// the reference scenario and on random worlds), with two differences it states: members of NSX
// groups microseg does not own are known only when Options.External gives them, and disabled
// rules (Staged policies') count only when Options.Enabled says so.
package evaluate

import (
	"net/netip"
	"slices"
	"strings"

	"go4.org/netipx"
	corev1 "k8s.io/api/core/v1"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/ncptags"
)

// Pod is a pod with a logical port: what the evaluator knows of it.
type Pod struct {
	Namespace, Name string
	Labels          map[string]string
	// Addrs are the pod's addresses (status.podIPs), IPv4 and/or IPv6.
	Addrs []netip.Addr
}

// Ref is "namespace/name".
func (p Pod) Ref() string { return p.Namespace + "/" + p.Name }

// PodsOf keeps the pods NCP gives a logical port that takes part in connections: not on the host
// network, not finished, with an address. They come back in (namespace, name) order.
func PodsOf(pods []corev1.Pod) []Pod {
	var out []Pod
	for i := range pods {
		p := &pods[i]
		if p.Spec.HostNetwork || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed || p.DeletionTimestamp != nil {
			continue
		}
		ips := p.Status.PodIPs
		if len(ips) == 0 && p.Status.PodIP != "" {
			ips = []corev1.PodIP{{IP: p.Status.PodIP}}
		}
		var addrs []netip.Addr
		for _, ip := range ips {
			if a, err := netip.ParseAddr(ip.IP); err == nil {
				addrs = append(addrs, a)
			}
		}
		if len(addrs) > 0 {
			out = append(out, Pod{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels, Addrs: addrs})
		}
	}
	slices.SortFunc(out, func(a, b Pod) int { return strings.Compare(a.Ref(), b.Ref()) })
	return out
}

// Options tune an Evaluator.
type Options struct {
	// ClusterID is NCP's cluster name (the ncp/cluster tag of every pod port).
	ClusterID string
	// Enabled makes a disabled rule count when it returns true for the rule's origin (the rules
	// of a Staged policy, to see what enforcing it would do). Nil: disabled rules never count,
	// as in NSX.
	Enabled func(ir.Origin) bool
	// External gives the members of NSX groups microseg does not own, by display name. A group
	// not listed matches no address.
	External map[string][]netip.Addr
}

// Decision is the verdict at one side of a connection.
type Decision struct {
	// Rule and Section are the model's rule that decided and its section; nil when no microseg
	// rule matched (the NSX sections below microseg decide: by default NSX's default section,
	// which allows).
	Rule    *ir.Rule
	Section *ir.Section
}

// Action is the deciding rule's action, ALLOW when none matched.
func (d Decision) Action() ir.Action {
	if d.Rule == nil {
		return ir.ActionAllow
	}
	return d.Rule.Action
}

// Allows reports whether this side lets the connection through.
func (d Decision) Allows() bool { return d.Action() == ir.ActionAllow }

// Verdict is the fate of one connection: egress at the source's port, ingress at the
// destination's.
type Verdict struct {
	Allowed         bool
	Egress, Ingress Decision
	// SrcAddr and DstAddr are the addresses the connection was evaluated with.
	SrcAddr, DstAddr netip.Addr
}

// Flow is the first packet of a connection.
type Flow struct {
	Src, Dst netip.Addr
	// Protocol is TCP, UDP or SCTP.
	Protocol string
	Port     int
	// srcPod and dstPod are the pods owning Src and Dst, plus one (0: look them up).
	srcPod, dstPod int
}

// Evaluator answers for one model and one set of pods. It fills caches as it goes and is not safe
// for concurrent use.
type Evaluator struct {
	model  *ir.Model
	opts   Options
	pods   []Pod
	byRef  map[string]int
	byAddr map[netip.Addr]int
	tags   [][]ncptags.Tag
	byNS   map[string][]int // lower-cased namespace → pods
	groups map[string]*ir.Group
	// members caches each port group's member pods; ipsets each IPSet's addresses.
	members map[string]*podSet
	ipsets  map[string]*netipx.IPSet
	// rulesAt lists, per pod and direction (0 in, 1 out), the rules applied to the pod in
	// evaluation order; built at the first evaluation, shared with WithEnabled's evaluators.
	rulesAt *[2][][]ruleAt
}

// ruleAt is a rule at a pod's port, compiled for evaluation (compiled.go).
type ruleAt = *crule

// New returns an evaluator of the model over the pods.
func New(m *ir.Model, pods []Pod, opts Options) *Evaluator {
	e := &Evaluator{model: m, opts: opts, pods: pods, byRef: map[string]int{}, byAddr: map[netip.Addr]int{},
		byNS: map[string][]int{}, groups: map[string]*ir.Group{}, members: map[string]*podSet{}, ipsets: map[string]*netipx.IPSet{},
		rulesAt: &[2][][]ruleAt{}}
	for i, p := range pods {
		e.byRef[p.Ref()] = i
		for _, a := range p.Addrs {
			e.byAddr[a] = i
		}
		e.tags = append(e.tags, ncptags.PortTags(opts.ClusterID, ncptags.Pod{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels}))
		ns := strings.ToLower(p.Namespace)
		e.byNS[ns] = append(e.byNS[ns], i)
	}
	for i := range m.Groups {
		e.groups[m.Groups[i].Key] = &m.Groups[i]
	}
	return e
}

// Pods are the evaluator's pods, in the order given to New.
func (e *Evaluator) Pods() []Pod { return e.pods }

// Pod finds a pod by "namespace/name".
func (e *Evaluator) Pod(ref string) (int, bool) {
	i, ok := e.byRef[ref]
	return i, ok
}

// Connection evaluates a connection from pod src to pod dst (indexes into Pods) on a protocol and
// port, over IPv4 when both pods have it and family allows (0: IPv4 preferred), else IPv6. ok is
// false when the pods share no address family.
func (e *Evaluator) Connection(src, dst int, protocol string, port, family int) (Verdict, bool) {
	s, d, ok := pickAddrs(e.pods[src].Addrs, e.pods[dst].Addrs, family)
	if !ok {
		return Verdict{}, false
	}
	f := Flow{Src: s, Dst: d, Protocol: strings.ToUpper(protocol), Port: port, srcPod: src + 1, dstPod: dst + 1}
	v := Verdict{SrcAddr: s, DstAddr: d, Egress: e.Side(src, ir.DirectionOut, f), Ingress: e.Side(dst, ir.DirectionIn, f)}
	v.Allowed = v.Egress.Allows() && v.Ingress.Allows()
	return v, true
}

// WithEnabled is the evaluator with another Options.Enabled, sharing everything computed so far
// (group members, the rules at each port): the cheap way to evaluate a Staged policy enforced.
func (e *Evaluator) WithEnabled(enabled func(ir.Origin) bool) *Evaluator {
	out := *e
	out.opts.Enabled = enabled
	return &out
}

// Side evaluates the rules of one direction applied to a pod's port: first match, in section
// order.
func (e *Evaluator) Side(pod int, dir ir.Direction, f Flow) Decision {
	if f.srcPod == 0 {
		f.srcPod = e.podOf(f.Src)
	}
	if f.dstPod == 0 {
		f.dstPod = e.podOf(f.Dst)
	}
	for _, c := range e.rulesOf(pod, dir) {
		if c.rule.Disabled && (e.opts.Enabled == nil || !e.opts.Enabled(c.rule.Origin)) {
			continue
		}
		if c.matches(f) {
			return Decision{Rule: c.rule, Section: c.section}
		}
	}
	return Decision{}
}

// podOf is the pod owning an address, plus one (0: none).
func (e *Evaluator) podOf(a netip.Addr) int {
	if i, ok := e.byAddr[a]; ok {
		return i + 1
	}
	return -1
}

func pickAddrs(src, dst []netip.Addr, family int) (netip.Addr, netip.Addr, bool) {
	for _, want := range []int{4, 6} {
		if family != 0 && family != want {
			continue
		}
		a, b := firstOf(src, want), firstOf(dst, want)
		if a.IsValid() && b.IsValid() {
			return a, b, true
		}
	}
	return netip.Addr{}, netip.Addr{}, false
}

func firstOf(addrs []netip.Addr, family int) netip.Addr {
	for _, a := range addrs {
		if a.Is4() == (family == 4) {
			return a
		}
	}
	return netip.Addr{}
}
