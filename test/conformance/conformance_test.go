package conformance

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/pipeline"
	"github.com/microseg/microseg/test/conformance/oracle"
)

var (
	flagSeeds   = flag.Int("conformance.seeds", envInt("MICROSEG_CONFORMANCE_SEEDS", defaultSeeds), "number of seeded worlds (seeds first .. first+N-1); default from $MICROSEG_CONFORMANCE_SEEDS")
	flagFirst   = flag.Uint64("conformance.first", 1, "first seed")
	flagOnly    = flag.String("conformance.seed", "", "comma-separated seeds to run instead of the range (reproduce a failure)")
	flagPorts   = flag.Int("conformance.ports", 5, "(protocol, port) pairs tried per ordered pod pair besides the destination's container ports")
	flagDump    = flag.String("conformance.dump", "", "directory for reproducers of disagreements (default: a new directory under the system temp dir)")
	flagShrink  = flag.Duration("conformance.shrink", 90*time.Second, "time spent shrinking the first disagreement of a world (0: none)")
	flagWorkers = flag.Int("conformance.workers", 0, "worlds evaluated in parallel (0: GOMAXPROCS)")
	flagMutate  = flag.String("conformance.mutation", "", "plant a known error (see TestHarnessDetectsMutations) to see what a disagreement report looks like")
	flagAPI     = flag.String("conformance.api", os.Getenv("MICROSEG_CONFORMANCE_API"), "NSX API microseg realizes the worlds with: manager, policy, or empty for both (the same seeds each); default from $MICROSEG_CONFORMANCE_API")
)

// defaultSeeds worlds make ≈70,000 flows in a few seconds on two cores.
const defaultSeeds = 24

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestDifferential compares microseg's pipeline with the oracle on seeded random worlds, with
// each NSX API on the same seeds.
func TestDifferential(t *testing.T) {
	apis := []string{pipeline.APIManager, pipeline.APIPolicy}
	if *flagAPI != "" {
		apis = []string{*flagAPI}
	}
	for _, api := range apis {
		t.Run(api, func(t *testing.T) { testDifferential(t, api) })
	}
}

func testDifferential(t *testing.T, api string) {
	seeds := seedList(t)
	if *flagMutate != "" {
		mutation = *flagMutate
		defer func() { mutation = "" }()
	}
	fullRun := *flagOnly == "" && *flagSeeds >= 12 && *flagPorts >= 5 && *flagMutate == ""
	workers := *flagWorkers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	start := time.Now()
	results := make([]*WorldResult, len(seeds))
	errs := make([]error, len(seeds))
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		o, err := oracle.New()
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for i := range next {
				results[i], errs[i] = RunWorld(context.Background(), o, Generate(seeds[i]), RunOptions{PortsPerPair: *flagPorts, API: api})
			}
		})
	}
	for i := range seeds {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("seed %d: %v", seeds[i], err)
		}
	}

	var s summary
	s.init()
	for _, r := range results {
		s.add(r)
	}
	s.took = time.Since(start)
	t.Logf("NSX %s API\n%s", api, s.String())

	// The run must have tried: enough flows, both verdicts in bulk, every construct generated, and
	// every tier deciding both ways in microseg.
	if minFlows := 150 * len(seeds); s.flows < minFlows {
		t.Errorf("only %d flows compared, want at least %d", s.flows, minFlows)
	}
	for _, d := range []direction{egress, ingress} {
		if s.oracleAllowed[d] < s.flows/10 || s.flows-s.oracleAllowed[d] < s.flows/10 {
			t.Errorf("%s: the oracle allowed %d of %d flows; want at least 10%% allowed and 10%% denied", d, s.oracleAllowed[d], s.flows)
		}
	}
	if s.allowed < s.flows/10 || s.flows-s.allowed < s.flows/10 {
		t.Errorf("the oracle allowed %d of %d flows; want at least 10%% of each verdict", s.allowed, s.flows)
	}
	for _, r := range results {
		for _, obj := range r.Model.Objects {
			if !obj.Accepted {
				t.Errorf("seed %d: microseg did not accept %s: %s", r.World.Seed, obj.Object, obj.Error)
			}
		}
	}
	if fullRun {
		for _, c := range RequiredConstructs {
			if s.coverage[c] == 0 {
				t.Errorf("the generator never produced %s", c)
			}
		}
		for _, k := range []string{
			"egress/Security/ALLOW", "egress/Security/DROP", "egress/Security/REJECT",
			"ingress/Security/ALLOW", "ingress/Security/DROP", "ingress/Security/REJECT",
			"egress/Developer/ALLOW", "egress/Developer/DROP", "ingress/Developer/ALLOW", "ingress/Developer/DROP",
			"egress/Baseline/ALLOW", "egress/Baseline/DROP", "egress/Baseline/REJECT",
			"ingress/Baseline/ALLOW", "ingress/Baseline/DROP", "ingress/Baseline/REJECT",
			"egress/-/ALLOW", "ingress/-/ALLOW",
		} {
			if s.decided[k] < 10 {
				t.Errorf("microseg's %s decided only %d flows; the worlds do not exercise it", k, s.decided[k])
			}
		}
	}
	if s.disagree > 0 {
		dir := *flagDump
		if dir == "" {
			var err error
			if dir, err = os.MkdirTemp("", "microseg-conformance-"); err != nil {
				t.Fatal(err)
			}
		}
		for _, r := range results {
			reportWorld(t, r, dir)
		}
		t.Errorf("%d flows disagree with the oracle (reproducers in %s)", s.disagree, dir)
	}
}

