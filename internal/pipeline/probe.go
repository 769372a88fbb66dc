package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsim/dataplane"
)

// Side is the decision at one end of a connection: egress at the source, ingress at the
// destination.
type Side struct {
	// Evaluated is false when that end is not a pod with a logical port.
	Evaluated bool `json:"evaluated"`
	// Action is ALLOW, DROP or REJECT.
	Action string `json:"action"`
	// Tier is Security, Developer or Baseline, or "" when no microseg rule decided (the NSX
	// sections below microseg, by default the default section's ALLOW).
	Tier string `json:"tier,omitempty"`
	// Object is the Kubernetes object whose rule decided ("ClusterSecurityPolicy/name",
	// "NetworkPolicy/namespace/name").
	Object string `json:"object,omitempty"`
	// Rule is the rule within that object (a CSP rule name, "ingress/0", "isolate/ingress", …).
	Rule string `json:"rule,omitempty"`
	// Section and SectionID name the NSX section that decided; RuleID the NSX rule.
	Section   string `json:"section,omitempty"`
	SectionID string `json:"sectionID,omitempty"`
	RuleID    string `json:"ruleID,omitempty"`
	// NSXRule is the NSX rule's display name.
	NSXRule string `json:"nsxRule,omitempty"`
}

// Verdict is the fate of one connection.
type Verdict struct {
	Allowed bool `json:"allowed"`
	Egress  Side `json:"egress"`
	Ingress Side `json:"ingress"`
}

type ruleInfo struct {
	origin ir.Origin
	tier   ir.Tier
}

// index maps the NSX rules the sync wrote (the owned-object index it read back) to the model
// rules they realize, so that verdicts name Kubernetes objects.
func (r *Realized) index() {
	r.rules = map[string]ruleInfo{}
	for _, s := range r.Model.Sections {
		for _, rule := range s.Rules {
			if id, ok := r.Sync.Owned.Rule(rule.Key); ok {
				r.rules[id] = ruleInfo{origin: rule.Origin, tier: s.Tier}
			}
		}
	}
}

// ErrUnknownPod is returned for a pod that is not in the dataplane.
var ErrUnknownPod = errors.New("pod has no logical port (no IP address, host network, or not in the world)")

// Probe traces one connection from pod src to pod dst. family picks the address family when the
// pods are dual-stack (4 or 6; 0 prefers IPv4).
func (r *Realized) Probe(ctx context.Context, src, dst PodRef, protocol string, port, family int) (Verdict, error) {
	s, ok := r.ports[src]
	if !ok {
		return Verdict{}, fmt.Errorf("%s: %w", src, ErrUnknownPod)
	}
	d, ok := r.ports[dst]
	if !ok {
		return Verdict{}, fmt.Errorf("%s: %w", dst, ErrUnknownPod)
	}
	srcIP, dstIP, ok := pickFamily(s.addrs, d.addrs, family)
	if !ok {
		return Verdict{}, fmt.Errorf("%s and %s share no address family", src, dst)
	}
	res, err := r.sim.Traceflow(ctx, dataplane.Flow{SrcPortID: s.id, SrcIP: srcIP, DstPortID: d.id, DstIP: dstIP,
		Protocol: strings.ToUpper(protocol), DstPort: port})
	if err != nil {
		return Verdict{}, err
	}
	return Verdict{Allowed: res.Allowed, Egress: r.side(res.Source), Ingress: r.side(res.Destination)}, nil
}

// ProbeIP traces a connection between addresses (either may be a pod's or outside the cluster).
func (r *Realized) ProbeIP(ctx context.Context, srcIP, dstIP, protocol string, port int) (Verdict, error) {
	res, err := r.sim.Traceflow(ctx, dataplane.Flow{SrcIP: srcIP, DstIP: dstIP, Protocol: strings.ToUpper(protocol), DstPort: port})
	if err != nil {
		return Verdict{}, err
	}
	return Verdict{Allowed: res.Allowed, Egress: r.side(res.Source), Ingress: r.side(res.Destination)}, nil
}

// Pods lists the pods in the dataplane, in (namespace, name) order.
func (r *Realized) Pods() []PodRef {
	out := make([]PodRef, 0, len(r.ports))
	for p := range r.ports {
		out = append(out, p)
	}
	sortPodRefs(out)
	return out
}

// Addresses returns a pod's addresses.
func (r *Realized) Addresses(p PodRef) []string { return r.ports[p].addrs }

func (r *Realized) side(v dataplane.SideVerdict) Side {
	out := Side{Evaluated: v.Evaluated, Action: v.Action, SectionID: v.SectionID, RuleID: v.RuleID, NSXRule: v.RuleName, Section: v.SectionName}
	if !v.Evaluated {
		out.Action = "ALLOW"
		return out
	}
	if info, ok := r.rules[v.RuleID]; ok && info.origin.Object.Name != "" {
		out.Tier, out.Object, out.Rule = string(info.tier), info.origin.Object.String(), info.origin.Rule
	}
	return out
}

func pickFamily(src, dst []string, family int) (string, string, bool) {
	for _, want := range []int{4, 6} {
		if family != 0 && family != want {
			continue
		}
		a, b := firstOf(src, want), firstOf(dst, want)
		if a != "" && b != "" {
			return a, b, true
		}
	}
	return "", "", false
}

func firstOf(addrs []string, family int) string {
	for _, s := range addrs {
		if a, err := netip.ParseAddr(s); err == nil && (a.Is4() == (family == 4)) {
			return s
		}
	}
	return ""
}
