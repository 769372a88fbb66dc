package ncpemu

import (
	"net/netip"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

func podKey(name string) types.NamespacedName {
	return types.NamespacedName{Namespace: "ns", Name: name}
}

func mustAlloc(t *testing.T, a *ipam, name string, uid types.UID) []netip.Addr {
	t.Helper()
	got, err := a.addressesFor(podKey(name), uid)
	if err != nil {
		t.Fatalf("addressesFor(%s): %v", name, err)
	}
	return got
}

func TestIPAMHandsOutTheLowestFreeAddressOfEachPool(t *testing.T) {
	a := newIPAM(netip.MustParsePrefix("10.1.0.0/24"), netip.MustParsePrefix("fd00::/64"))
	if got := mustAlloc(t, a, "a", "ua"); !slices.Equal(got, addrs("10.1.0.2", "fd00::2")) {
		t.Fatalf("first pod got %v; want the network and gateway addresses skipped", got)
	}
	if got := mustAlloc(t, a, "b", "ub"); !slices.Equal(got, addrs("10.1.0.3", "fd00::3")) {
		t.Fatalf("second pod got %v", got)
	}
	if got := mustAlloc(t, a, "a", "ua"); !slices.Equal(got, addrs("10.1.0.2", "fd00::2")) {
		t.Fatalf("asking again got %v; want the same addresses", got)
	}
	a.release(podKey("a"))
	if got := mustAlloc(t, a, "c", "uc"); !slices.Equal(got, addrs("10.1.0.2", "fd00::2")) {
		t.Fatalf("after a release got %v; want the freed addresses", got)
	}
}

func TestIPAMRebuiltFromPodsNeverCollides(t *testing.T) {
	// What a restarted emulator sees: pods that already report addresses.
	a := newIPAM(netip.MustParsePrefix("10.1.0.0/24"))
	if err := a.reserve(podKey("old"), "u1", addrs("10.1.0.2", "192.0.2.7")); err != nil {
		t.Fatal(err)
	}
	if got := mustAlloc(t, a, "old", "u1"); !slices.Equal(got, addrs("10.1.0.2")) {
		t.Fatalf("a pod with an address got %v; want to keep it (foreign addresses ignored)", got)
	}
	if got := mustAlloc(t, a, "new", "u2"); !slices.Equal(got, addrs("10.1.0.3")) {
		t.Fatalf("a new pod got %v; want the next free address", got)
	}
	if err := a.reserve(podKey("other"), "u3", addrs("10.1.0.3")); err == nil {
		t.Fatal("reserving another pod's address succeeded")
	}
}

func TestIPAMGivesARecreatedPodNameFreshAddresses(t *testing.T) {
	a := newIPAM(netip.MustParsePrefix("10.1.0.0/24"))
	mustAlloc(t, a, "web-0", "first")
	mustAlloc(t, a, "x", "ux")
	// web-0 deleted and recreated (new UID) before the deletion was seen: the old incarnation's
	// address is freed, and the new one gets the lowest free address.
	if got := mustAlloc(t, a, "web-0", "second"); !slices.Equal(got, addrs("10.1.0.2")) {
		t.Fatalf("recreated pod got %v", got)
	}
	if len(a.owners) != 2 {
		t.Fatalf("owners = %v; the old incarnation leaked", a.owners)
	}
}

func TestIPAMExhaustionKeepsNothing(t *testing.T) {
	a := newIPAM(netip.MustParsePrefix("10.1.0.0/30"), netip.MustParsePrefix("fd00::/126"))
	mustAlloc(t, a, "a", "ua") // 10.1.0.2 is the only IPv4 address of a /30
	if _, err := a.addressesFor(podKey("b"), "ub"); err == nil {
		t.Fatal("allocation from an exhausted pool succeeded")
	}
	if _, held := a.owners[netip.MustParseAddr("fd00::3")]; held {
		t.Fatal("a failed allocation kept its IPv6 address")
	}
}
