package nsxspec

import (
	"net/netip"
	"strconv"
	"strings"
)

// intFormatBits gives the bit size of the integer formats; a value outside the range would be
// rejected by NSX's Java deserializer.
var intFormatBits = map[string]int{"int32": 32, "int64": 64}

// stringFormats checks the NSX string formats whose meaning is unambiguous. Formats that
// accept host names (hostname, hostname-or-ip, ...) are not checked: NSX's notion of a valid
// host name is not written down anywhere we could follow.
var stringFormats = map[string]func(string) bool{
	"ip":                        isIP,
	"ipv4":                      func(s string) bool { a, err := netip.ParseAddr(s); return err == nil && a.Is4() },
	"ipv6":                      func(s string) bool { a, err := netip.ParseAddr(s); return err == nil && a.Is6() },
	"ip-cidr-block":             isCIDR,
	"ipv4-cidr-block":           func(s string) bool { p, err := netip.ParsePrefix(s); return err == nil && p.Addr().Is4() },
	"ipv6-cidr-block":           func(s string) bool { p, err := netip.ParsePrefix(s); return err == nil && p.Addr().Is6() },
	"address-or-block-or-range": isAddressOrBlockOrRange,
	"port-or-range":             isPortOrRange,
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

func isCIDR(s string) bool {
	_, err := netip.ParsePrefix(s)
	return err == nil
}

// isAddressOrBlockOrRange accepts what an IPSet or address binding takes: "192.168.1.1",
// "192.168.0.0/24" or "192.168.1.1-192.168.1.100" (either family, not mixed in a range).
func isAddressOrBlockOrRange(s string) bool {
	if from, to, isRange := strings.Cut(s, "-"); isRange {
		a, errA := netip.ParseAddr(from)
		b, errB := netip.ParseAddr(to)
		return errA == nil && errB == nil && a.Is4() == b.Is4() && a.Compare(b) <= 0
	}
	return isIP(s) || isCIDR(s)
}

// isPortOrRange accepts "8080" or "8090-8095".
func isPortOrRange(s string) bool {
	from, to, isRange := strings.Cut(s, "-")
	if !isRange {
		to = from
	}
	lo, errLo := parsePort(from)
	hi, errHi := parsePort(to)
	return errLo == nil && errHi == nil && lo <= hi
}

func parsePort(s string) (uint64, error) {
	return strconv.ParseUint(s, 10, 16)
}