func seedList(t *testing.T) []uint64 {
	if *flagOnly != "" {
		var out []uint64
		for _, f := range strings.Split(*flagOnly, ",") {
			n, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
			if err != nil {
				t.Fatalf("-conformance.seed: %v", err)
			}
			out = append(out, n)
		}
		return out
	}
	var out []uint64
	for i := range *flagSeeds {
		out = append(out, *flagFirst+uint64(i))
	}
	return out
}

type summary struct {
	worlds, flows, allowed, disagree, toleratedFlows int
	comparisons, agreeDir, toleratedDir, disagreeDir int
	oracleAllowed                                    [2]int
	tolerated                                        map[string]int
	decided                                          map[string]int
	coverage                                         Coverage
	dual, tight, relaxed                             int
	objects, external, excluded                      int
	slowest                                          time.Duration
	took                                             time.Duration
}

func (s *summary) init() {
	s.tolerated, s.decided, s.coverage = map[string]int{}, map[string]int{}, Coverage{}
}

func (s *summary) add(r *WorldResult) {
	s.worlds++
	s.coverage.Merge(r.World.Coverage)
	if r.World.DualStack {
		s.dual++
	}
	if r.World.Tight {
		s.tight++
	}
	s.objects += len(r.Norm.NetworkPolicies) + len(r.Norm.ClusterSecurityPolicies)
	s.slowest = max(s.slowest, r.Took)
	s.excluded += r.Excluded
	if r.Relaxed > 0 {
		s.relaxed++
	}
	for i := range r.Outcomes {
		oc := &r.Outcomes[i]
		s.flows++
		if oc.Flow.SrcExt.IsValid() || oc.Flow.DstExt.IsValid() {
			s.external++
		}
		if oc.Oracle[egress] && oc.Oracle[ingress] {
			s.allowed++
		}
		switch oc.Worst() {
		case Disagree:
			s.disagree++
		case Tolerated:
			s.toleratedFlows++
		}
		for _, d := range []direction{egress, ingress} {
			s.comparisons++
			if oc.Oracle[d] {
				s.oracleAllowed[d]++
			}
			switch oc.Status[d] {
			case Agree:
				s.agreeDir++
			case Tolerated:
				s.toleratedDir++
				s.tolerated[strings.SplitN(oc.Reason[d], " ", 2)[0]]++
			case Disagree:
				s.disagreeDir++
			}
			side := oc.Microseg.Egress
			if d == ingress {
				side = oc.Microseg.Ingress
			}
			tier := side.Tier
			if tier == "" {
				tier = "-"
			}
			s.decided[fmt.Sprintf("%s/%s/%s", d, tier, side.Action)]++
		}
	}
}

