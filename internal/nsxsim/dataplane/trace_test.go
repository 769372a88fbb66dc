package dataplane

import (
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

// traceSnapshot is the fixture of the rule-matching tests: two web pods on switch sw-x, a db pod
// on sw-y, an IPv6-only pod, groups, IPSets and one referenced NSService. 192.0.2.0/24 is outside
// the DFW.
func traceSnapshot(sections []SectionWithRules, defaultAction string) Snapshot {
	return Snapshot{
		Sections:      sections,
		DefaultAction: defaultAction,
		Ports: portsByID(
			lport("p-web1", "sw-x", []string{"10.0.0.1", "fd00::1"}, "ncp/project=x", "app=web"),
			lport("p-web2", "sw-x", []string{"10.0.0.2"}, "ncp/project=x", "app=web"),
			lport("p-db1", "sw-y", []string{"10.0.1.1", "fd00::11"}, "ncp/project=y", "app=db"),
			lport("p-v6only", "sw-y", []string{"fd00::99"}, "ncp/project=y", "app=v6"),
		),
		IPSets: ipsetsByID(
			ipset("s-ext", []string{"192.0.2.0/24"}),
			ipset("s-range", []string{"10.0.0.2-10.0.0.5"}),
		),
		Groups: groupsByID(
			nsgroup("g-web", nil, portTag("app", "web")),
			nsgroup("g-db", nil, allOf(portTag("ncp/project", "y"), portTag("app", "db"))),
			nsgroup("g-ipsets-only", []nsxclient.NSGroupExpression{member(nsxclient.TargetIPSet, "s-ext")}),
			nsgroup("g-cycle1", []nsxclient.NSGroupExpression{member(nsxclient.TargetNSGroup, "g-cycle2")}, portTag("app", "db")),
			nsgroup("g-cycle2", []nsxclient.NSGroupExpression{member(nsxclient.TargetNSGroup, "g-cycle1")}),
		),
		NSServices: map[string]nsxclient.NSServiceElement{
			"svc-http": {ResourceType: nsxclient.ServiceL4PortSet, L4Protocol: nsxclient.L4ProtocolTCP, DestinationPorts: []string{"8080"}},
		},
	}
}

func TestTrace(t *testing.T) {
	const allow, drop, reject = nsxclient.ActionAllow, nsxclient.ActionDrop, nsxclient.ActionReject
	webToDB := Flow{SrcPortID: "p-web1", DstPortID: "p-db1", Protocol: "TCP", DstPort: 8080}
	dbToWeb := Flow{SrcPortID: "p-db1", DstPortID: "p-web1", Protocol: "TCP", DstPort: 8080}
	webToWeb := Flow{SrcPortID: "p-web1", DstPortID: "p-web2", Protocol: "TCP", DstPort: 8080}
	webToDBv6 := Flow{SrcPortID: "p-web1", DstPortID: "p-db1", DstIP: "fd00::11", Protocol: "TCP", DstPort: 8080}
	with := func(f Flow, change func(*Flow)) Flow { change(&f); return f }
	one := func(rules ...nsxclient.FirewallRule) []SectionWithRules {
		return []SectionWithRules{section("s1", nil, rules...)}
	}
	icmpService := func(protocol string, icmpType *int64) nsxclient.FirewallService {
		return nsxclient.FirewallService{Service: &nsxclient.NSServiceElement{ResourceType: nsxclient.ServiceICMPType, Protocol: protocol, ICMPType: icmpType}}
	}
	ipProto := func(n int64) nsxclient.FirewallService {
		return nsxclient.FirewallService{Service: &nsxclient.NSServiceElement{ResourceType: nsxclient.ServiceIPProtocol, ProtocolNumber: &n}}
	}
	withSrcPorts := func(s nsxclient.FirewallService, ports ...string) nsxclient.FirewallService {
		el := *s.Service
		el.SourcePorts = ports
		s.Service = &el
		return s
	}
	int64p := func(v int64) *int64 { return &v }
	layer2 := section("l2", nil, rule("r1", drop))
	layer2.Section.SectionType = nsxclient.SectionLayer2

	tests := []struct {
		name          string
		sections      []SectionWithRules
		defaultAction string
		flow          Flow
		src, dst      string // verdict(): "rule:ACTION", "default:ACTION" or "-"
		action        string // Result.Action
	}{
		// Defaults and ordering.
		{name: "no rules: both sides take the default action", flow: webToDB, src: "default:ALLOW", dst: "default:ALLOW", action: allow},
		{name: "DefaultAction DROP applies when nothing matched", defaultAction: drop, flow: webToDB, src: "default:DROP", dst: "default:DROP", action: drop},
		{name: "default section's rule decides", sections: []SectionWithRules{defaultSection(allow)}, flow: webToDB, src: "1:ALLOW", dst: "1:ALLOW", action: allow},
		{name: "first matching section wins",
			sections: []SectionWithRules{section("s1", nil, rule("r1", allow, from(grp("g-web")))), section("s2", nil, rule("r2", drop)), defaultSection(allow)},
			flow:     webToDB, src: "r1:ALLOW", dst: "r1:ALLOW", action: allow},
		{name: "first matching rule within a section wins",
			sections: one(rule("r1", drop, from(grp("g-db"))), rule("r2", reject), rule("r3", allow)),
			flow:     webToDB, src: "r2:REJECT", dst: "r2:REJECT", action: reject},

		// Sources and destinations.
		{name: "source NSGroup with complex expression", sections: one(rule("r1", drop, from(grp("g-db")))), flow: dbToWeb, src: "r1:DROP", dst: "r1:DROP", action: drop},
		{name: "source NSGroup that does not contain the source", sections: one(rule("r1", drop, from(grp("g-db")))), flow: webToDB, src: "default:ALLOW", dst: "default:ALLOW", action: allow},
		{name: "source IPSet CIDR from an outside endpoint",
			sections: one(rule("r1", drop, from(ref(nsxclient.TargetIPSet, "s-ext")))),
			flow:     Flow{SrcIP: "192.0.2.10", DstPortID: "p-db1", Protocol: "TCP", DstPort: 8080}, src: "-", dst: "r1:DROP", action: drop},
		{name: "source IPSet range contains 10.0.0.2",
			sections: one(rule("r1", drop, from(ref(nsxclient.TargetIPSet, "s-range")))),
			flow:     with(webToDB, func(f *Flow) { f.SrcPortID = "p-web2" }), src: "r1:DROP", dst: "r1:DROP", action: drop},
		{name: "source IPSet range does not contain 10.0.0.1",
			sections: one(rule("r1", drop, from(ref(nsxclient.TargetIPSet, "s-range")))),
			flow:     webToDB, src: "default:ALLOW", dst: "default:ALLOW", action: allow},
		{name: "source LogicalPort", sections: one(rule("r1", drop, from(ref(nsxclient.TargetLogicalPort, "p-web1")))), flow: webToDB, src: "r1:DROP", dst: "r1:DROP", action: drop},
		{name: "source LogicalSwitch", sections: one(rule("r1", drop, from(ref(targetLogicalSwitch, "sw-x")))), flow: webToDB, src: "r1:DROP", dst: "r1:DROP", action: drop},
		{name: "destination IPv4Address literal", sections: one(rule("r1", drop, to(ref(nsxclient.TargetIPv4Address, "10.0.1.1")))), flow: webToDB, src: "r1:DROP", dst: "r1:DROP", action: drop},
		{name: "destination IPv4Address CIDR", sections: one(rule("r1", drop, to(ref(nsxclient.TargetIPv4Address, "10.0.1.0/24")))), flow: webToDB, src: "r1:DROP", dst: "r1:DROP", action: drop},
		{name: "destination IPv6Address", sections: one(rule("r1", drop, to(ref(nsxclient.TargetIPv6Address, "fd00::11/128")))), flow: webToDBv6, src: "r1:DROP", dst: "r1:DROP", action: drop},
		{name: "IPv4Address holding an IPv6 literal never matches", sections: one(rule("r1", drop, to(ref(nsxclient.TargetIPv4Address, "fd00::11")))), flow: webToDBv6, src: "default:ALLOW", dst: "default:ALLOW", action: allow},
		{name: "source nested in a group cycle", sections: one(rule("r1", drop, from(grp("g-cycle2")))), flow: dbToWeb, src: "r1:DROP", dst: "r1:DROP", action: drop},
		{name: "sources_excluded: excluded source does not match", sections: one(rule("r1", drop, from(grp("g-web")), sourcesExcluded())), flow: webToDB, src: "default:ALLOW", dst: "default:ALLOW", action: allow},
		{name: "sources_excluded: other sources match", sections: one(rule("r1", drop, from(grp("g-web")), sourcesExcluded())), flow: dbToWeb, src: "r1:DROP", dst: "r1:DROP", action: drop},
		{name: "destinations_excluded: excluded destination falls through",
			sections: one(rule("r1", allow, to(grp("g-db")), destinationsExcluded()), rule("r2", drop)),
			flow:     webToDB, src: "r2:DROP", dst: "r2:DROP", action: drop},
		{name: "destinations_excluded: other destinations match",
			sections: one(rule("r1", allow, to(grp("g-db")), destinationsExcluded()), rule("r2", drop)),
			flow:     webToWeb, src: "r1:ALLOW", dst: "r1:ALLOW", action: allow},
		{name: "invalid reference never matches", sections: one(rule("r1", drop, from(invalidRef(nsxclient.TargetNSGroup, "g-web")))), flow: webToDB, src: "default:ALLOW", dst: "default:ALLOW", action: allow},
		{name: "reference to a missing object never matches", sections: one(rule("r1", drop, from(grp("gone")))), flow: webToDB, src: "default:ALLOW", dst: "default:ALLOW", action: allow},
		{name: "unsupported reference type never matches", sections: one(rule("r1", drop, from(ref("MACSet", "m1")))), flow: webToDB, src: "default:ALLOW", dst: "default:ALLOW", action: allow},
		{name: "one valid reference among invalid ones still matches",
			sections: one(rule("r1", drop, from(invalidRef(nsxclient.TargetNSGroup, "g-db"), grp("g-web")))),
			flow:     webToDB, src: "r1:DROP", dst: "r1:DROP", action: drop},

		// Applied-to.
		{name: "section applied_to limits the section to its ports",
			sections: []SectionWithRules{section("s1", []nsxclient.ResourceReference{grp("g-db")}, rule("r1", drop))},
			flow:     webToDB, src: "default:ALLOW", dst: "r1:DROP", action: drop},
		{name: "section applied_to overrides rule applied_to",
			sections: []SectionWithRules{section("s1", []nsxclient.ResourceReference{grp("g-db")}, rule("r1", drop, ruleAppliedTo(ref(nsxclient.TargetLogicalPort, "p-web1"))))},
			flow:     webToDB, src: "default:ALLOW", dst: "r1:DROP", action: drop},
		{name: "rule applied_to LogicalPort", sections: one(rule("r1", drop, ruleAppliedTo(ref(nsxclient.TargetLogicalPort, "p-db1")))), flow: webToDB, src: "default:ALLOW", dst: "r1:DROP", action: drop},
		{name: "rule applied_to LogicalSwitch", sections: one(rule("r1", drop, ruleAppliedTo(ref(targetLogicalSwitch, "sw-x")))), flow: webToDB, src: "r1:DROP", dst: "default:ALLOW", action: drop},
		{name: "applied_to a group of IPSets covers no port",
			sections: []SectionWithRules{section("s1", []nsxclient.ResourceReference{grp("g-ipsets-only")}, rule("r1", drop))},
			flow:     webToDB, src: "default:ALLOW", dst: "default:ALLOW", action: allow},
		{name: "section applied_to with only invalid references covers no port",
			sections: []SectionWithRules{section("s1", []nsxclient.ResourceReference{invalidRef(nsxclient.TargetNSGroup, "g-web")}, rule("r1", drop))},
			flow:     webToDB, src: "default:ALLOW", dst: "default:ALLOW", action: allow},

		// Direction, IP protocol, disabled, actions, section types.
		{name: "direction IN is evaluated at the destination only", sections: one(rule("r1", drop, direction("IN"))), flow: webToDB, src: "default:ALLOW", dst: "r1:DROP", action: drop},
		{name: "direction OUT is evaluated at the source only", sections: one(rule("r1", drop, direction("OUT"))), flow: webToDB, src: "r1:DROP", dst: "default:ALLOW", action: drop},
		{name: "direction IN_OUT is evaluated on both sides", sections: one(rule("r1", drop, direction("IN_OUT"))), flow: webToDB, src: "r1:DROP", dst: "r1:DROP", action: drop},
		{name: "ip_protocol IPV6 ignores an IPv4 flow", sections: one(rule("r1", drop, ipProtocol("IPV6"))), flow: webToDB, src: "default:ALLOW", dst: "default:ALLOW", action: allow},
		{name: "ip_protocol IPV6 matches an IPv6 flow", sections: one(rule("r1", drop, ipProtocol("IPV6"))), flow: webToDBv6, src: "r1:DROP", dst: "r1:DROP", action: drop},
		{name: "ip_protocol IPV4 ignores an IPv6 flow", sections: one(rule("r1", drop, ipProtocol("IPV4"))), flow: webToDBv6, src: "default:ALLOW", dst: "default:ALLOW", action: allow},
		{name: "ip_protocol IPV4_IPV6 matches both", sections: one(rule("r1", drop, ipProtocol("IPV4_IPV6"))), flow: webToDBv6, src: "r1:DROP", dst: "r1:DROP", action: drop},
		{name: "disabled rule is skipped", sections: one(rule("r1", drop, disabled()), rule("r2", allow)), flow: webToDB, src: "r2:ALLOW", dst: "r2:ALLOW", action: allow},
		{name: "service-insertion action is skipped", sections: one(rule("r1", "REDIRECT"), rule("r2", reject)), flow: webToDB, src: "r2:REJECT", dst: "r2:REJECT", action: reject},
		{name: "LAYER2 section is skipped", sections: []SectionWithRules{layer2}, flow: webToDB, src: "default:ALLOW", dst: "default:ALLOW", action: allow},
		{name: "REJECT at the source is reported over DROP at the destination",
			sections: one(rule("r1", reject, direction("OUT")), rule("r2", drop, direction("IN"))),
			flow:     webToDB, src: "r1:REJECT", dst: "r2:DROP", action: reject},
		{name: "DROP at the destination only",
			sections: one(rule("r1", drop, direction("IN"), from(grp("g-web")))),
			flow:     webToDB, src: "default:ALLOW", dst: "r1:DROP", action: drop},

		// Services.
		{name: "TCP port matches", sections: one(rule("r1", allow, services(tcp("8080"))), rule("r2", drop)), flow: webToDB, src: "r1:ALLOW", dst: "r1:ALLOW", action: allow},
		{name: "TCP other port does not match", sections: one(rule("r1", allow, services(tcp("80"))), rule("r2", drop)), flow: webToDB, src: "r2:DROP", dst: "r2:DROP", action: drop},
		{name: "TCP port range matches", sections: one(rule("r1", allow, services(tcp("8000-8090"))), rule("r2", drop)), flow: webToDB, src: "r1:ALLOW", dst: "r1:ALLOW", action: allow},
		{name: "TCP port range bounds are inclusive", sections: one(rule("r1", allow, services(tcp("7000-8080"))), rule("r2", drop)), flow: webToDB, src: "r1:ALLOW", dst: "r1:ALLOW", action: allow},
		{name: "TCP port just outside the range", sections: one(rule("r1", allow, services(tcp("8081-9000"))), rule("r2", drop)), flow: webToDB, src: "r2:DROP", dst: "r2:DROP", action: drop},
		{name: "L4 port set without ports matches any port of its protocol", sections: one(rule("r1", allow, services(tcp())), rule("r2", drop)), flow: webToDB, src: "r1:ALLOW", dst: "r1:ALLOW", action: allow},
		{name: "UDP service does not match TCP", sections: one(rule("r1", allow, services(l4("UDP", "8080"))), rule("r2", drop)), flow: webToDB, src: "r2:DROP", dst: "r2:DROP", action: drop},
		{name: "UDP service matches UDP", sections: one(rule("r1", allow, services(l4("UDP", "53", "8080"))), rule("r2", drop)),
			flow: with(webToDB, func(f *Flow) { f.Protocol = "udp" }), src: "r1:ALLOW", dst: "r1:ALLOW", action: allow},
		{name: "services are ORed", sections: one(rule("r1", allow, services(tcp("80"), tcp("8080"))), rule("r2", drop)), flow: webToDB, src: "r1:ALLOW", dst: "r1:ALLOW", action: allow},
		{name: "source ports match the flow's source port",
			sections: one(rule("r1", allow, services(withSrcPorts(tcp("8080"), "1024-65535"))), rule("r2", drop)),
			flow:     with(webToDB, func(f *Flow) { f.SrcPort = 40000 }), src: "r1:ALLOW", dst: "r1:ALLOW", action: allow},
		{name: "source ports outside the list",
			sections: one(rule("r1", allow, services(withSrcPorts(tcp("8080"), "1024-65535"))), rule("r2", drop)),
			flow:     with(webToDB, func(f *Flow) { f.SrcPort = 80 }), src: "r2:DROP", dst: "r2:DROP", action: drop},
		{name: "unspecified source port does not match a source port list",
			sections: one(rule("r1", allow, services(withSrcPorts(tcp("8080"), "1024-65535"))), rule("r2", drop)),
			flow:     webToDB, src: "r2:DROP", dst: "r2:DROP", action: drop},
		{name: "ICMP service matches ICMP", sections: one(rule("r1", allow, services(icmpService("ICMPv4", nil))), rule("r2", drop)),
			flow: with(webToDB, func(f *Flow) { f.Protocol = "ICMP" }), src: "r1:ALLOW", dst: "r1:ALLOW", action: allow},
		{name: "ICMP service does not match TCP", sections: one(rule("r1", allow, services(icmpService("", nil))), rule("r2", drop)), flow: webToDB, src: "r2:DROP", dst: "r2:DROP", action: drop},
		{name: "ICMP type 8 matches an echo request", sections: one(rule("r1", allow, services(icmpService("ICMPv4", int64p(8)))), rule("r2", drop)),
			flow: with(webToDB, func(f *Flow) { f.Protocol = "ICMP" }), src: "r1:ALLOW", dst: "r1:ALLOW", action: allow},
		{name: "ICMP type 0 does not match an echo request", sections: one(rule("r1", allow, services(icmpService("ICMPv4", int64p(0)))), rule("r2", drop)),
			flow: with(webToDB, func(f *Flow) { f.Protocol = "ICMP" }), src: "r2:DROP", dst: "r2:DROP", action: drop},
		{name: "ICMPv6 service does not match ICMPv4", sections: one(rule("r1", allow, services(icmpService("ICMPv6", nil))), rule("r2", drop)),
			flow: with(webToDB, func(f *Flow) { f.Protocol = "ICMP" }), src: "r2:DROP", dst: "r2:DROP", action: drop},
		{name: "ICMPv6 service matches ICMP over IPv6", sections: one(rule("r1", allow, services(icmpService("ICMPv6", int64p(128)))), rule("r2", drop)),
			flow: with(webToDBv6, func(f *Flow) { f.Protocol = "ICMP" }), src: "r1:ALLOW", dst: "r1:ALLOW", action: allow},
		{name: "IP protocol 132 matches SCTP", sections: one(rule("r1", allow, services(ipProto(132))), rule("r2", drop)),
			flow: with(webToDB, func(f *Flow) { f.Protocol = "SCTP" }), src: "r1:ALLOW", dst: "r1:ALLOW", action: allow},
		{name: "IP protocol 132 does not match TCP", sections: one(rule("r1", allow, services(ipProto(132))), rule("r2", drop)), flow: webToDB, src: "r2:DROP", dst: "r2:DROP", action: drop},
		{name: "IP protocol 6 matches TCP", sections: one(rule("r1", allow, services(ipProto(6))), rule("r2", drop)), flow: webToDB, src: "r1:ALLOW", dst: "r1:ALLOW", action: allow},
		{name: "TCP port set does not match SCTP", sections: one(rule("r1", allow, services(tcp("8080"))), rule("r2", drop)),
			flow: with(webToDB, func(f *Flow) { f.Protocol = "SCTP" }), src: "r2:DROP", dst: "r2:DROP", action: drop},
		{name: "referenced NSService from the snapshot",
			sections: one(rule("r1", allow, services(nsxclient.FirewallService{TargetType: "NSService", TargetID: "svc-http"})), rule("r2", drop)),
			flow:     webToDB, src: "r1:ALLOW", dst: "r1:ALLOW", action: allow},
		{name: "unknown NSService never matches",
			sections: one(rule("r1", allow, services(nsxclient.FirewallService{TargetType: "NSService", TargetID: "svc-gone"})), rule("r2", drop)),
			flow:     webToDB, src: "r2:DROP", dst: "r2:DROP", action: drop},
		{name: "NSServiceGroup reference never matches",
			sections: one(rule("r1", allow, services(nsxclient.FirewallService{TargetType: "NSServiceGroup", TargetID: "svc-http"})), rule("r2", drop)),
			flow:     webToDB, src: "r2:DROP", dst: "r2:DROP", action: drop},

		// Endpoint resolution.
		{name: "outside source is not evaluated; destination IP resolves to its port",
			sections: one(rule("r1", drop)),
			flow:     Flow{SrcIP: "192.0.2.10", DstIP: "10.0.1.1", Protocol: "TCP", DstPort: 80}, src: "-", dst: "r1:DROP", action: drop},
		{name: "outside destination is not evaluated",
			sections: one(rule("r1", reject, to(ref(nsxclient.TargetIPSet, "s-ext")))),
			flow:     Flow{SrcPortID: "p-web1", DstIP: "192.0.2.99", Protocol: "TCP", DstPort: 443}, src: "r1:REJECT", dst: "-", action: reject},
		{name: "both endpoints outside: nothing filters",
			sections: one(rule("r1", drop)),
			flow:     Flow{SrcIP: "192.0.2.1", DstIP: "192.0.2.2", Protocol: "TCP", DstPort: 80}, src: "-", dst: "-", action: allow},
		{name: "port-only IPv6 endpoint picks the IPv6 family",
			sections: one(rule("r1", drop, to(ref(nsxclient.TargetIPv6Address, "fd00::11")))),
			flow:     Flow{SrcPortID: "p-v6only", DstPortID: "p-db1", Protocol: "TCP", DstPort: 80}, src: "r1:DROP", dst: "r1:DROP", action: drop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Trace(traceSnapshot(tt.sections, tt.defaultAction), tt.flow)
			if err != nil {
				t.Fatalf("Trace: %v", err)
			}
			if got := verdict(res.Source); got != tt.src {
				t.Errorf("source = %s, want %s", got, tt.src)
			}
			if got := verdict(res.Destination); got != tt.dst {
				t.Errorf("destination = %s, want %s", got, tt.dst)
			}
			if res.Action != tt.action || res.Allowed != (tt.action == allow) {
				t.Errorf("result = %v/%s, want %s", res.Allowed, res.Action, tt.action)
			}
		})
	}
}

