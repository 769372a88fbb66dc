package perf

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/compile/compiletest"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/nsxsync/manager"
	"github.com/microseg/microseg/internal/nsxsync/memnsx"
)

// EventKind names a Kubernetes change.
type EventKind string

// Event kinds.
const (
	// EventInitial is the first compile of a world.
	EventInitial              EventKind = "Initial"
	EventPodAdded             EventKind = "PodAdded"
	EventPodUpdated           EventKind = "PodUpdated"
	EventNetworkPolicyUpdated EventKind = "NetworkPolicyUpdated"
	EventClusterPolicyUpdated EventKind = "ClusterSecurityPolicyUpdated"
)

// Event is one Kubernetes change: its kind and the object as it is after the change.
type Event struct {
	Kind                  EventKind
	Pod                   *corev1.Pod
	NetworkPolicy         *networkingv1.NetworkPolicy
	ClusterSecurityPolicy *securityv1alpha1.ClusterSecurityPolicy
}

// Compiler turns the world after an event into its model. FullCompiler compiles the whole world
// each time (what the operator does today); an incremental compiler keeps what it compiled and
// uses the event, and must give the byte-identical model.
type Compiler interface {
	Compile(in compile.Input, ev Event) (*ir.Model, error)
}

// FullCompiler is compile.Compile.
type FullCompiler struct{}

// Compile compiles in from scratch.
func (FullCompiler) Compile(in compile.Input, _ Event) (*ir.Model, error) { return compile.Compile(in) }

// Realized is a world whose model NSX holds: the state the operator's cache has of it, against
// which the next event is planned.
type Realized struct {
	World    compile.Input
	Model    *ir.Model
	State    nsxsync.State
	backend  nsxsync.Backend
	compiler Compiler
	fp       [sha256.Size]byte
	// Last is how long each step of the last EventToPlan took.
	Last StepTimes
}

// StepTimes split the time from an event to its plan.
type StepTimes struct {
	Compile, Fingerprint, Plan time.Duration
}

// Realize compiles the world with c and brings an in-memory NSX to its model.
func Realize(c Compiler, w compile.Input) (*Realized, error) {
	m, err := c.Compile(w, Event{Kind: EventInitial})
	if err != nil {
		return nil, err
	}
	backend, err := memnsx.New(w.ClusterID).Backend(manager.Config{})
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	if _, err := nsxsync.Sync(ctx, backend, m, nsxsync.Options{}); err != nil {
		return nil, err
	}
	st, err := backend.Read(ctx, nsxsync.ReadFull)
	if err != nil {
		return nil, err
	}
	fp, _ := nsxsync.Fingerprint(m)
	return &Realized{World: w, Model: m, State: st, backend: backend, compiler: c, fp: fp}, nil
}

// EventToPlan is what the operator does from a Kubernetes change to the NSX plan: compile the
// world after the change and, when the model differs from the realized one (the operator's
// fingerprint shortcut), plan against what NSX holds. The plan is nil when nothing changed.
func (r *Realized) EventToPlan(in compile.Input, ev Event) (nsxsync.Plan, error) {
	r.Last = StepTimes{}
	start := time.Now()
	m, err := r.compiler.Compile(in, ev)
	r.Last.Compile = time.Since(start)
	if err != nil {
		return nil, err
	}
	start = time.Now()
	fp, ok := nsxsync.Fingerprint(m)
	r.Last.Fingerprint = time.Since(start)
	if ok && fp == r.fp {
		return nil, nil
	}
	start = time.Now()
	defer func() { r.Last.Plan = time.Since(start) }()
	return r.backend.Plan(m, r.State)
}

// AntreaWorld is compiletest.AntreaWorld(namespaces) as compiler input.
func AntreaWorld(namespaces int) compile.Input { return Input(compiletest.AntreaWorld(namespaces)) }

