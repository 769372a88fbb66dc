package dataplane

import (
	"slices"
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

// membershipSnapshot has pods on two switches, NCP-style tags, and IPSets with tags.
func membershipSnapshot(groups ...nsxclient.NSGroup) Snapshot {
	return Snapshot{
		Ports: portsByID(
			lport("p-web1", "sw-x", []string{"10.0.0.1", "fd00::1"}, "ncp/project=x", "app=web", "tier=front"),
			lport("p-web2", "sw-x", []string{"10.0.0.2"}, "ncp/project=x", "app=web"),
			lport("p-db1", "sw-y", []string{"10.0.1.1"}, "ncp/project=y", "app=db", "tier=back"),
			lport("p-dbx", "sw-x", []string{"10.0.0.9"}, "ncp/project=x", "app=db"),
			lport("p-mixed", "sw-y", []string{"10.0.1.2"}, "app=other", "ncp/project=web"),
			lport("p-case", "sw-y", []string{"10.0.1.3"}, "App=Web"),
			lport("p-untagged", "sw-y", []string{"10.0.1.4"}),
		),
		IPSets: ipsetsByID(
			ipset("s-ext", []string{"192.0.2.0/24"}, "zone=external-a"),
			ipset("s-range", []string{"198.51.100.10-198.51.100.20", "2001:db8::/64"}, "zone=partner"),
		),
		Groups: groupsByID(groups...),
	}
}

func TestEffectiveMembership(t *testing.T) {
	ipsetTag := func(scope, tagOp, tag string) nsxclient.NSGroupExpression {
		return nsxclient.NSGroupExpression{ResourceType: nsxclient.ExprTag, TargetType: nsxclient.TargetIPSet, Scope: scope, Tag: tag, TagOp: tagOp}
	}
	tests := []struct {
		name      string
		groups    []nsxclient.NSGroup // the group under test is the first
		wantPorts []string
		wantIPs   []string
		wantSets  []string
	}{
		{name: "scope and tag must match the same tag",
			groups:    []nsxclient.NSGroup{nsgroup("g", nil, portTag("app", "web"))},
			wantPorts: []string{"p-web1", "p-web2"}, wantIPs: []string{"10.0.0.1-10.0.0.2", "fd00::1"}},
		{name: "scope=ncp/project tag=web does not match a port with scope app tag web",
			groups:    []nsxclient.NSGroup{nsgroup("g", nil, portTag("ncp/project", "web"))},
			wantPorts: []string{"p-mixed"}, wantIPs: []string{"10.0.1.2"}},
		{name: "empty tag means any value of the scope",
			groups:    []nsxclient.NSGroup{nsgroup("g", nil, portTag("tier", ""))},
			wantPorts: []string{"p-db1", "p-web1"}},
		{name: "empty scope means any scope with that value",
			groups:    []nsxclient.NSGroup{nsgroup("g", nil, portTag("", "web"))},
			wantPorts: []string{"p-mixed", "p-web1", "p-web2"}},
		{name: "empty scope and tag mean any tagged port",
			groups:    []nsxclient.NSGroup{nsgroup("g", nil, portTag("", ""))},
			wantPorts: []string{"p-case", "p-db1", "p-dbx", "p-mixed", "p-web1", "p-web2"}},
		{name: "tag matching is case-sensitive",
			groups:    []nsxclient.NSGroup{nsgroup("g", nil, portTag("App", "Web"))},
			wantPorts: []string{"p-case"}},
		{name: "criteria are ORed",
			groups:    []nsxclient.NSGroup{nsgroup("g", nil, portTag("app", "web"), portTag("tier", "back"))},
			wantPorts: []string{"p-db1", "p-web1", "p-web2"}},
		{name: "complex expression ANDs namespace and label",
			groups:    []nsxclient.NSGroup{nsgroup("g", nil, allOf(portTag("ncp/project", "x"), portTag("app", "db")))},
			wantPorts: []string{"p-dbx"}, wantIPs: []string{"10.0.0.9"}},
		{name: "complex expression with a static id",
			groups:    []nsxclient.NSGroup{nsgroup("g", nil, allOf(portTag("app", "web"), member(nsxclient.TargetLogicalPort, "p-web2")))},
			wantPorts: []string{"p-web2"}},
		{name: "complex expression mixing target types matches nothing",
			groups:    []nsxclient.NSGroup{nsgroup("g", nil, allOf(portTag("app", "web"), ipsetTag("app", "", "web")))},
			wantPorts: nil},
		{name: "static port members, unknown ids ignored",
			groups:    []nsxclient.NSGroup{nsgroup("g", []nsxclient.NSGroupExpression{member(nsxclient.TargetLogicalPort, "p-db1"), member(nsxclient.TargetLogicalPort, "p-gone")})},
			wantPorts: []string{"p-db1"}, wantIPs: []string{"10.0.1.1"}},
		{name: "static members and criteria are ORed",
			groups:    []nsxclient.NSGroup{nsgroup("g", []nsxclient.NSGroupExpression{member(nsxclient.TargetLogicalPort, "p-db1")}, portTag("app", "web"))},
			wantPorts: []string{"p-db1", "p-web1", "p-web2"}},
		{name: "logical switch member brings its ports",
			groups:    []nsxclient.NSGroup{nsgroup("g", []nsxclient.NSGroupExpression{member(targetLogicalSwitch, "sw-x")})},
			wantPorts: []string{"p-dbx", "p-web1", "p-web2"}, wantIPs: []string{"10.0.0.1-10.0.0.2", "10.0.0.9", "fd00::1"}},
		{name: "IPSet member brings addresses, no ports",
			groups:    []nsxclient.NSGroup{nsgroup("g", []nsxclient.NSGroupExpression{member(nsxclient.TargetIPSet, "s-range")})},
			wantPorts: nil, wantIPs: []string{"198.51.100.10-198.51.100.20", "2001:db8::/64"}, wantSets: []string{"s-range"}},
		{name: "IPSets selected by tag",
			groups:  []nsxclient.NSGroup{nsgroup("g", nil, ipsetTag("zone", "STARTSWITH", "external"))},
			wantIPs: []string{"192.0.2.0/24"}, wantSets: []string{"s-ext"}},
		{name: "IPSet tag CONTAINS and ENDSWITH",
			groups:   []nsxclient.NSGroup{nsgroup("g", nil, ipsetTag("zone", "CONTAINS", "tne"), ipsetTag("zone", "ENDSWITH", "-a"))},
			wantSets: []string{"s-ext", "s-range"}, wantIPs: []string{"192.0.2.0/24", "198.51.100.10-198.51.100.20", "2001:db8::/64"}},
		{name: "unknown operator matches nothing",
			groups:   []nsxclient.NSGroup{nsgroup("g", nil, ipsetTag("zone", "MATCHES", "partner"))},
			wantSets: nil},
		{name: "simple expression NOTEQUALS on port id",
			groups: []nsxclient.NSGroup{nsgroup("g", nil, nsxclient.NSGroupExpression{ResourceType: nsxclient.ExprSimple,
				TargetType: nsxclient.TargetLogicalPort, TargetProperty: "id", Op: "NOTEQUALS", Value: "p-web1"})},
			wantPorts: []string{"p-case", "p-db1", "p-dbx", "p-mixed", "p-untagged", "p-web2"}},
		{name: "nested groups are expanded recursively",
			groups: []nsxclient.NSGroup{
				nsgroup("g", []nsxclient.NSGroupExpression{member(nsxclient.TargetNSGroup, "mid")}),
				nsgroup("mid", []nsxclient.NSGroupExpression{member(nsxclient.TargetNSGroup, "leaf"), member(nsxclient.TargetIPSet, "s-ext")}),
				nsgroup("leaf", nil, portTag("app", "db")),
			},
			wantPorts: []string{"p-db1", "p-dbx"}, wantSets: []string{"s-ext"}, wantIPs: []string{"10.0.0.9", "10.0.1.1", "192.0.2.0/24"}},
		{name: "a nesting cycle terminates and unions both groups",
			groups: []nsxclient.NSGroup{
				nsgroup("g", []nsxclient.NSGroupExpression{member(nsxclient.TargetNSGroup, "other"), member(nsxclient.TargetNSGroup, "g")}, portTag("app", "web")),
				nsgroup("other", []nsxclient.NSGroupExpression{member(nsxclient.TargetNSGroup, "g")}, portTag("tier", "back")),
			},
			wantPorts: []string{"p-db1", "p-web1", "p-web2"}},
		{name: "missing nested group contributes nothing",
			groups:    []nsxclient.NSGroup{nsgroup("g", []nsxclient.NSGroupExpression{member(nsxclient.TargetNSGroup, "gone")})},
			wantPorts: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dp := Compile(membershipSnapshot(tt.groups...))
			m, ok := dp.Membership("g")
			if !ok {
				t.Fatal("group g unknown")
			}
			if !slices.Equal(m.Ports, tt.wantPorts) {
				t.Errorf("ports = %q, want %q", m.Ports, tt.wantPorts)
			}
			if !slices.Equal(m.IPSets, tt.wantSets) {
				t.Errorf("ipsets = %q, want %q", m.IPSets, tt.wantSets)
			}
			if tt.wantIPs != nil && !slices.Equal(m.IPs.Strings(), tt.wantIPs) {
				t.Errorf("IPs = %q, want %q", m.IPs.Strings(), tt.wantIPs)
			}
		})
	}
}

