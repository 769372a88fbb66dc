package dataplane

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

// fuzzSource turns fuzz bytes into choices; once the bytes run out every choice is 0.
type fuzzSource struct{ b []byte }

func (s *fuzzSource) intn(n int) int {
	if len(s.b) == 0 || n <= 1 {
		return 0
	}
	v := int(s.b[0])
	s.b = s.b[1:]
	return v % n
}

func pickFrom[T any](s *fuzzSource, options ...T) T { return options[s.intn(len(options))] }

// Pools small enough that random picks collide: shared tags, ids that exist and ids that do not,
// malformed addresses and unknown enum values.
var (
	fuzzPortIDs   = []string{"p0", "p1", "p2", "p3", "p4", "p5", "missing"}
	fuzzGroupIDs  = []string{"g0", "g1", "g2", "g3", "missing"}
	fuzzIPSetIDs  = []string{"s0", "s1", "s2", "missing"}
	fuzzSwitchIDs = []string{"sw0", "sw1", "", "missing"}
	fuzzAddrs     = []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "fd00::1", "fd00::2", "10.0.0.0/30", "10.0.0.2-10.0.0.9", "fd00::/120", "bogus", "", "10.0.0.9-10.0.0.1"}
	fuzzTags      = []string{"app=a", "app=b", "ns=x", "ns=y", "=a", "app=", "App=a"}
	fuzzOps       = []string{"", "EQUALS", "CONTAINS", "STARTSWITH", "ENDSWITH", "NOTEQUALS", "BOGUS"}
	fuzzKinds     = []string{nsxclient.TargetLogicalPort, nsxclient.TargetIPSet, nsxclient.TargetNSGroup, targetLogicalSwitch, "VirtualMachine"}
	fuzzRefTypes  = []string{nsxclient.TargetNSGroup, nsxclient.TargetIPSet, nsxclient.TargetLogicalPort, targetLogicalSwitch, nsxclient.TargetIPv4Address, nsxclient.TargetIPv6Address, "MACSet"}
	fuzzPorts     = []string{"80", "8080", "1-1024", "8000-9000", "x", "9-1", "70000"}
)

func fuzzExpr(s *fuzzSource, depth int) nsxclient.NSGroupExpression {
	switch s.intn(3) {
	case 0:
		scope, tag, _ := cutTag(pickFrom(s, fuzzTags...))
		return nsxclient.NSGroupExpression{ResourceType: nsxclient.ExprTag, TargetType: pickFrom(s, fuzzKinds...),
			Scope: scope, ScopeOp: pickFrom(s, "", "EQUALS"), Tag: tag, TagOp: pickFrom(s, fuzzOps...)}
	case 1:
		kind := pickFrom(s, fuzzKinds...)
		ids := map[string][]string{nsxclient.TargetLogicalPort: fuzzPortIDs, nsxclient.TargetIPSet: fuzzIPSetIDs, nsxclient.TargetNSGroup: fuzzGroupIDs, targetLogicalSwitch: fuzzSwitchIDs}[kind]
		if ids == nil {
			ids = []string{"vm"}
		}
		return nsxclient.NSGroupExpression{ResourceType: nsxclient.ExprSimple, TargetType: kind,
			TargetProperty: pickFrom(s, "id", "id", "display_name", "bogus"), Op: pickFrom(s, fuzzOps...), Value: pickFrom(s, ids...)}
	}
	e := nsxclient.NSGroupExpression{ResourceType: nsxclient.ExprComplex}
	if depth < 2 {
		for range s.intn(4) {
			e.Expressions = append(e.Expressions, fuzzExpr(s, depth+1))
		}
	}
	return e
}

func cutTag(t string) (scope, tag string, ok bool) {
	for i := range len(t) {
		if t[i] == '=' {
			return t[:i], t[i+1:], true
		}
	}
	return t, "", false
}

