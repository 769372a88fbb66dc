package conformance

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/pipeline"
	"github.com/microseg/microseg/test/conformance/oracle"
)

// Flow is one connection attempt between two pods, or between a pod and an address outside the
// cluster (SrcExt or DstExt set, and that end's PodRef zero).
type Flow struct {
	Src, Dst       pipeline.PodRef
	SrcExt, DstExt netip.Addr
	Protocol       corev1.Protocol
	Port           int
	Family         int
}

func (f Flow) String() string {
	src, dst := f.Src.String(), f.Dst.String()
	if f.SrcExt.IsValid() {
		src = f.SrcExt.String()
	}
	if f.DstExt.IsValid() {
		dst = f.DstExt.String()
	}
	return fmt.Sprintf("%s → %s %s/%d IPv%d", src, dst, f.Protocol, f.Port, f.Family)
}

// addrs returns the flow's source and destination addresses.
func (f Flow) addrs(pods map[pipeline.PodRef]*corev1.Pod) (netip.Addr, netip.Addr, error) {
	end := func(ref pipeline.PodRef, ext netip.Addr) (netip.Addr, error) {
		if ext.IsValid() {
			return ext, nil
		}
		p := pods[ref]
		if p == nil {
			return netip.Addr{}, fmt.Errorf("flow %s: no pod %s", f, ref)
		}
		a, ok := podAddr(p, f.Family)
		if !ok {
			return netip.Addr{}, fmt.Errorf("flow %s: pod %s has no IPv%d address", f, ref, f.Family)
		}
		return a, nil
	}
	src, err := end(f.Src, f.SrcExt)
	if err != nil {
		return src, src, err
	}
	dst, err := end(f.Dst, f.DstExt)
	return src, dst, err
}

func podIndex(w pipeline.World) map[pipeline.PodRef]*corev1.Pod {
	out := map[pipeline.PodRef]*corev1.Pod{}
	for i := range w.Pods {
		out[pipeline.PodRef{Namespace: w.Pods[i].Namespace, Name: w.Pods[i].Name}] = &w.Pods[i]
	}
	return out
}

// Status of one direction of one flow.
type Status int

// Statuses.
const (
	Agree Status = iota
	// Tolerated: a documented NSX limit explains the difference (see tolerance).
	Tolerated
	Disagree
)

func (s Status) String() string { return [...]string{"agree", "tolerated", "DISAGREE"}[s] }

// Outcome is the comparison of one flow.
type Outcome struct {
	Flow Flow
	// Oracle is the oracle's verdict per direction (egress, ingress).
	Oracle [2]bool
	// Microseg is the verdict of microseg's pipeline (Traceflow through the simulator).
	Microseg pipeline.Verdict
	Status   [2]Status
	// Reason explains a tolerated direction.
	Reason [2]string
}

// MicrosegAllows is microseg's verdict for one direction.
func (o *Outcome) MicrosegAllows(d direction) bool {
	if d == egress {
		return o.Microseg.Egress.Action == "ALLOW"
	}
	return o.Microseg.Ingress.Action == "ALLOW"
}

// Worst is the flow's status: the worse of its two directions.
func (o *Outcome) Worst() Status { return max(o.Status[0], o.Status[1]) }

// WorldResult is the comparison of every flow of one world.
type WorldResult struct {
	World    *GenWorld
	Norm     pipeline.World
	Model    *ir.Model
	Outcomes []Outcome
	// Excluded counts the flows left out as not comparable (see chooseFlows).
	Excluded int
	// Relaxed is the rule count under the world's tiny limits when it was too large for the
	// simulator and the world ran with real NSX limits instead (0 otherwise).
	Relaxed int
	Took    time.Duration
	// API is the NSX API the world was realized with.
	API string
}

// maxTightRules bounds the NSX rules a world with tiny limits may compile into.
const maxTightRules = 8000

// RunOptions tune a world's run.
type RunOptions struct {
	// PortsPerPair is how many (protocol, port) pairs besides the destination's own container
	// ports and the world's hot ports are tried for each ordered pod pair.
	PortsPerPair int
	// API is the NSX API microseg realizes the world with (pipeline.Options.API; empty: Manager).
	API string
}