func TestTraceVerdictDetails(t *testing.T) {
	snap := traceSnapshot([]SectionWithRules{section("s1", nil, rule("r1", nsxclient.ActionReject, direction("IN"), from(grp("g-db")))), defaultSection(nsxclient.ActionAllow)}, "")
	res, err := Compile(snap).Trace(Flow{SrcPortID: "p-db1", DstPortID: "p-web1", Protocol: "TCP", DstPort: 8080})
	if err != nil {
		t.Fatal(err)
	}
	wantSrc := SideVerdict{Evaluated: true, PortID: "p-db1", IP: "10.0.1.1", Action: "ALLOW", SectionID: "default", SectionName: "section-default", RuleID: "1", RuleName: "rule-1", Default: true}
	wantDst := SideVerdict{Evaluated: true, PortID: "p-web1", IP: "10.0.0.1", Action: "REJECT", SectionID: "s1", SectionName: "section-s1", RuleID: "r1", RuleName: "rule-r1"}
	if res.Source != wantSrc {
		t.Errorf("source = %+v\nwant %+v", res.Source, wantSrc)
	}
	if res.Destination != wantDst {
		t.Errorf("destination = %+v\nwant %+v", res.Destination, wantDst)
	}
	if res.Allowed || res.Action != "REJECT" {
		t.Errorf("result = %v/%s, want false/REJECT", res.Allowed, res.Action)
	}

	// No rule at all: the snapshot's DefaultAction decides and is flagged as default.
	res, _ = Compile(traceSnapshot(nil, "")).Trace(Flow{SrcIP: "192.0.2.1", DstIP: "10.0.1.1", Protocol: "icmp"})
	if want := (SideVerdict{IP: "192.0.2.1"}); res.Source != want {
		t.Errorf("outside source = %+v, want %+v", res.Source, want)
	}
	if want := (SideVerdict{Evaluated: true, PortID: "p-db1", IP: "10.0.1.1", Action: "ALLOW", Default: true}); res.Destination != want {
		t.Errorf("destination = %+v, want %+v", res.Destination, want)
	}
}