func fuzzRefs(s *fuzzSource) []nsxclient.ResourceReference {
	var refs []nsxclient.ResourceReference
	for range s.intn(3) {
		t := pickFrom(s, fuzzRefTypes...)
		var id string
		switch t {
		case nsxclient.TargetNSGroup:
			id = pickFrom(s, fuzzGroupIDs...)
		case nsxclient.TargetIPSet:
			id = pickFrom(s, fuzzIPSetIDs...)
		case nsxclient.TargetLogicalPort:
			id = pickFrom(s, fuzzPortIDs...)
		case targetLogicalSwitch:
			id = pickFrom(s, fuzzSwitchIDs...)
		default:
			id = pickFrom(s, fuzzAddrs...)
		}
		r := ref(t, id)
		if s.intn(5) == 0 {
			r = invalidRef(t, id)
		}
		refs = append(refs, r)
	}
	return refs
}

func fuzzServices(s *fuzzSource) []nsxclient.FirewallService {
	var out []nsxclient.FirewallService
	for range s.intn(3) {
		n := int64(pickFrom(s, 1, 6, 17, 58, 132))
		typ := int64(pickFrom(s, 0, 8, 128))
		el := nsxclient.NSServiceElement{
			ResourceType: pickFrom(s, nsxclient.ServiceL4PortSet, nsxclient.ServiceICMPType, nsxclient.ServiceIPProtocol, "ALGTypeNSService"),
			L4Protocol:   pickFrom(s, "TCP", "UDP", "SCTP"),
			Protocol:     pickFrom(s, "", "ICMPv4", "ICMPv6", "bogus"),
		}
		for range s.intn(3) {
			el.DestinationPorts = append(el.DestinationPorts, pickFrom(s, fuzzPorts...))
		}
		for range s.intn(2) {
			el.SourcePorts = append(el.SourcePorts, pickFrom(s, fuzzPorts...))
		}
		if s.intn(2) == 0 {
			el.ProtocolNumber, el.ICMPType = &n, &typ
		}
		switch s.intn(4) {
		case 0:
			out = append(out, nsxclient.FirewallService{TargetType: pickFrom(s, "NSService", "NSServiceGroup"), TargetID: pickFrom(s, "svc0", "missing")})
		default:
			out = append(out, nsxclient.FirewallService{Service: &el})
		}
	}
	return out
}

// fuzzSnapshot builds a small snapshot and a flow from fuzz bytes.
func fuzzSnapshot(data []byte) (Snapshot, Flow) {
	s := &fuzzSource{b: data}
	snap := Snapshot{
		Ports:         map[string]nsxclient.LogicalPort{},
		Groups:        map[string]nsxclient.NSGroup{},
		IPSets:        map[string]nsxclient.IPSet{},
		NSServices:    map[string]nsxclient.NSServiceElement{"svc0": {ResourceType: nsxclient.ServiceL4PortSet, L4Protocol: "TCP", DestinationPorts: []string{"80"}}},
		DefaultAction: pickFrom(s, "", "ALLOW", "DROP", "REJECT"),
	}
	for i := range 1 + s.intn(6) {
		var ips, tags []string
		for range s.intn(3) {
			ips = append(ips, pickFrom(s, fuzzAddrs...))
		}
		for range s.intn(4) {
			tags = append(tags, pickFrom(s, fuzzTags...))
		}
		p := lport(fuzzPortIDs[i], pickFrom(s, fuzzSwitchIDs...), ips, tags...)
		snap.Ports[p.ID] = p
	}
	for i := range s.intn(4) {
		var addrs, tags []string
		for range s.intn(3) {
			addrs = append(addrs, pickFrom(s, fuzzAddrs...))
		}
		for range s.intn(2) {
			tags = append(tags, pickFrom(s, fuzzTags...))
		}
		set := ipset(fuzzIPSetIDs[i], addrs, tags...)
		snap.IPSets[set.ID] = set
	}
	for i := range s.intn(5) {
		var members, criteria []nsxclient.NSGroupExpression
		for range s.intn(3) {
			members = append(members, fuzzExpr(s, 1))
		}
		for range s.intn(3) {
			criteria = append(criteria, fuzzExpr(s, 0))
		}
		g := nsgroup(fuzzGroupIDs[i], members, criteria...)
		snap.Groups[g.ID] = g
	}
	for i := range s.intn(4) {
		var rules []nsxclient.FirewallRule
		for j := range s.intn(5) {
			r := rule(fmt.Sprintf("%d%d", i, j), pickFrom(s, "ALLOW", "DROP", "REJECT", "REDIRECT"),
				from(fuzzRefs(s)...), to(fuzzRefs(s)...), services(fuzzServices(s)...), ruleAppliedTo(fuzzRefs(s)...),
				direction(pickFrom(s, "", "IN", "OUT", "IN_OUT", "bogus")), ipProtocol(pickFrom(s, "", "IPV4", "IPV6", "IPV4_IPV6", "bogus")))
			r.Disabled = s.intn(6) == 0
			r.SourcesExcluded = s.intn(4) == 0
			r.DestinationsExcluded = s.intn(4) == 0
			rules = append(rules, r)
		}
		sec := section(fmt.Sprint(i), fuzzRefs(s), rules...)
		sec.Section.SectionType = pickFrom(s, "LAYER3", "LAYER3", "", "LAYER2")
		snap.Sections = append(snap.Sections, sec)
	}
	if s.intn(2) == 0 {
		snap.Sections = append(snap.Sections, defaultSection(pickFrom(s, "ALLOW", "DROP")))
	}
	endpointIP := func() string { return pickFrom(s, append([]string{"", "", "192.0.2.1", "fd00::99"}, fuzzAddrs...)...) }
	endpointPort := func() string { return pickFrom(s, append([]string{"", ""}, fuzzPortIDs...)...) }
	flow := Flow{
		SrcPortID: endpointPort(), SrcIP: endpointIP(),
		DstPortID: endpointPort(), DstIP: endpointIP(),
		Protocol: pickFrom(s, "TCP", "udp", "SCTP", "ICMP", "GRE"),
		DstPort:  pickFrom(s, 0, 80, 8080, 443, 70000),
		SrcPort:  pickFrom(s, 0, 1234, 53, -1),
	}
	return snap, flow
}

