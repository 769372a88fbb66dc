// Package explain is "kubectl-microseg explain SRC DST": on the live cluster, who decides a
// connection between two pods, why, where that rule is in NSX, what Staged policies would change,
// and (with NSX access) whether NSX's own Traceflow agrees.
//
// It reads the cluster (internal/live), compiles it as the operator does (internal/compile), and
// evaluates the connection over the compiled model (internal/evaluate), so the deciding rule is
// the very DFW rule the operator programs; NSX ids come from the ClusterSecurityPolicies' status or
// from NSX itself (nsx.go), and the Traceflow runs through NSX's asynchronous API.
package explain

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/evaluate"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/live"
	"github.com/microseg/microseg/internal/pipeline"
	"github.com/microseg/microseg/internal/ports"
	"github.com/microseg/microseg/nsxclient"
)

// Explanation is what explain found; -o json prints it.
type Explanation struct {
	Source      Endpoint     `json:"source"`
	Destination Endpoint     `json:"destination"`
	Connections []Connection `json:"connections"`
	// Missing says what could not be read (with the view role's rights, for instance).
	Missing []string `json:"missing"`
	// Notes are everything else worth knowing (which pod a selector picked, compiler warnings).
	Notes []string `json:"notes"`
}

// Endpoint is one of the two pods.
type Endpoint struct {
	Pod string `json:"pod"`
	IP  string `json:"ip"`
}

// Connection is one port between the two pods.
type Connection struct {
	Protocol string `json:"protocol"`
	Port     int    `json:"port"`
	Allowed  bool   `json:"allowed"`
	// Egress is the decision at the source pod's port, Ingress at the destination's.
	Egress  Side `json:"egress"`
	Ingress Side `json:"ingress"`
	// Staged lists what Staged ClusterSecurityPolicies would change if enforced.
	Staged []StagedEffect `json:"staged"`
	// Traceflow is NSX's own trace (with --nsx-url).
	Traceflow *Trace `json:"traceflow,omitempty"`
}

// Side is the decision at one pod's port.
type Side struct {
	Action string `json:"action"`
	// Tier is Security, Developer, Baseline, or Default when no microseg rule matched.
	Tier   string   `json:"tier"`
	Object string   `json:"object"`
	Rule   string   `json:"rule"`
	Why    []string `json:"why"`
	NSX    NSXRule  `json:"nsx"`
}

// NSXRule is where a rule is in NSX.
type NSXRule struct {
	Section   string `json:"section,omitempty"`
	SectionID string `json:"sectionID,omitempty"`
	Rule      string `json:"rule,omitempty"`
	RuleID    string `json:"ruleID,omitempty"`
	// IDsFrom says where the ids come from (NSX, or a ClusterSecurityPolicy's status), or why
	// they are missing.
	IDsFrom string `json:"idsFrom,omitempty"`
}

// StagedEffect is what enforcing one Staged policy would do to the connection.
type StagedEffect struct {
	Policy  string `json:"policy"`
	Allowed bool   `json:"allowed"`
	// Decider is the object and rule that would decide.
	Decider string `json:"decider"`
}

// TierDefault names a side no microseg rule decided.
const TierDefault = "Default"

// explainer carries one run.
type explainer struct {
	opts     Options
	snap     live.Snapshot
	model    *ir.Model
	eval     *evaluate.Evaluator
	src, dst *corev1.Pod
	si, di   int
	nsxIDs   *nsxIDs // nil without NSX access
}