func (s *summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "differential conformance against %s %s\n", oracle.Module, oracle.Version)
	fmt.Fprintf(&b, "  worlds: %d (%d dual stack, %d with tight NSX limits, %d of which too large for them and run with real limits), %d policies\n",
		s.worlds, s.dual, s.tight, s.relaxed, s.objects)
	fmt.Fprintf(&b, "  flows: %d, %d of them to or from outside the cluster (oracle allows %d, denies %d); %d not comparable, left out\n",
		s.flows, s.external, s.allowed, s.flows-s.allowed, s.excluded)
	fmt.Fprintf(&b, "  per direction: %d comparisons: %d agree, %d tolerated, %d disagree (egress allowed %d, ingress allowed %d)\n",
		s.comparisons, s.agreeDir, s.toleratedDir, s.disagreeDir, s.oracleAllowed[egress], s.oracleAllowed[ingress])
	fmt.Fprintf(&b, "  flows: %d agree, %d tolerated, %d disagree\n", s.flows-s.toleratedFlows-s.disagree, s.toleratedFlows, s.disagree)
	for _, k := range slices.Sorted(maps.Keys(s.tolerated)) {
		fmt.Fprintf(&b, "    tolerated (%s): %d directions\n", k, s.tolerated[k])
	}
	b.WriteString("  microseg decisions (direction/tier/action: flows):")
	for i, k := range slices.Sorted(maps.Keys(s.decided)) {
		if i%4 == 0 {
			b.WriteString("\n   ")
		}
		fmt.Fprintf(&b, " %s: %d", k, s.decided[k])
	}
	fmt.Fprintf(&b, "\n  time: %s (slowest world %s)\n", s.took.Round(time.Millisecond), s.slowest.Round(time.Millisecond))
	return b.String()
}

// reportWorld writes a reproducer for every disagreement of a world, shrinks the first one, and
// logs them.
func reportWorld(t *testing.T, r *WorldResult, dir string) {
	var bad []*Outcome
	for i := range r.Outcomes {
		if r.Outcomes[i].Worst() == Disagree {
			bad = append(bad, &r.Outcomes[i])
		}
	}
	if len(bad) == 0 {
		return
	}
	base := filepath.Join(dir, fmt.Sprintf("seed-%d", r.World.Seed))
	if err := os.MkdirAll(base, 0o755); err != nil {
		t.Fatal(err)
	}
	writeJSON(t, filepath.Join(base, "world.json"), r.Norm)
	writeJSON(t, filepath.Join(base, "warnings.json"), r.Model.Warnings)
	var lines []string
	for _, oc := range bad {
		lines = append(lines, describeOutcome(oc))
	}
	writeFile(t, filepath.Join(base, "disagreements.txt"), strings.Join(lines, "\n")+"\n")
	t.Errorf("%s: %d flows disagree; reproduce with: go test -run TestDifferential -conformance.seed=%d -v (files in %s)",
		r.World.describe(), len(bad), r.World.Seed, base)
	for i, l := range lines {
		if i == 10 {
			t.Logf("  ... %d more in %s", len(lines)-10, filepath.Join(base, "disagreements.txt"))
			break
		}
		t.Log("  " + l)
	}
	if *flagShrink <= 0 {
		return
	}
	o, err := oracle.New()
	if err != nil {
		t.Fatal(err)
	}
	first := bad[0]
	d := egress
	if first.Status[egress] != Disagree {
		d = ingress
	}
	small, oc := Shrink(context.Background(), o, r.Norm, pipeline.Options{Settings: r.World.Settings, API: r.API}, first.Flow, d, *flagShrink)
	writeJSON(t, filepath.Join(base, "shrunk-world.json"), small)
	writeFile(t, filepath.Join(base, "shrunk-flow.txt"), describeOutcome(&oc)+"\n")
	t.Logf("  shrunk reproducer of %s (%s): %d namespaces, %d pods, %d NetworkPolicies, %d ClusterSecurityPolicies in %s",
		first.Flow, d, len(small.Namespaces), len(small.Pods), len(small.NetworkPolicies), len(small.ClusterSecurityPolicies),
		filepath.Join(base, "shrunk-world.json"))
}

func describeOutcome(oc *Outcome) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:", oc.Flow)
	for _, d := range []direction{egress, ingress} {
		side := oc.Microseg.Egress
		if d == ingress {
			side = oc.Microseg.Ingress
		}
		fmt.Fprintf(&b, " [%s %s: oracle allow=%v, microseg %s by %s %s rule %q (NSX section %q rule %q)",
			d, oc.Status[d], oc.Oracle[d], side.Action, orDash(side.Tier), orDash(side.Object), side.Rule, side.Section, side.NSXRule)
		if oc.Reason[d] != "" {
			fmt.Fprintf(&b, "; %s", oc.Reason[d])
		}
		b.WriteString("]")
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func writeJSON(t *testing.T, path string, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(b)+"\n")
}

func writeFile(t *testing.T, path, s string) {
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
