// Package ports is the list of ports microseg's tools probe: --ports as users write it, and the
// ports the policies name (the default list of simulate, matrix and diff, and the ports a Staged
// policy's impact is evaluated on).
package ports

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// protocols are those probed, in the order ports of the same number are listed.
var protocols = []string{"TCP", "UDP", "SCTP"}

// MaxPorts bounds --ports: every port multiplies the probes by the number of pod pairs, and a
// list this long is a sign of a range typed by mistake (1-65535) rather than a question.
const MaxPorts = 256

// Port is one destination port to probe.
type Port struct {
	Protocol string // TCP, UDP or SCTP
	Number   int    // 1..65535
}

func (p Port) String() string { return strconv.Itoa(p.Number) + "/" + p.Protocol }

// Compare orders ports by number, then protocol (TCP, UDP, SCTP), so that a listing reads
// like the port numbers people think in.
func Compare(a, b Port) int {
	if c := cmp.Compare(a.Number, b.Number); c != 0 {
		return c
	}
	return cmp.Compare(slices.Index(protocols, a.Protocol), slices.Index(protocols, b.Protocol))
}

// Sort sorts and deduplicates in place.
func Sort(ps []Port) []Port {
	slices.SortFunc(ps, Compare)
	return slices.Compact(ps)
}

// Parse reads --ports values: comma-separated entries PORT[/PROTOCOL] or FIRST-LAST[/PROTOCOL]
// (a range expands to every port in it), protocol TCP (default), UDP or SCTP in any case. The
// result is sorted and deduplicated.
func Parse(values []string) ([]Port, error) {
	var out []Port
	for _, v := range values {
		for entry := range strings.SplitSeq(v, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			ps, err := parsePortEntry(entry)
			if err != nil {
				return nil, err
			}
			out = append(out, ps...)
			if len(out) > MaxPorts {
				return nil, fmt.Errorf("--ports asks for more than %d ports; probe fewer (each port multiplies the probes by the number of pod pairs)", MaxPorts)
			}
		}
	}
	return Sort(out), nil
}

func parsePortEntry(entry string) ([]Port, error) {
	numbers, proto, hasProto := strings.Cut(entry, "/")
	protocol := "TCP"
	if hasProto {
		protocol = strings.ToUpper(strings.TrimSpace(proto))
		if !slices.Contains(protocols, protocol) {
			return nil, fmt.Errorf("--ports %q: protocol %q is not TCP, UDP or SCTP", entry, proto)
		}
	}
	first, last, isRange := strings.Cut(numbers, "-")
	lo, err := parsePortNumber(entry, first)
	if err != nil {
		return nil, err
	}
	hi := lo
	if isRange {
		if hi, err = parsePortNumber(entry, last); err != nil {
			return nil, err
		}
		if hi < lo {
			return nil, fmt.Errorf("--ports %q: a range runs from the lower port to the higher one (write %d-%d)", entry, hi, lo)
		}
		if hi-lo >= MaxPorts {
			return nil, fmt.Errorf("--ports %q: the range has %d ports, more than the %d a run may probe", entry, hi-lo+1, MaxPorts)
		}
	}
	out := make([]Port, 0, hi-lo+1)
	for n := lo; n <= hi; n++ {
		out = append(out, Port{Protocol: protocol, Number: n})
	}
	return out, nil
}

func parsePortNumber(entry, s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("--ports %q: %q is not a port number (1-65535); write entries like 80, 443/UDP or 8000-8005/TCP", entry, s)
	}
	return n, nil
}