func TestTraceResolvesSharedAddressToLowestPortID(t *testing.T) {
	snap := Snapshot{
		Ports: portsByID(lport("p-b", "sw", []string{"10.9.9.9"}), lport("p-a", "sw", []string{"10.9.9.9"})),
		Sections: []SectionWithRules{section("s1", nil,
			rule("r1", nsxclient.ActionDrop, ruleAppliedTo(ref(nsxclient.TargetLogicalPort, "p-a"))))},
	}
	res, err := Trace(snap, Flow{SrcIP: "192.0.2.1", DstIP: "10.9.9.9", Protocol: "TCP", DstPort: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Destination.PortID != "p-a" || res.Destination.Action != "DROP" {
		t.Errorf("destination = %+v, want p-a dropped", res.Destination)
	}
}

func TestTraceErrors(t *testing.T) {
	dp := Compile(traceSnapshot(nil, ""))
	tests := []struct {
		name string
		flow Flow
	}{
		{"unknown source port", Flow{SrcPortID: "nope", DstPortID: "p-db1", Protocol: "TCP"}},
		{"unknown destination port", Flow{SrcPortID: "p-web1", DstPortID: "nope", Protocol: "TCP"}},
		{"malformed source IP", Flow{SrcIP: "10.0.0.300", DstPortID: "p-db1", Protocol: "TCP"}},
		{"source IP with a zone", Flow{SrcIP: "fe80::1%eth0", DstPortID: "p-db1", Protocol: "TCP"}},
		{"no source at all", Flow{DstPortID: "p-db1", Protocol: "TCP"}},
		{"mixed families", Flow{SrcIP: "192.0.2.1", DstIP: "fd00::11", Protocol: "TCP"}},
		{"port without an address of the flow's family", Flow{SrcPortID: "p-web2", DstIP: "fd00::11", Protocol: "TCP"}},
		{"ports with no common family", Flow{SrcPortID: "p-web2", DstPortID: "p-v6only", Protocol: "TCP"}},
		{"unknown protocol", Flow{SrcPortID: "p-web1", DstPortID: "p-db1", Protocol: "GRE"}},
		{"destination port out of range", Flow{SrcPortID: "p-web1", DstPortID: "p-db1", Protocol: "TCP", DstPort: 65536}},
		{"negative source port", Flow{SrcPortID: "p-web1", DstPortID: "p-db1", Protocol: "UDP", SrcPort: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if res, err := dp.Trace(tt.flow); err == nil {
				t.Errorf("Trace(%+v) = %+v, want an error", tt.flow, res)
			}
		})
	}
}

// A compiled Dataplane is shared by the simulator's HTTP handlers: tracing must be safe from many
// goroutines at once (run with -race).
func TestTraceConcurrent(t *testing.T) {
	dp := Compile(scenarioSnapshot())
	pods := scenarioPods()
	want := make([]Result, len(pods))
	for i, p := range pods {
		want[i], _ = dp.Trace(Flow{SrcPortID: p.portID, DstPortID: pods[(i+3)%len(pods)].portID, Protocol: "TCP", DstPort: 8080})
	}
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 200 {
				k := (i + g) % len(pods)
				got, _ := dp.Trace(Flow{SrcPortID: pods[k].portID, DstPortID: pods[(k+3)%len(pods)].portID, Protocol: "TCP", DstPort: 8080})
				if got != want[k] {
					t.Errorf("concurrent trace %d = %+v, want %+v", k, got, want[k])
					return
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}
