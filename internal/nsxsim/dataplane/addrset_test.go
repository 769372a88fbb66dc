package dataplane

import (
	"net/netip"
	"slices"
	"testing"
)

func TestParseAddrEntries(t *testing.T) {
	tests := []struct {
		name    string
		entries []string
		want    []string // Strings() of the set
		in, out []string // addresses inside and outside the set
	}{
		{name: "single IPv4", entries: []string{"10.0.0.1"}, want: []string{"10.0.0.1"},
			in: []string{"10.0.0.1"}, out: []string{"10.0.0.0", "10.0.0.2", "::a00:1"}},
		{name: "CIDR with host bits is masked", entries: []string{"10.1.2.3/24"}, want: []string{"10.1.2.0/24"},
			in: []string{"10.1.2.0", "10.1.2.255"}, out: []string{"10.1.3.0", "10.1.1.255"}},
		{name: "range", entries: []string{"192.168.1.10-192.168.1.20"}, want: []string{"192.168.1.10-192.168.1.20"},
			in: []string{"192.168.1.10", "192.168.1.15", "192.168.1.20"}, out: []string{"192.168.1.9", "192.168.1.21"}},
		{name: "range that is a prefix renders as CIDR", entries: []string{"10.0.0.0-10.0.0.255"}, want: []string{"10.0.0.0/24"}},
		{name: "adjacent and overlapping entries merge", entries: []string{"10.0.0.0/25", "10.0.0.128-10.0.0.200", "10.0.0.150-10.0.0.255", "10.0.0.7"},
			want: []string{"10.0.0.0/24"}},
		{name: "IPv6 single, CIDR and range", entries: []string{"fd00::1", "fd00:1::/64", "fd00:2::10-fd00:2::20"},
			want: []string{"fd00::1", "fd00:1::/64", "fd00:2::10-fd00:2::20"},
			in:   []string{"fd00::1", "fd00:1::ffff", "fd00:2::15"}, out: []string{"fd00::2", "fd00:2::21", "10.0.0.1"}},
		{name: "families never merge", entries: []string{"255.255.255.255", "::"}, want: []string{"255.255.255.255", "::"},
			in: []string{"255.255.255.255", "::"}, out: []string{"0.0.0.0", "::1"}},
		{name: "IPv6 halves merge up to the last address", entries: []string{"8000::/1", "::/1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}, want: []string{"::/0"},
			in: []string{"::", "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "8000::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}, out: []string{"0.0.0.0"}},
		{name: "whole IPv4 space", entries: []string{"0.0.0.0/0"}, want: []string{"0.0.0.0/0"},
			in: []string{"0.0.0.0", "255.255.255.255"}, out: []string{"::"}},
		{name: "malformed entries are dropped", entries: []string{"10.0.0.300", "10.0.0.9-10.0.0.1", "10.0.0.1-fd00::1", "fe80::1%eth0", "x/8", ""},
			want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := parseAddrEntries(tt.entries)
			if got := s.Strings(); !slices.Equal(got, tt.want) {
				t.Errorf("Strings() = %q, want %q", got, tt.want)
			}
			for _, a := range tt.in {
				if !s.Contains(netip.MustParseAddr(a)) {
					t.Errorf("Contains(%s) = false, want true", a)
				}
			}
			for _, a := range tt.out {
				if s.Contains(netip.MustParseAddr(a)) {
					t.Errorf("Contains(%s) = true, want false", a)
				}
			}
		})
	}
}

func TestAddrSetContainsAgreesWithLinearScan(t *testing.T) {
	entries := []string{"10.0.0.0/30", "10.0.0.8", "10.0.0.10-10.0.0.12", "10.0.0.20/31"}
	s := parseAddrEntries(entries)
	var ranges []addrRange
	for _, e := range entries {
		r, _ := parseAddrEntry(e)
		ranges = append(ranges, r)
	}
	for i := range 32 {
		a := netip.AddrFrom4([4]byte{10, 0, 0, byte(i)})
		want := slices.ContainsFunc(ranges, func(r addrRange) bool { return !a.Less(r.from) && !r.to.Less(a) })
		if got := s.Contains(a); got != want {
			t.Errorf("Contains(%s) = %v, want %v", a, got, want)
		}
	}
}