// AntreaClusterPolicy is the ClusterSecurityPolicy the Antrea-world events add to the world (the
// world has none) so that one can be edited: every namespace's pods may not reach the metadata
// service on port (the edit changes the port).
func AntreaClusterPolicy(port int32) securityv1alpha1.ClusterSecurityPolicy {
	p := compiletest.CSP("deny-metadata", securityv1alpha1.TierSecurity, 10, compiletest.SubjectNamespaces(nil))
	p.Spec.Egress = []securityv1alpha1.EgressRule{{Name: "metadata", Action: securityv1alpha1.ActionDeny,
		To: []securityv1alpha1.Peer{compiletest.Networks("169.254.169.254/32")}, Ports: []securityv1alpha1.Port{compiletest.CSPPortNum("TCP", port)}}}
	return p
}

// Antrea-world events, in namespace ns-00000.

// AntreaPodAdded is a fifth pod labelled like pod1.
func AntreaPodAdded(n int) corev1.Pod {
	return compiletest.Pod("ns-00000", fmt.Sprintf("pod-new-%d", n), "app-1=scale-1", []string{fmt.Sprintf("10.250.%d.%d", n/250, n%250+1)})
}

// AntreaPodRelabelled is pod1 moved from app-1=scale-1 to app-2=scale-2 (from np-1's pods to
// np-2's).
func AntreaPodRelabelled(w compile.Input) corev1.Pod {
	for _, p := range w.Pods {
		if p.Namespace == "ns-00000" && p.Name == "pod1" {
			p = *p.DeepCopy()
			p.Labels = map[string]string{"app-2": "scale-2"}
			return p
		}
	}
	panic("perf: the Antrea world has no pod ns-00000/pod1")
}

// AntreaNetworkPolicyEdited is np-1 with its ingress limited to TCP port.
func AntreaNetworkPolicyEdited(w compile.Input, port int) networkingv1.NetworkPolicy {
	for _, np := range w.NetworkPolicies {
		if np.Namespace == "ns-00000" && np.Name == "np-1" {
			np = *np.DeepCopy()
			np.Spec.Ingress[0].Ports = []networkingv1.NetworkPolicyPort{compiletest.NPPort("TCP", port)}
			return np
		}
	}
	panic("perf: the Antrea world has no NetworkPolicy ns-00000/np-1")
}

// IncrementalCompiler is compile.Incremental fed with the events. Realized.EventToPlan's events
// are each relative to the realized world (the benchmark's worlds are "base plus this event"),
// so what changed since the previous call is this event and the one before it (which the new
// world no longer has); the initial compile and any event it does not know compile everything.
type IncrementalCompiler struct {
	inc  *compile.Incremental
	last compile.Changes
}

// NewIncrementalCompiler returns an IncrementalCompiler with nothing compiled yet.
func NewIncrementalCompiler() *IncrementalCompiler {
	return &IncrementalCompiler{inc: compile.NewIncremental()}
}

// Compile compiles in, the realized world after ev.
func (c *IncrementalCompiler) Compile(in compile.Input, ev Event) (*ir.Model, error) {
	ch := ChangesOf(ev)
	if ev.Kind == EventInitial {
		c.last = compile.Changes{}
	}
	both := compile.Changes{All: ch.All || c.last.All, NetworkPolicies: append(slices.Clip(ch.NetworkPolicies), c.last.NetworkPolicies...),
		Pods: append(slices.Clip(ch.Pods), c.last.Pods...), ClusterSecurityPolicies: ch.ClusterSecurityPolicies || c.last.ClusterSecurityPolicies}
	m, err := c.inc.Compile(in, both)
	c.last = ch
	if err != nil {
		c.last = compile.Changes{All: true}
	}
	return m, err
}

// Stats describes the last compile.
func (c *IncrementalCompiler) Stats() compile.IncrementalStats { return c.inc.Stats() }

// ChangesOf is what an event changed, as compile.Incremental needs it.
func ChangesOf(ev Event) compile.Changes {
	switch {
	case (ev.Kind == EventPodAdded || ev.Kind == EventPodUpdated) && ev.Pod != nil:
		return compile.Changes{Pods: []string{ev.Pod.Namespace}}
	case ev.Kind == EventNetworkPolicyUpdated && ev.NetworkPolicy != nil:
		return compile.Changes{NetworkPolicies: []string{ev.NetworkPolicy.Namespace}}
	case ev.Kind == EventClusterPolicyUpdated:
		return compile.Changes{ClusterSecurityPolicies: true}
	}
	return compile.Changes{All: true}
}