// Run explains the connections from opts.Source to opts.Destination on the cluster c can read.
// nsx is nil without NSX access.
func Run(ctx context.Context, opts Options, c live.Reader, nsx *nsxclient.Client) (*Explanation, error) {
	x := &explainer{opts: opts}
	out := &Explanation{Missing: []string{}, Notes: []string{}}
	var err error
	if x.snap, err = live.Read(ctx, c, opts.Source.Namespace, opts.Destination.Namespace); err != nil {
		return nil, err
	}
	out.Missing = append(out.Missing, x.snap.Missing...)
	for _, t := range []struct {
		target live.Target
		into   **corev1.Pod
	}{{opts.Source, &x.src}, {opts.Destination, &x.dst}} {
		pod, note, err := t.target.Resolve(ctx, c, x.snap.World.Pods)
		if err != nil {
			return nil, inputErrorf("%w", err)
		}
		*t.into = pod
		if note != "" {
			out.Notes = append(out.Notes, note)
		}
	}
	if x.model, err = compile.Compile(x.input()); err != nil {
		return nil, err
	}
	for _, w := range x.model.Warnings {
		if w.Object.Kind == ir.KindPod && (w.Object.Name == x.src.Name || w.Object.Name == x.dst.Name) || w.Object.Kind != ir.KindPod {
			out.Notes = append(out.Notes, fmt.Sprintf("compiler warning on %s: %s", w.Object, w.Message))
		}
	}
	x.eval = evaluate.New(x.model, evaluate.PodsOf(x.snap.World.Pods), evaluate.Options{ClusterID: x.clusterID()})
	var ok bool
	if x.si, ok = x.eval.Pod(x.src.Namespace + "/" + x.src.Name); !ok {
		return nil, inputErrorf("pod %s/%s has no logical port in the DFW (host network, finished, or no address yet)", x.src.Namespace, x.src.Name)
	}
	if x.di, ok = x.eval.Pod(x.dst.Namespace + "/" + x.dst.Name); !ok {
		return nil, inputErrorf("pod %s/%s has no logical port in the DFW (host network, finished, or no address yet)", x.dst.Namespace, x.dst.Name)
	}
	if nsx != nil {
		if x.nsxIDs, err = readNSXIDs(ctx, nsx, x.clusterID(), x.opts.API); err != nil {
			out.Missing = append(out.Missing, "microseg's objects in NSX: "+err.Error()+"; ids come from the ClusterSecurityPolicies' status")
			x.nsxIDs = nil
		}
	}
	tracer := newTracer(x, nsx, opts)
	for _, port := range x.ports() {
		conn, err := x.connection(ctx, port)
		if err != nil {
			return nil, err
		}
		if nsx != nil {
			conn.Traceflow = tracer.trace(ctx, port, conn)
		}
		out.Connections = append(out.Connections, conn)
		if out.Source.Pod == "" {
			v, _ := x.eval.Connection(x.si, x.di, port.Protocol, port.Number, 0)
			out.Source = Endpoint{Pod: x.src.Namespace + "/" + x.src.Name, IP: v.SrcAddr.String()}
			out.Destination = Endpoint{Pod: x.dst.Namespace + "/" + x.dst.Name, IP: v.DstAddr.String()}
		}
	}
	out.Missing = append(out.Missing, tracer.missing...)
	return out, nil
}

func (x *explainer) clusterID() string {
	if x.opts.ClusterID != "" {
		return x.opts.ClusterID
	}
	return pipeline.DefaultClusterID
}

func (x *explainer) input() compile.Input {
	w := x.snap.World
	return compile.Input{ClusterID: x.clusterID(), ClusterSecurityPolicies: w.ClusterSecurityPolicies, NetworkPolicies: w.NetworkPolicies,
		Namespaces: w.Namespaces, Pods: w.Pods}
}

// ports: --port, or the destination pod's container ports, or 80/TCP.
func (x *explainer) ports() []ports.Port {
	if len(x.opts.Ports) > 0 {
		return x.opts.Ports
	}
	var out []ports.Port
	for _, c := range x.dst.Spec.Containers {
		for _, p := range c.Ports {
			proto := string(p.Protocol)
			if proto == "" {
				proto = "TCP"
			}
			out = append(out, ports.Port{Protocol: proto, Number: int(p.ContainerPort)})
		}
	}
	if len(out) == 0 {
		out = []ports.Port{ports.AlwaysProbed}
	}
	return ports.Sort(out)
}

