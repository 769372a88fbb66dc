package simulate

import (
	"cmp"
	"context"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/microseg/microseg/internal/pipeline"
)

// planProbes lists every probe of a run, in (port, source, destination) order, with the address
// family each pair is probed in. It returns how many pod pairs share no family and are skipped.
func planProbes(res *Result, addrs map[pipeline.PodRef][]string, family int) (probes []Probe, skipped int) {
	type pair struct {
		src, dst     pipeline.PodRef
		srcIP, dstIP string
	}
	var pairs []pair
	for _, src := range res.Sources {
		for _, dst := range res.Destinations {
			if src == dst {
				continue
			}
			p := pair{src: src, dst: dst}
			p.srcIP, p.dstIP = pickAddrs(addrs[src], addrs[dst], family)
			if p.srcIP == "" {
				skipped++
				continue
			}
			pairs = append(pairs, p)
		}
	}
	probes = make([]Probe, 0, len(pairs)*len(res.Ports))
	for _, port := range res.Ports {
		for _, p := range pairs {
			probes = append(probes, Probe{Source: p.src, Destination: p.dst, SourceIP: p.srcIP, DestinationIP: p.dstIP, Port: port})
		}
	}
	return probes, skipped
}

// pickAddrs chooses the addresses a pair is probed with: the requested family, or IPv4 when both
// pods have it and IPv6 otherwise (what pipeline.Probe does with family 0).
func pickAddrs(src, dst []string, family int) (string, string) {
	for _, f := range []int{4, 6} {
		if family != 0 && family != f {
			continue
		}
		if a, b := firstAddrOf(src, f), firstAddrOf(dst, f); a != "" && b != "" {
			return a, b
		}
	}
	return "", ""
}

func familyOf(ip string) int {
	if firstAddrOf([]string{ip}, 4) != "" {
		return 4
	}
	return 6
}

// runProbes traces every planned probe and fills in its verdict. A Realized is immutable once
// built and its simulator compiles the dataplane once, so probes run in parallel; each worker
// takes a contiguous block, and results land at their own index, so the order stays the plan's.
func runProbes(ctx context.Context, r *pipeline.Realized, probes []Probe) ([]Probe, error) {
	workers := min(runtime.GOMAXPROCS(0), max(1, len(probes)/256))
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		lo, hi := w*len(probes)/workers, (w+1)*len(probes)/workers
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				p := &probes[i]
				v, err := r.Probe(ctx, p.Source, p.Destination, p.Port.Protocol, p.Port.Number, familyOf(p.SourceIP))
				if err != nil {
					errs[w] = err
					return
				}
				p.Verdict = v
			}
		})
	}
	wg.Wait()
	if i := slices.IndexFunc(errs, func(e error) bool { return e != nil }); i >= 0 {
		return nil, errs[i]
	}
	return probes, nil
}

func sortedRefs(set map[pipeline.PodRef]bool) []pipeline.PodRef {
	out := make([]pipeline.PodRef, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b pipeline.PodRef) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	return out
}
