// Package diff is "kubectl-microseg diff": what a change of manifests (a pull request to a GitOps
// repository) does to the cluster's connections and to NSX. Both sides run through simulate's
// engine (compile → sync into the NSX simulator → Traceflow per probe); the connections present on
// both sides are compared; and the NSX change is measured on the real sync path: the base
// realized in a simulator, the head synced against it, every call counted and charged the
// simulator's cost model.
package diff

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/budget"
	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/evaluate"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/pipeline"
	"github.com/microseg/microseg/internal/ports"
	"github.com/microseg/microseg/internal/simulate"
)

// Report is what a diff found.
type Report struct {
	// Ports compared, and how many connections (pod pair and port) both sides probed.
	Ports    []ports.Port
	Compared int
	// Flips are the connections whose verdict changes, in (port, source, destination) order;
	// Groups aggregate them by namespace/app, port and deciding rules.
	Flips  []Flip
	Groups []FlipGroup
	// PodsAdded and PodsRemoved are on one side only (not compared).
	PodsAdded, PodsRemoved []string
	// NSX is what the operator would do to NSX.
	NSX NSXChange
	// Staged are the head's Staged policies with what enforcing each would change.
	Staged []StagedImpact
	// Budget is what the base and the head take of NSX against microseg's budget (the
	// --nsx-max-* flags, as the operator's).
	Budget BudgetDelta
	// Warnings and Notes of the head (what NSX cannot express exactly; what was left out).
	Warnings, Notes []string
	// head is the head's simulation, for the HTML picture.
	head *simulate.Result
}

// BudgetDelta is the NSX budget's before and after (see Report.Budget).
type BudgetDelta struct {
	Before, After ir.Usage
	Limits        budget.Budget
}

// Over lists the budget kinds the head exceeds: the operator would refuse to apply it.
func (d BudgetDelta) Over() []string { return d.Limits.Over(d.After) }

// Flip is one flipped probe: simulate's record of the head, plus the verdict before and after.
type Flip struct {
	simulate.Record
	Before Verdict `json:"before"`
	After  Verdict `json:"after"`
}

// Verdict is one side's verdict of a connection, with the deciding objects as simulate prints
// them.
type Verdict struct {
	Allowed bool                `json:"allowed"`
	Egress  simulate.SideRecord `json:"egress"`
	Ingress simulate.SideRecord `json:"ingress"`
}

// FlipGroup is the flips of one source group, destination group and port that the same rules
// decided.
type FlipGroup struct {
	Source, Destination string
	Port                ports.Port
	Pairs               int
	NowAllowed          bool
	// Before and After name the deciding rule ("ALLOW by ClusterSecurityPolicy/x ingress/y").
	Before, After string
}

// NSXChange is the operator's sync from the base to the head.
type NSXChange struct {
	// Ops counts the planned writes per operation (CreateSection, UpdateSectionRules, …).
	Ops map[string]int
	// Calls, Writes and RulesWritten are the simulator's counts of the sync; SimulatedTime
	// the NSX time its cost model charges.
	Calls, Writes, RulesWritten int64
	SimulatedTime               time.Duration
	Guarded, Converged          bool
}

// StagedImpact is a Staged policy of the head and what enforcing it would change.
type StagedImpact struct {
	Policy string
	evaluate.Impact
}

// Run computes the report.
func Run(ctx context.Context, opts Options) (*Report, error) {
	baseWorld, baseNotes, err := readWorld(opts.Base, opts.Recursive, nil)
	if err != nil {
		return nil, fmt.Errorf("--base: %w", err)
	}
	headWorld, headNotes, err := readWorld(opts.Head, opts.Recursive, &baseWorld)
	if err != nil {
		return nil, fmt.Errorf("--head: %w", err)
	}
	probe := opts.Probe
	probe.Output = simulate.OutputJSON
	if len(probe.Ports) == 0 {
		probe.Ports = ports.Sort(append(simulate.DefaultPorts(baseWorld), simulate.DefaultPorts(headWorld)...))
	}
	base, err := simulate.SimulateWorld(ctx, baseWorld, baseNotes, probe)
	if err != nil {
		return nil, fmt.Errorf("--base: %w", err)
	}
	head, err := simulate.SimulateWorld(ctx, headWorld, headNotes, probe)
	if err != nil {
		return nil, fmt.Errorf("--head: %w", err)
	}
	r := &Report{Ports: probe.Ports, head: head, Notes: head.Notes}
	for _, w := range head.Warnings {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s: %s: %s", w.Object, w.Code, w.Message))
	}
	r.compare(base, head, headWorld)
	r.Budget = BudgetDelta{Before: base.Usage, After: head.Usage, Limits: opts.Limits}
	if r.NSX, err = nsxChange(ctx, baseWorld, headWorld, probe.ClusterID); err != nil {
		return nil, err
	}
	if r.Staged, err = stagedImpacts(headWorld, head, probe.ClusterID); err != nil {
		return nil, err
	}
	return r, nil
}

