package compile

import (
	"flag"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/microseg/microseg/internal/ir"
)

var semanticSeeds = flag.Int("semantic-seeds", 400, "random worlds the semantic test checks")

// testServices are the (protocol, port) pairs every connection is tried on.
var testServices = []struct {
	proto string
	port  int
}{{"TCP", 80}, {"TCP", 53}, {"TCP", 8080}, {"TCP", 9090}, {"TCP", 8050}, {"UDP", 53}, {"UDP", 8080}, {"SCTP", 7777}, {"SCTP", 80}, {"ICMP", 0}}

// endpoint is one address of the world: a pod of the cluster, a pod of another cluster (an NSX
// port that is not a pod to us), or an outside address.
type endpoint struct {
	pod  *corev1.Pod // this cluster's pod, or nil
	port int         // NSX logical port index, or -1
	ip   netip.Addr
	name string
}

// mismatch is one disagreement between the DFW model and the reference semantics.
type mismatch struct {
	flow      testFlow
	dir       string
	from, to  string
	want, got bool
	rule      string
}

// checkWorld compiles a world and compares, for every ordered pair of endpoints, every service
// and both directions, the DFW verdict of the model with the reference verdict. SCTP flows may
// only be denied where the reference allows them (SCTP is fail-closed, with a warning); every
// other flow must agree exactly.
func checkWorld(t *testing.T, w testWorld, foldCase bool) (flows int, bad []mismatch) {
	t.Helper()
	m := mustCompile(t, w.in)
	var ports []ncpPort
	var eps []endpoint
	addPod := func(p *corev1.Pod, cluster string, ours bool) {
		live := !p.Spec.HostNetwork && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
		if !live {
			return
		}
		var ips []netip.Addr
		for _, x := range p.Status.PodIPs {
			ips = append(ips, netip.MustParseAddr(x.IP))
		}
		ports = append(ports, ncpPort{name: p.Namespace + "/" + p.Name, tags: ncpTags(cluster, p.Namespace, p.Name, p.Labels), ips: ips})
		for _, ip := range ips {
			e := endpoint{port: len(ports) - 1, ip: ip, name: cluster + ":" + p.Namespace + "/" + p.Name}
			if ours {
				e.pod = p
			}
			eps = append(eps, e)
		}
	}
	for i := range w.in.Pods {
		addPod(&w.in.Pods[i], w.in.ClusterID, true)
	}
	for i := range w.foreign {
		addPod(&w.foreign[i], "other-cluster", false)
	}
	for _, ip := range w.outside {
		eps = append(eps, endpoint{port: -1, ip: ip, name: ip.String()})
	}
	dfw := newIREvaluator(m, ports, w.external, foldCase)
	ref := newRefEvaluator(w.in, w.external)
	sctpWarned := false
	for _, x := range m.Warnings {
		sctpWarned = sctpWarned || x.Code == ir.WarnSCTPPorts
	}
	for _, src := range eps {
		for _, dst := range eps {
			if src.ip == dst.ip || src.ip.Is4() != dst.ip.Is4() || (src.port >= 0 && src.port == dst.port) {
				continue
			}
			for _, svc := range testServices {
				f := testFlow{src: src.ip, dst: dst.ip, proto: svc.proto, port: svc.port}
				flows++
				for _, side := range []struct {
					dir   ir.Direction
					at    endpoint
					other endpoint
				}{{ir.DirectionOut, src, dst}, {ir.DirectionIn, dst, src}} {
					want := true
					if side.at.pod != nil {
						want = ref.allowed(side.at.pod, side.dir == ir.DirectionIn, refEndpoint{pod: side.other.pod, ip: side.other.ip}, f)
					}
					got, rule := true, "not a port"
					if side.at.port >= 0 {
						var action ir.Action
						action, rule = dfw.verdict(side.at.port, side.dir, f)
						got = action == ir.ActionAllow
					}
					if got == want || (svc.proto == "SCTP" && !got && want && sctpWarned) {
						continue
					}
					bad = append(bad, mismatch{flow: f, dir: string(side.dir), from: src.name, to: dst.name, want: want, got: got, rule: rule})
				}
			}
		}
	}
	return flows, bad
}

func reportMismatches(t *testing.T, what string, w testWorld, bad []mismatch) {
	t.Helper()
	if len(bad) == 0 {
		return
	}
	var b strings.Builder
	for i, x := range bad {
		if i == 8 {
			fmt.Fprintf(&b, "  ... %d more\n", len(bad)-i)
			break
		}
		fmt.Fprintf(&b, "  %s %s -> %s (%s at %s): reference allows=%v, DFW allows=%v (decided by %s)\n",
			x.flow.proto+fmt.Sprintf("/%d", x.flow.port), x.from, x.to, x.flow, x.dir, x.want, x.got, x.rule)
	}
	m, _ := Compile(w.in)
	t.Errorf("%s: %d disagreements between the DFW model and the reference semantics:\n%s\ninput: %s\nmodel: %s",
		what, len(bad), b.String(), toJSON(t, w.in), toJSON(t, m))
}