// connection explains one port.
func (x *explainer) connection(ctx context.Context, port ports.Port) (Connection, error) {
	v, ok := x.eval.Connection(x.si, x.di, port.Protocol, port.Number, 0)
	if !ok {
		return Connection{}, inputErrorf("pods %s/%s and %s/%s share no address family", x.src.Namespace, x.src.Name, x.dst.Namespace, x.dst.Name)
	}
	c := Connection{Protocol: port.Protocol, Port: port.Number, Allowed: v.Allowed, Staged: []StagedEffect{}}
	c.Egress = x.side(v.Egress, ir.DirectionOut, port, v)
	c.Ingress = x.side(v.Ingress, ir.DirectionIn, port, v)
	staged, err := x.staged(ctx, port, v)
	if err != nil {
		return c, err
	}
	c.Staged = staged
	return c, nil
}

// staged evaluates the connection once per Staged policy as if it were enforced, and keeps those
// that would change the verdict or the deciding rule.
func (x *explainer) staged(_ context.Context, port ports.Port, now evaluate.Verdict) ([]StagedEffect, error) {
	out := []StagedEffect{}
	for i := range x.snap.World.ClusterSecurityPolicies {
		p := &x.snap.World.ClusterSecurityPolicies[i]
		if p.Spec.Enforcement != securityv1alpha1.EnforcementStaged {
			continue
		}
		e, err := x.enforced(p)
		if err != nil {
			return nil, err
		}
		v, _ := e.Connection(x.si, x.di, port.Protocol, port.Number, 0)
		if v.Allowed != now.Allowed || evaluate.Deciding(v) != evaluate.Deciding(now) {
			out = append(out, StagedEffect{Policy: "ClusterSecurityPolicy/" + p.Name, Allowed: v.Allowed, Decider: evaluate.Deciding(v)})
		}
	}
	return out, nil
}

// enforced is the evaluator of the cluster with one Staged policy enforced: its disabled rules
// enabled, or, when it has Pass rules (which restrict the rules after them), the cluster
// compiled with it enforced.
func (x *explainer) enforced(p *securityv1alpha1.ClusterSecurityPolicy) (*evaluate.Evaluator, error) {
	pods := x.eval.Pods()
	hasPass := slices.ContainsFunc(p.Spec.Ingress, func(r securityv1alpha1.IngressRule) bool { return r.Action == securityv1alpha1.ActionPass }) ||
		slices.ContainsFunc(p.Spec.Egress, func(r securityv1alpha1.EgressRule) bool { return r.Action == securityv1alpha1.ActionPass })
	if !hasPass {
		obj := ir.ObjectRef{Kind: ir.KindClusterSecurityPolicy, Name: p.Name}
		return evaluate.New(x.model, pods, evaluate.Options{ClusterID: x.clusterID(), Enabled: func(o ir.Origin) bool { return o.Object == obj }}), nil
	}
	in := x.input()
	in.ClusterSecurityPolicies = slices.Clone(in.ClusterSecurityPolicies)
	for i := range in.ClusterSecurityPolicies {
		if in.ClusterSecurityPolicies[i].Name == p.Name {
			in.ClusterSecurityPolicies[i].Spec.Enforcement = securityv1alpha1.EnforcementEnforced
		}
	}
	m, err := compile.Compile(in)
	if err != nil {
		return nil, err
	}
	return evaluate.New(m, pods, evaluate.Options{ClusterID: x.clusterID()}), nil
}

// side describes one side's decision: tier, object and rule, why, and where it is in NSX.
func (x *explainer) side(d evaluate.Decision, dir ir.Direction, port ports.Port, v evaluate.Verdict) Side {
	s := Side{Action: string(d.Action()), Tier: TierDefault}
	self, peer, peerIP := x.dst, x.src, v.SrcAddr
	if dir == ir.DirectionOut {
		self, peer, peerIP = x.src, x.dst, v.DstAddr
	}
	if d.Rule != nil {
		s.Tier, s.Object, s.Rule = string(d.Section.Tier), d.Rule.Origin.Object.String(), d.Rule.Origin.Rule
		s.NSX = x.nsxRule(d)
	}
	s.Why = x.why(d, dir, self, peer, peerIP, port)
	return s
}