func TestCycleMembersShareMembership(t *testing.T) {
	snap := membershipSnapshot(
		nsgroup("a", []nsxclient.NSGroupExpression{member(nsxclient.TargetNSGroup, "b")}, portTag("app", "web")),
		nsgroup("b", []nsxclient.NSGroupExpression{member(nsxclient.TargetNSGroup, "c")}, portTag("app", "db")),
		nsgroup("c", []nsxclient.NSGroupExpression{member(nsxclient.TargetNSGroup, "a")}),
	)
	dp := Compile(snap)
	want := []string{"p-db1", "p-dbx", "p-web1", "p-web2"}
	for _, g := range []string{"a", "b", "c"} {
		if got := dp.EffectivePorts(g); !slices.Equal(got, want) {
			t.Errorf("EffectivePorts(%s) = %q, want %q", g, got, want)
		}
	}
	if got := EffectivePorts(snap, "missing"); got != nil {
		t.Errorf("EffectivePorts(missing) = %q, want nil", got)
	}
	if got := EffectiveIPs(snap, "c").Strings(); !slices.Equal(got, []string{"10.0.0.1-10.0.0.2", "10.0.0.9", "10.0.1.1", "fd00::1"}) {
		t.Errorf("EffectiveIPs(c) = %q", got)
	}
}

// The tag index is an optimisation: it must select exactly what a full scan selects.
func TestTagIndexAgreesWithScan(t *testing.T) {
	exprs := []nsxclient.NSGroupExpression{
		portTag("app", "web"), portTag("app", ""), portTag("", "web"), portTag("", ""),
		allOf(portTag("ncp/project", "x"), portTag("app", "db")), member(nsxclient.TargetLogicalPort, "p-db1"),
		allOf(member(nsxclient.TargetLogicalPort, "p-db1"), portTag("app", "web")),
	}
	snap := membershipSnapshot()
	dp := Compile(snap)
	cat := dp.newCatalog(&snap)
	for _, e := range exprs {
		kind, got := cat.selected(e)
		var want []int
		for i := range cat.objects[kind] {
			if exprMatches(e, kind, &cat.objects[kind][i]) {
				want = append(want, i)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%+v: indexed %v, scan %v", e, got, want)
		}
	}
}
