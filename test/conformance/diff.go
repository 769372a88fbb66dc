package conformance

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"

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

// chooseFlows picks the flows of a world: every ordered pair of distinct pods, and every pod with
// every external address, both ways, in every family the world has, on each of the destination's
// container ports (with their protocol), on
// the world's hot ports, and on PortsPerPair (protocol, port) pairs drawn from those the policies name (ports, both ends of
// ranges and their neighbours), the container ports of the world, and a few no policy names.
func chooseFlows(gw *GenWorld, norm pipeline.World, opts RunOptions) ([]Flow, int) {
	r := rand.New(rand.NewPCG(gw.Seed, 0x666c6f7773))
	type pp struct {
		proto corev1.Protocol
		port  int
	}
	cand := map[pp]bool{{corev1.ProtocolTCP, 443}: true, {corev1.ProtocolUDP, 9999}: true, {corev1.ProtocolSCTP, 7777}: true, {corev1.ProtocolTCP, 1}: true}
	addRange := func(proto corev1.Protocol, lo, hi int) {
		for _, p := range []int{lo - 1, lo, (lo + hi) / 2, hi, hi + 1} {
			if p >= 1 && p <= 65535 {
				cand[pp{proto, p}] = true
				// the same number in another protocol
				cand[pp{[]corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}[p%3], p}] = true
			}
		}
	}
	npPorts := func(ports []networkingv1.NetworkPolicyPort) {
		for _, p := range ports {
			if p.Port == nil || p.Port.StrVal != "" {
				continue
			}
			hi := int(p.Port.IntVal)
			if p.EndPort != nil {
				hi = int(*p.EndPort)
			}
			addRange(*p.Protocol, int(p.Port.IntVal), hi)
		}
	}
	for _, np := range norm.NetworkPolicies {
		for _, r := range np.Spec.Ingress {
			npPorts(r.Ports)
		}
		for _, r := range np.Spec.Egress {
			npPorts(r.Ports)
		}
	}
	for i := range norm.ClusterSecurityPolicies {
		for _, ports := range cspPortLists(&norm.ClusterSecurityPolicies[i]) {
			for _, p := range ports {
				if p.Port == nil {
					continue
				}
				hi := int(*p.Port)
				if p.EndPort != nil {
					hi = int(*p.EndPort)
				}
				addRange(corev1.Protocol(p.Protocol), int(*p.Port), hi)
			}
		}
	}
	own := map[pipeline.PodRef][]pp{}
	for _, p := range norm.Pods {
		for _, c := range p.Spec.Containers {
			for _, cp := range c.Ports {
				x := pp{cp.Protocol, int(cp.ContainerPort)}
				cand[x] = true
				ref := pipeline.PodRef{Namespace: p.Namespace, Name: p.Name}
				own[ref] = append(own[ref], x)
			}
		}
	}
	var all []pp
	for x := range cand {
		all = append(all, x)
	}
	slices.SortFunc(all, func(a, b pp) int {
		if a.proto != b.proto {
			return strings.Compare(string(a.proto), string(b.proto))
		}
		return a.port - b.port
	})
	fams := []int{4}
	if gw.DualStack {
		fams = append(fams, 6)
	}
	var refs []pipeline.PodRef // pods with an address of their own
	for _, p := range norm.Pods {
		if !p.Spec.HostNetwork && len(p.Status.PodIPs) > 0 {
			refs = append(refs, pipeline.PodRef{Namespace: p.Namespace, Name: p.Name})
		}
	}
	// The oracle's AdminNetworkPolicy and BaselineAdminNetworkPolicy ingress rules never match
	// a source that is not a pod (their ingress peers are pods and namespaces only), so a flow
	// from outside the cluster to pod p cannot be compared when a CSP selecting p has an ingress
	// networks peer covering the source; those flows are left out (and counted).
	uncomparable := func(src netip.Addr, dst pipeline.PodRef) bool {
		for _, c := range norm.ClusterSecurityPolicies {
			covers := false
			for _, r := range c.Spec.Ingress {
				for _, p := range r.From {
					for _, n := range p.Networks {
						covers = covers || netip.MustParsePrefix(string(n)).Contains(src)
					}
				}
			}
			if covers && objectApplies(norm, ir.ObjectRef{Kind: ir.KindClusterSecurityPolicy, Name: c.Name}, dst) {
				return true
			}
		}
		return false
	}
	excluded := 0
	var flows []Flow
	ports := func(d pipeline.PodRef) []pp {
		set := map[pp]bool{}
		for _, x := range own[d] {
			set[x] = true
		}
		for _, h := range gw.Hot {
			set[pp{h.Protocol, int(h.Port)}] = true
		}
		for range opts.PortsPerPair {
			set[all[r.IntN(len(all))]] = true
		}
		var xs []pp
		for x := range set {
			xs = append(xs, x)
		}
		slices.SortFunc(xs, func(a, b pp) int {
			if a.proto != b.proto {
				return strings.Compare(string(a.proto), string(b.proto))
			}
			return a.port - b.port
		})
		return xs
	}
	for _, fam := range fams {
		for _, s := range refs {
			for _, d := range refs {
				if s == d {
					continue
				}
				for _, x := range ports(d) {
					flows = append(flows, Flow{Src: s, Dst: d, Protocol: x.proto, Port: x.port, Family: fam})
				}
			}
		}
		for _, e := range gw.External {
			if e.Is4() != (fam == 4) {
				continue
			}
			for _, p := range refs {
				for _, x := range ports(pipeline.PodRef{}) {
					flows = append(flows, Flow{Src: p, DstExt: e, Protocol: x.proto, Port: x.port, Family: fam})
				}
				for _, x := range ports(p) {
					if uncomparable(e, p) {
						excluded++
						continue
					}
					flows = append(flows, Flow{SrcExt: e, Dst: p, Protocol: x.proto, Port: x.port, Family: fam})
				}
			}
		}
	}
	return flows, excluded
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