// TestSemanticReferenceScenario checks the design's traffic table on the reference scenario and
// then every flow against the reference semantics.
func TestSemanticReferenceScenario(t *testing.T) {
	in := referenceScenario(t)
	w := testWorld{in: in, external: map[string][]netip.Addr{}, outside: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}
	m := mustCompile(t, in)
	var ports []ncpPort
	portOf := map[string]int{}
	for _, p := range in.Pods {
		var ips []netip.Addr
		for _, x := range p.Status.PodIPs {
			ips = append(ips, netip.MustParseAddr(x.IP))
		}
		portOf[p.Labels["app"]] = len(ports) // the last replica; both behave alike
		ports = append(ports, ncpPort{name: p.Name, tags: ncpTags(in.ClusterID, p.Namespace, p.Name, p.Labels), ips: ips})
	}
	dfw := newIREvaluator(m, ports, nil, false)
	table := []struct {
		src, dst string
		allowed  bool
	}{
		{"service-a", "service-b", true}, {"service-a", "service-c", true}, {"service-a", "service-d", false},
		{"service-b", "service-c", true}, {"service-b", "service-d", false}, {"service-c", "service-d", true},
		{"service-c", "service-b", false}, {"service-d", "service-c", false}, {"service-d", "service-b", false},
		{"service-c", "service-a", false}, {"service-b", "service-a", false},
	}
	for _, row := range table {
		for fam := range 2 {
			s, d := ports[portOf[row.src]], ports[portOf[row.dst]]
			f := testFlow{src: s.ips[fam], dst: d.ips[fam], proto: "TCP", port: 8080}
			out, outRule := dfw.verdict(portOf[row.src], ir.DirectionOut, f)
			in, inRule := dfw.verdict(portOf[row.dst], ir.DirectionIn, f)
			got := out == ir.ActionAllow && in == ir.ActionAllow
			if got != row.allowed {
				t.Errorf("%s -> %s (%s): allowed=%v, want %v (egress %s by %s, ingress %s by %s)",
					row.src, row.dst, f, got, row.allowed, out, outRule, in, inRule)
			}
		}
	}
	// service-a from outside the cluster (its load balancer) is untouched by the baseline.
	f := testFlow{src: netip.MustParseAddr("192.0.2.1"), dst: ports[portOf["service-a"]].ips[0], proto: "TCP", port: 8080}
	if a, rule := dfw.verdict(portOf["service-a"], ir.DirectionIn, f); a != ir.ActionAllow {
		t.Errorf("outside -> service-a: %s by %s, want allowed", a, rule)
	}
	// A reject, not a silent drop, for service-d.
	f = testFlow{src: ports[portOf["service-a"]].ips[0], dst: ports[portOf["service-d"]].ips[0], proto: "TCP", port: 8080}
	if a, rule := dfw.verdict(portOf["service-d"], ir.DirectionIn, f); a != ir.ActionReject {
		t.Errorf("service-a -> service-d: %s by %s, want REJECT", a, rule)
	}
	for _, fold := range []bool{false, true} {
		_, bad := checkWorld(t, w, fold)
		reportMismatches(t, "reference scenario", w, bad)
	}
}

// TestSemanticRandomWorlds is the fast inner loop of the project's differential testing: random
// worlds with every construct (all selector operators, named ports that differ per pod, IPv4 and
// IPv6, ipBlock with except, NSX groups, every action including Pass, both tiers), and every
// connection compared between the DFW model and the reference semantics.
func TestSemanticRandomWorlds(t *testing.T) {
	seeds := *semanticSeeds
	if testing.Short() {
		seeds = 50
	}
	total, failed := 0, 0
	for seed := range uint64(seeds) {
		w := randomWorld(seed)
		// Odd seeds match tags case-insensitively (NSX ≥ 3), even seeds case-sensitively.
		flows, bad := checkWorld(t, w, seed%2 == 1)
		total += flows
		if len(bad) > 0 {
			failed++
			if failed <= 3 {
				reportMismatches(t, fmt.Sprintf("seed %d", seed), w, bad)
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d worlds disagree", failed, seeds)
	}
	t.Logf("%d worlds, %d flows × 2 directions compared", seeds, total)
}

// tinySettings shrink every NSX limit so that random worlds exercise every split: sections,
// refs, services, port entries, IPSets, criteria, nested groups, negated-list collapsing, terms
// relaxed for lack of expressions.
func tinySettings() Settings {
	return Settings{Limits: ir.Limits{
		MaxRulesPerSection:         2,
		MaxRefsPerField:            2,
		MaxServicesPerRule:         3,
		MaxPortsPerEntry:           1,
		MaxIPSetEntries:            1,
		MaxCriteriaPerGroup:        1,
		MaxExpressionsPerCriterion: 3,
		MaxGroupMembers:            2,
	}, MaxLiteralAddresses: 1, MaxPassPieces: 6}
}

// TestSemanticTinyLimits runs the semantic comparison with tiny limits: splitting must never
// change what the DFW allows. (Pass restrictions past MaxPassPieces are fail-closed, so those
// worlds may only deny more, never allow more.)
func TestSemanticTinyLimits(t *testing.T) {
	seeds := *semanticSeeds / 2
	if testing.Short() {
		seeds = 25
	}
	failed := 0
	for seed := range uint64(seeds) {
		w := randomWorld(seed + 100000)
		w.in.Settings = tinySettings()
		_, bad := checkWorld(t, w, seed%2 == 0)
		m, _ := Compile(w.in)
		tooComplex := false
		for _, x := range m.Warnings {
			tooComplex = tooComplex || x.Code == ir.WarnPassTooComplex
		}
		var real []mismatch
		for _, x := range bad {
			if !tooComplex || !x.want || x.got {
				real = append(real, x)
			}
		}
		if len(real) > 0 {
			failed++
			if failed <= 2 {
				reportMismatches(t, fmt.Sprintf("tiny limits, seed %d", seed+100000), w, real)
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d worlds disagree under tiny limits", failed, seeds)
	}
}