type probeKey struct {
	src, dst string
	port     ports.Port
}

// compare joins the two runs' probes and keeps the flips.
func (r *Report) compare(base, head *simulate.Result, headWorld pipeline.World) {
	before := map[probeKey]simulate.Record{}
	for _, p := range base.Probes {
		before[probeKey{p.Source.String(), p.Destination.String(), p.Port}] = simulate.RecordOf(p)
	}
	labels := map[string]map[string]string{}
	for _, p := range headWorld.Pods {
		labels[p.Namespace+"/"+p.Name] = p.Labels
	}
	groups := map[FlipGroup]int{}
	for _, p := range head.Probes {
		b, ok := before[probeKey{p.Source.String(), p.Destination.String(), p.Port}]
		if !ok {
			continue
		}
		r.Compared++
		a := simulate.RecordOf(p)
		if a.Allowed == b.Allowed {
			continue
		}
		r.Flips = append(r.Flips, Flip{Record: a, Before: verdictOf(b), After: verdictOf(a)})
		g := FlipGroup{Source: simulate.GroupName(p.Source, labels[p.Source.String()], "app"),
			Destination: simulate.GroupName(p.Destination, labels[p.Destination.String()], "app"),
			Port:        p.Port, NowAllowed: a.Allowed, Before: decider(b), After: decider(a)}
		groups[g]++
	}
	for g, n := range groups {
		g.Pairs = n
		r.Groups = append(r.Groups, g)
	}
	slices.SortFunc(r.Groups, func(a, b FlipGroup) int {
		return cmp.Or(ports.Compare(a.Port, b.Port), strings.Compare(a.Source, b.Source), strings.Compare(a.Destination, b.Destination),
			strings.Compare(a.Before, b.Before), strings.Compare(a.After, b.After))
	})
	r.PodsAdded, r.PodsRemoved = podsOnlyIn(head, base), podsOnlyIn(base, head)
}

func verdictOf(r simulate.Record) Verdict {
	return Verdict{Allowed: r.Allowed, Egress: r.Egress, Ingress: r.Ingress}
}

// decider names the rule a verdict is attributed to (simulate's attribution).
func decider(r simulate.Record) string {
	s := simulate.DecidingSide(r)
	if s.Tier == simulate.TierDefault {
		return s.Action + " (no microseg rule)"
	}
	return fmt.Sprintf("%s by %s %s", s.Action, s.Object, s.Rule)
}

func podsOnlyIn(a, b *simulate.Result) []string {
	in := map[string]bool{}
	for _, p := range append(slices.Clone(b.Sources), b.Destinations...) {
		in[p.String()] = true
	}
	var out []string
	for _, p := range append(slices.Clone(a.Sources), a.Destinations...) {
		if !in[p.String()] && !slices.Contains(out, p.String()) {
			out = append(out, p.String())
		}
	}
	slices.Sort(out)
	return out
}

// nsxChange realizes the base in a simulator and syncs the head against it, through the sync path.
func nsxChange(ctx context.Context, base, head pipeline.World, clusterID string) (NSXChange, error) {
	r, err := pipeline.Run(ctx, base, pipeline.Options{ClusterID: clusterID})
	if err != nil {
		return NSXChange{}, fmt.Errorf("realizing the base: %w", err)
	}
	ch, err := r.Resync(ctx, head, pipeline.Options{ClusterID: clusterID})
	if err != nil {
		return NSXChange{}, fmt.Errorf("syncing the head: %w", err)
	}
	return NSXChange{Ops: ch.Sync.Summary.Ops, Calls: ch.Stats.Calls, Writes: ch.Stats.Writes, RulesWritten: ch.Stats.RulesWritten,
		SimulatedTime: ch.Stats.SimulatedTime, Guarded: ch.Sync.Summary.Guarded, Converged: ch.Sync.Converged}, nil
}

// stagedImpacts evaluates what enforcing each of the head's Staged policies would change.
func stagedImpacts(w pipeline.World, head *simulate.Result, clusterID string) ([]StagedImpact, error) {
	in := compile.Input{ClusterID: clusterID, ClusterSecurityPolicies: w.ClusterSecurityPolicies, NetworkPolicies: w.NetworkPolicies,
		Namespaces: w.Namespaces, Pods: w.Pods}
	var out []StagedImpact
	for _, p := range w.ClusterSecurityPolicies {
		if p.Spec.Enforcement != securityv1alpha1.EnforcementStaged {
			continue
		}
		imp, err := evaluate.StagedImpact(in, head.Model, p.Name, evaluate.DefaultMaxConnections)
		if err != nil {
			return nil, fmt.Errorf("the impact of Staged ClusterSecurityPolicy %s: %w", p.Name, err)
		}
		out = append(out, StagedImpact{Policy: "ClusterSecurityPolicy/" + p.Name, Impact: imp})
	}
	return out, nil
}