// RunWorld runs microseg's pipeline and the oracle on one generated world and compares every
// flow.
func RunWorld(ctx context.Context, o *oracle.Oracle, gw *GenWorld, opts RunOptions) (*WorldResult, error) {
	start := time.Now()
	norm, err := Normalize(gw.Raw)
	if err != nil {
		return nil, err
	}
	res := &WorldResult{World: gw, Norm: norm, API: opts.API}
	flows, excluded := chooseFlows(gw, norm, opts)
	res.Excluded = excluded
	settings := gw.Settings
	if gw.Tight {
		// Tiny limits split each rule into the product of its split fields; a rule with many Pass
		// pieces can become tens of thousands of NSX rules, which the simulator places one by
		// one (quadratic). Such a world runs with real NSX limits instead.
		m, err := compile.Compile(compile.Input{ClusterID: pipeline.DefaultClusterID, ClusterSecurityPolicies: norm.ClusterSecurityPolicies,
			NetworkPolicies: norm.NetworkPolicies, Namespaces: norm.Namespaces, Pods: norm.Pods, Settings: settings})
		if err != nil {
			return nil, err
		}
		if m.RuleCount() > maxTightRules {
			settings, res.Relaxed = compile.Settings{}, m.RuleCount()
		}
	}
	outcomes, model, err := Compare(ctx, o, norm, pipeline.Options{Settings: settings, API: opts.API}, flows)
	if err != nil {
		return nil, err
	}
	res.Model, res.Outcomes = model, outcomes
	res.Took = time.Since(start)
	return res, nil
}

// Compare realizes a normalised world with microseg's pipeline and evaluates the flows with
// microseg (Traceflow through the simulator) and with the oracle.
func Compare(ctx context.Context, o *oracle.Oracle, norm pipeline.World, opts pipeline.Options, flows []Flow) ([]Outcome, *ir.Model, error) {
	msWorld := mutateMicrosegInput(norm)
	r, err := pipeline.Run(ctx, msWorld, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("microseg pipeline: %w", err)
	}
	out := make([]Outcome, len(flows))
	pods := podIndex(norm)
	for i, f := range flows {
		out[i].Flow = f
		var v pipeline.Verdict
		if f.SrcExt.IsValid() || f.DstExt.IsValid() {
			src, dst, aerr := f.addrs(pods)
			if aerr != nil {
				return nil, nil, aerr
			}
			v, err = r.ProbeIP(ctx, src.String(), dst.String(), string(f.Protocol), f.Port)
		} else {
			v, err = r.Probe(ctx, f.Src, f.Dst, string(f.Protocol), f.Port, f.Family)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("microseg probe %s: %w", f, err)
		}
		if v.Allowed != (v.Egress.Action == "ALLOW" && v.Ingress.Action == "ALLOW") {
			return nil, nil, fmt.Errorf("microseg probe %s: allowed=%v but egress %s, ingress %s", f, v.Allowed, v.Egress.Action, v.Ingress.Action)
		}
		out[i].Microseg = v
		for _, d := range []direction{egress, ingress} {
			side := v.Egress
			if d == ingress {
				side = v.Ingress
			}
			if err := checkAttribution(msWorld, d, side); err != nil {
				return nil, nil, fmt.Errorf("microseg probe %s: %w", f, err)
			}
		}
	}
	if err := evaluateOracle(ctx, o, norm, flows, out); err != nil {
		return nil, nil, err
	}
	for i := range out {
		for _, d := range []direction{egress, ingress} {
			oc := &out[i]
			if oc.Oracle[d] == oc.MicrosegAllows(d) {
				continue
			}
			side := oc.Microseg.Egress
			if d == ingress {
				side = oc.Microseg.Ingress
			}
			if reason, ok := tolerance(r.Model, norm, oc.Flow, d, side, oc.MicrosegAllows(d), oc.Oracle[d]); ok {
				oc.Status[d], oc.Reason[d] = Tolerated, reason
				continue
			}
			oc.Status[d] = Disagree
		}
	}
	return out, r.Model, nil
}

// evaluateOracle fills in the oracle's verdicts, one address family, direction and destination
// profile at a time.
func evaluateOracle(ctx context.Context, o *oracle.Oracle, norm pipeline.World, flows []Flow, out []Outcome) error {
	fams := map[int]bool{}
	for _, f := range flows {
		fams[f.Family] = true
	}
	for _, fam := range []int{4, 6} {
		if !fams[fam] {
			continue
		}
		ow, err := newOracleWorld(norm, fam)
		if err != nil {
			return err
		}
		if err := o.Load(oracle.State{Namespaces: ow.namespaces, Pods: ow.pods}); err != nil {
			return err
		}
		// flows of this family by destination profile
		byProfile := map[string][]int{}
		var profiles []string
		for i, f := range flows {
			if f.Family != fam {
				continue
			}
			if _, _, err := f.addrs(ow.podByRef); err != nil {
				return err
			}
			p := ow.profile(ow.podByRef[f.Dst]) // nil outside the cluster
			if _, ok := byProfile[p]; !ok {
				profiles = append(profiles, p)
			}
			byProfile[p] = append(byProfile[p], i)
		}
		for _, d := range []direction{egress, ingress} {
			if err := o.SetNetworkPolicies(ow.npViews[d]); err != nil {
				return err
			}
			for _, p := range profiles {
				idx := byProfile[p]
				anps, banps := ow.admin(d, ow.podByRef[flows[idx[0]].Dst])
				if err := o.SetAdmin(anps, banps); err != nil {
					return err
				}
				for _, i := range idx {
					f := flows[i]
					src, dst, _ := f.addrs(ow.podByRef)
					ok, err := o.Allowed(ctx, src, dst, f.Protocol, f.Port)
					if err != nil {
						return fmt.Errorf("oracle, flow %s: %w", f, err)
					}
					out[i].Oracle[d] = ok
				}
			}
		}
	}
	return nil
}

