package simulate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"

	corev1 "k8s.io/api/core/v1"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/manifest"
	"github.com/microseg/microseg/internal/pipeline"
)

// Result is what a simulation found.
type Result struct {
	// Ports probed, sorted; PortsDefaulted says they came from DefaultPorts (no --ports).
	Ports          []Port
	PortsDefaulted bool
	// Sources and Destinations are the pods probed, in (namespace, name) order.
	Sources, Destinations []pipeline.PodRef
	// Probes in (port, source, destination) order. A pod is never probed against itself
	// (traffic to itself does not cross its logical port), nor against a pod it shares no
	// address family with.
	Probes []Probe
	// Warnings are the compiler's: what NSX cannot express exactly, and invalid objects.
	Warnings []ir.Warning
	// Notes say what was left out of the simulation and why.
	Notes []string
	// Usage is what the compiled DFW takes of NSX.
	Usage ir.Usage
	// Model is the compiled DFW and World what it was compiled from (the HTML report draws the
	// tiers from them).
	Model *ir.Model
	World pipeline.World
	// Groups, with Options.GroupBy, put the pods into groups (namespace and label value).
	Groups *Grouping
}

// Probe is one connection attempt and its verdict.
type Probe struct {
	Source, Destination     pipeline.PodRef
	SourceIP, DestinationIP string
	Port                    Port
	Verdict                 pipeline.Verdict
}

// Simulate reads the manifests, runs the real pipeline on them, and probes every ordered pair of
// the selected pods on every port.
func Simulate(ctx context.Context, opts Options) (*Result, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	for _, flag := range []struct {
		name   string
		values []string
	}{{"--from", opts.From}, {"--to", opts.To}} {
		if _, err := parsePodFilters(flag.name, flag.values); err != nil {
			return nil, err
		}
	}
	for _, p := range opts.Paths {
		if _, err := os.Stat(p); err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, inputErrorf("-f %s: %w", p, err)
		}
	}
	objs, err := manifest.ReadPaths(opts.Paths...)
	if err != nil {
		return nil, inputErrorf("reading manifests: %w", err)
	}
	world, notes, err := pipeline.FromObjects(objs)
	if err != nil {
		return nil, inputErrorf("building the cluster from the manifests: %w", err)
	}
	return SimulateWorld(ctx, world, notes, opts)
}

// SimulateWorld runs the pipeline on a world (from manifests, or read from a cluster) and probes
// it as Simulate does; notes are carried into the result. opts.Paths is not read.
func SimulateWorld(ctx context.Context, world pipeline.World, notes []string, opts Options) (*Result, error) {
	from, err := parsePodFilters("--from", opts.From)
	if err != nil {
		return nil, err
	}
	to, err := parsePodFilters("--to", opts.To)
	if err != nil {
		return nil, err
	}
	realized, err := pipeline.Run(ctx, world, pipeline.Options{ClusterID: opts.ClusterID, API: opts.API})
	if err != nil {
		return nil, fmt.Errorf("running the pipeline: %w", err)
	}
	res := &Result{Ports: opts.Ports, Warnings: realized.Model.Warnings, Notes: notes, Model: realized.Model, World: world,
		Usage: ir.UsageOf(realized.Model)}
	if opts.Budget {
		return res, nil // the budget report probes nothing
	}
	if len(res.Ports) == 0 {
		res.Ports, res.PortsDefaulted = DefaultPorts(world), true
	}
	pods := probeablePods(realized, world.Pods, opts.Family, &res.Notes)
	switch {
	case len(world.Pods) == 0:
		return nil, inputErrorf("nothing to probe: %s no pods; add Pods, Deployments, ReplicaSets or StatefulSets", opts.worldName())
	case len(pods) == 0:
		return nil, inputErrorf("nothing to probe: none of the %d pods can be probed (host network, finished, or no address of --family %d)", len(world.Pods), opts.Family)
	}
	podLabels := map[pipeline.PodRef]map[string]string{}
	for i := range world.Pods {
		p := &world.Pods[i]
		podLabels[pipeline.PodRef{Namespace: p.Namespace, Name: p.Name}] = p.Labels
	}
	if res.Sources, err = filterPods("--from", from, pods, podLabels); err != nil {
		return nil, err
	}
	if res.Destinations, err = filterPods("--to", to, pods, podLabels); err != nil {
		return nil, err
	}
	addrs := map[pipeline.PodRef][]string{}
	for _, p := range pods {
		addrs[p] = realized.Addresses(p)
	}
	planned, skipped := planProbes(res, addrs, opts.Family)
	if skipped > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d pod pairs not probed: the two pods share no address family", skipped))
	}
	if res.Probes, err = runProbes(ctx, realized, planned); err != nil {
		return nil, fmt.Errorf("probing: %w", err)
	}
	if opts.GroupBy != "" {
		res.Groups = groupPods(res, podLabels, opts.GroupBy)
	}
	return res, nil
}

func parsePodFilters(flagName string, texts []string) ([]podFilter, error) {
	out := make([]podFilter, 0, len(texts))
	for _, t := range texts {
		f, err := parsePodFilter(flagName, t)
		if err != nil {
			return nil, inputError{err}
		}
		out = append(out, f)
	}
	return out, nil
}

// probeablePods are the pods with a logical port that can take part in a connection: not
// finished (a Succeeded or Failed pod serves nothing, and the compiler leaves it out of every
// group), and with an address of the requested family. Each pod left out gets a note, so a
// missing row is never a mystery.
func probeablePods(r *pipeline.Realized, pods []corev1.Pod, family int, notes *[]string) []pipeline.PodRef {
	finished := map[pipeline.PodRef]bool{}
	inWorld := map[pipeline.PodRef]bool{}
	for i := range pods {
		p := &pods[i]
		ref := pipeline.PodRef{Namespace: p.Namespace, Name: p.Name}
		inWorld[ref] = true
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			finished[ref] = true
		}
	}
	var out []pipeline.PodRef
	withPort := map[pipeline.PodRef]bool{}
	for _, p := range r.Pods() {
		withPort[p] = true
		switch {
		case finished[p]:
			*notes = append(*notes, fmt.Sprintf("pod %s not probed: it has finished (phase Succeeded or Failed)", p))
		case family != 0 && firstAddrOf(r.Addresses(p), family) == "":
			*notes = append(*notes, fmt.Sprintf("pod %s not probed: it has no IPv%d address", p, family))
		default:
			out = append(out, p)
		}
	}
	for _, p := range sortedRefs(inWorld) {
		if !withPort[p] {
			*notes = append(*notes, fmt.Sprintf("pod %s not probed: it has no logical port (host network)", p))
		}
	}
	return out
}

// firstAddrOf is the address a probe of that family uses: the pod's first one of the family, as
// pipeline.Probe picks it.
func firstAddrOf(addrs []string, family int) string {
	for _, s := range addrs {
		if a, err := netip.ParseAddr(s); err == nil && a.Is4() == (family == 4) {
			return s
		}
	}
	return ""
}