// FuzzTrace checks that compiling and tracing random small snapshots never panics, gives the
// same answer every time, and keeps the result consistent with the two side verdicts.
func FuzzTrace(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("microseg dataplane"))
	f.Add([]byte{5, 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6, 4, 3, 3, 8, 3, 2, 7, 9, 5, 0, 2, 8, 8, 4, 1, 9, 7, 1, 6, 9, 3, 9, 9, 3, 7, 5, 1, 0, 5, 8, 2, 0, 9, 7, 4, 9, 4, 4, 5, 9, 2, 3, 0, 7, 8, 1, 6, 4, 0, 6, 2, 8, 6, 2, 0, 8, 9, 9, 8, 6, 2, 8, 0, 3, 4, 8, 2, 5, 3, 4, 2, 1, 1, 7, 0, 6, 7, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		snap, flow := fuzzSnapshot(data)
		dp := Compile(snap)
		res, err := dp.Trace(flow)
		again, errAgain := Compile(snap).Trace(flow)
		if !reflect.DeepEqual(res, again) || fmt.Sprint(err) != fmt.Sprint(errAgain) {
			t.Fatalf("non-deterministic trace of %+v:\n%+v (%v)\n%+v (%v)", flow, res, err, again, errAgain)
		}
		for id := range snap.Groups {
			if m1, m2 := dp.EffectivePorts(id), Compile(snap).EffectivePorts(id); !reflect.DeepEqual(m1, m2) {
				t.Fatalf("non-deterministic membership of %s: %q vs %q", id, m1, m2)
			}
		}
		if err != nil {
			return
		}
		if res.Allowed != (res.Source.Allows() && res.Destination.Allows()) {
			t.Fatalf("Allowed=%v inconsistent with sides %+v / %+v", res.Allowed, res.Source, res.Destination)
		}
		if res.Allowed != (res.Action == nsxclient.ActionAllow) {
			t.Fatalf("Allowed=%v but Action=%s", res.Allowed, res.Action)
		}
		for _, v := range []SideVerdict{res.Source, res.Destination} {
			if v.Evaluated && v.Action != "ALLOW" && v.Action != "DROP" && v.Action != "REJECT" {
				t.Fatalf("side decided by unexpected action %q: %+v", v.Action, v)
			}
		}
	})
}