// mutateMicrosegInput plants the microseg-side mutations (see mutation).
func mutateMicrosegInput(w pipeline.World) pipeline.World {
	switch mutation {
	case "microseg-deny-as-allow", "microseg-drop-except", "microseg-np-port-off-by-one":
	default:
		return w
	}
	m, err := Normalize(w) // a deep copy
	if err != nil {
		panic(err)
	}
	for i := range m.ClusterSecurityPolicies {
		s := &m.ClusterSecurityPolicies[i].Spec
		for j := range s.Ingress {
			if mutation == "microseg-deny-as-allow" && s.Ingress[j].Action == securityv1alpha1.ActionDeny {
				s.Ingress[j].Action = securityv1alpha1.ActionAllow
			}
		}
		for j := range s.Egress {
			if mutation == "microseg-deny-as-allow" && s.Egress[j].Action == securityv1alpha1.ActionDeny {
				s.Egress[j].Action = securityv1alpha1.ActionAllow
			}
		}
	}
	for i := range m.NetworkPolicies {
		s := &m.NetworkPolicies[i].Spec
		var peers []*networkingv1.NetworkPolicyPeer
		var ports []*networkingv1.NetworkPolicyPort
		for j := range s.Ingress {
			for k := range s.Ingress[j].From {
				peers = append(peers, &s.Ingress[j].From[k])
			}
			for k := range s.Ingress[j].Ports {
				ports = append(ports, &s.Ingress[j].Ports[k])
			}
		}
		for j := range s.Egress {
			for k := range s.Egress[j].To {
				peers = append(peers, &s.Egress[j].To[k])
			}
			for k := range s.Egress[j].Ports {
				ports = append(ports, &s.Egress[j].Ports[k])
			}
		}
		for _, p := range peers {
			if mutation == "microseg-drop-except" && p.IPBlock != nil {
				p.IPBlock.Except = nil
			}
		}
		for _, p := range ports {
			if mutation == "microseg-np-port-off-by-one" && p.Port != nil && p.Port.StrVal == "" && p.EndPort == nil {
				p.Port.IntVal++
			}
		}
	}
	return m
}

// checkAttribution checks what the oracle cannot: that the rule microseg names as the decider of
// a side is a rule of that direction whose action is the side's action (Allow → ALLOW, Deny →
// DROP, Reject → REJECT; a NetworkPolicy's rules allow and its isolation drops; Pass never
// decides). A side no microseg rule decided must be NSX's default allow.
func checkAttribution(norm pipeline.World, d direction, side pipeline.Side) error {
	if side.Object == "" {
		if side.Action != "ALLOW" {
			return fmt.Errorf("%s: %s by no microseg rule (section %q rule %q)", d, side.Action, side.Section, side.NSXRule)
		}
		return nil
	}
	kind, rest, _ := strings.Cut(side.Object, "/")
	want := ""
	switch kind {
	case ir.KindClusterSecurityPolicy:
		for _, c := range norm.ClusterSecurityPolicies {
			if c.Name != rest {
				continue
			}
			for _, r := range c.Spec.Ingress {
				if d == ingress && side.Rule == "ingress/"+r.Name {
					want = microsegAction(r.Action)
				}
			}
			for _, r := range c.Spec.Egress {
				if d == egress && side.Rule == "egress/"+r.Name {
					want = microsegAction(r.Action)
				}
			}
			if tier := string(c.Spec.Tier); side.Tier != tier {
				return fmt.Errorf("%s: decided by %s in tier %s, but its tier is %s", d, side.Object, side.Tier, tier)
			}
		}
	case ir.KindNetworkPolicy:
		switch {
		case side.Tier != string(ir.TierDeveloper):
			return fmt.Errorf("%s: decided by %s in tier %s", d, side.Object, side.Tier)
		case side.Rule == "isolate/"+d.String():
			want = "DROP"
		case strings.HasPrefix(side.Rule, d.String()+"/"):
			want = "ALLOW"
		}
	}
	if want != side.Action {
		return fmt.Errorf("%s: %s by %s rule %q, which is not a rule of this direction with that action (want %q)", d, side.Action, side.Object, side.Rule, want)
	}
	return nil
}

func microsegAction(a securityv1alpha1.RuleAction) string {
	switch a {
	case securityv1alpha1.ActionAllow:
		return "ALLOW"
	case securityv1alpha1.ActionDeny:
		return "DROP"
	case securityv1alpha1.ActionReject:
		return "REJECT"
	}
	return "(" + string(a) + " never decides)"
}
