package pipeline

import (
	"context"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/ncpemu/layout"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/nsxsync/manager"
	"github.com/microseg/microseg/internal/nsxsync/policy"
	"github.com/microseg/microseg/internal/simnsx"
	"github.com/microseg/microseg/nsxclient"
)

// DefaultClusterID is the cluster id used when Options leaves it empty.
const DefaultClusterID = "microseg"

// Options configure a run.
type Options struct {
	// ClusterID is the NCP cluster name (ncp/cluster tag) and microseg's ownership tag.
	ClusterID string
	// Settings tune the compiler (NSX limits); zero means a real NSX Manager's.
	Settings compile.Settings
	// API is the NSX API the world is realized with: APIManager (default) or APIPolicy. In Policy
	// mode the pods are segment ports, as NCP in Policy mode makes them, and the sync runs the
	// Policy backend.
	API string
	// PolicyMaxObjectsPerCall bounds the Policy backend's calls (zero: NSX's 5000); a small value
	// makes a world's first sync a guarded change of many calls.
	PolicyMaxObjectsPerCall int
}

// The NSX APIs a run can use.
const (
	APIManager = manager.API
	APIPolicy  = policy.API
)

// Realized is a world realized in a simulator: the compiled model, and the DFW the sync wrote.
type Realized struct {
	Model *ir.Model
	// Sync is what the sync did (nsxsync.Sync, as in the operator).
	Sync nsxsync.Result

	sim    *nsxsim.Server
	client *nsxclient.Client
	ports  map[PodRef]podPort
	rules  map[string]ruleInfo // NSX rule id → where it came from
}

type podPort struct {
	id          string
	addrs       []string
	fingerprint string
}

// Run compiles the world and applies it to a fresh in-process NSX simulator holding one NCP-style
// logical port per pod with an address (pods without one are not in the dataplane).
func Run(ctx context.Context, w World, opts Options) (*Realized, error) {
	if opts.ClusterID == "" {
		opts.ClusterID = DefaultClusterID
	}
	nsx, err := simnsx.Start(simnsx.Options{Sim: nsxsim.Options{Seed: 1}})
	if err != nil {
		return nil, err
	}
	sim, client := nsx.Sim, nsx.Client
	r := &Realized{sim: sim, client: client, ports: map[PodRef]podPort{}}
	switch opts.API {
	case "", APIManager:
		opts.API = APIManager
	case APIPolicy:
	default:
		return nil, fmt.Errorf("pipeline: unknown NSX API %q: use %q or %q", opts.API, APIManager, APIPolicy)
	}
	if err := r.createPorts(ctx, w, opts); err != nil {
		return nil, err
	}
	model, err := compile.Compile(compile.Input{
		ClusterID:               opts.ClusterID,
		ClusterSecurityPolicies: w.ClusterSecurityPolicies,
		NetworkPolicies:         w.NetworkPolicies,
		Namespaces:              w.Namespaces,
		Pods:                    w.Pods,
		Settings:                opts.Settings,
	})
	if err != nil {
		return nil, err
	}
	r.Model = model
	backend, err := newBackend(client, opts)
	if err != nil {
		return nil, err
	}
	if r.Sync, err = nsxsync.Sync(ctx, backend, model, nsxsync.Options{}); err != nil {
		return nil, fmt.Errorf("applying the compiled model to the simulator: %w", err)
	}
	r.index()
	return r, nil
}

// newBackend is the sync path's backend for opts.API.
func newBackend(client *nsxclient.Client, opts Options) (nsxsync.Backend, error) {
	if opts.API == APIPolicy {
		return policy.New(client, policy.Config{ClusterID: opts.ClusterID, MaxObjectsPerCall: opts.PolicyMaxObjectsPerCall})
	}
	return manager.Over(client, manager.Config{ClusterID: opts.ClusterID, Limits: opts.Settings.Limits})
}

// createPorts gives every pod with an address its NCP port: a logical port (Manager mode) or a
// segment port (Policy mode, written with hierarchical PATCHes of at most 5000 ports).
func (r *Realized) createPorts(ctx context.Context, w World, opts Options) error {
	if opts.API == APIPolicy {
		return r.createSegmentPorts(ctx, w, opts)
	}
	for _, p := range sortedPods(w.Pods) {
		body, ok, err := portBody(p, opts.ClusterID)
		if err != nil {
			return err
		}
		if !ok {
			continue // no port: host network, or no address yet
		}
		if err := r.createPort(ctx, PodRef{p.Namespace, p.Name}, body); err != nil {
			return err
		}
	}
	return nil
}

func (r *Realized) createSegmentPorts(ctx context.Context, w World, opts Options) error {
	cfg := layout.Config{ClusterName: opts.ClusterID, API: opts.API}
	var segmentPorts []nsxclient.ChildNode
	for _, p := range sortedPods(w.Pods) {
		p, addrs, ok, err := portPod(p)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		sp := layout.SegmentPortForPod(cfg, p, addrs)
		segmentPorts = append(segmentPorts, nsxclient.ChildSegmentPort(sp))
		pp := podPort{id: nsxclient.SegmentPortPath(layout.Segment(cfg).ID, sp.ID)} // Traceflow takes a segment port's path
		for _, a := range addrs {
			pp.addrs = append(pp.addrs, a.String())
		}
		r.ports[PodRef{p.Namespace, p.Name}] = pp
	}
	seg := layout.Segment(cfg)
	for i := 0; i == 0 || i < len(segmentPorts); i += nsxclient.MaxHierarchicalObjects - 1 {
		s := seg
		s.Children = segmentPorts[i:min(len(segmentPorts), i+nsxclient.MaxHierarchicalObjects-1)]
		if err := r.client.Policy().PatchInfra(ctx, nsxclient.NewInfra(nsxclient.ChildSegment(s)), nsxclient.PatchInfraOptions{}); err != nil {
			return fmt.Errorf("creating the segment ports of the pods: %w", err)
		}
	}
	return nil
}

// portBody is the logical port NCP gives a pod; ok is false for a pod without one (host network,
// no address).
func portBody(p *corev1.Pod, clusterID string) (nsxclient.LogicalPort, bool, error) {
	p, addrs, ok, err := portPod(p)
	if err != nil || !ok {
		return nsxclient.LogicalPort{}, false, err
	}
	return layout.PortForPod(layout.Config{ClusterName: clusterID}, p, addrs), true, nil
}

// portPod is the pod as NCP sees it and its addresses; ok is false for a pod without a port (host
// network, no address).
func portPod(p *corev1.Pod) (*corev1.Pod, []netip.Addr, bool, error) {
	if p.Spec.HostNetwork {
		return nil, nil, false, nil // shares the node's address; NCP gives it no port
	}
	addrs, err := podAddrs(p)
	if err != nil || len(addrs) == 0 {
		return nil, nil, false, err
	}
	if p.UID == "" {
		// Hand-written manifests carry no UID; NCP attaches a port by the pod's UID, so use the
		// one-per-pod stand-in the API server's uniqueness gives (namespace/name).
		withUID := *p
		withUID.UID = types.UID(p.Namespace + "/" + p.Name)
		p = &withUID
	}
	return p, addrs, true, nil
}

func (r *Realized) createPort(ctx context.Context, ref PodRef, body nsxclient.LogicalPort) error {
	port, err := r.client.CreateLogicalPort(ctx, body)
	if err != nil {
		return fmt.Errorf("creating the logical port of pod %s: %w", ref, err)
	}
	pp := podPort{id: port.ID, fingerprint: portFingerprint(body)}
	for _, a := range body.AddressBindings {
		pp.addrs = append(pp.addrs, a.IPAddress)
	}
	r.ports[ref] = pp
	return nil
}

// portFingerprint is what NCP keeps up to date on a pod's port: its tags and addresses.
func portFingerprint(p nsxclient.LogicalPort) string {
	return fmt.Sprint(p.Tags, p.AddressBindings)
}

// NSXClient is a client of the simulator the world is realized in (reads and Traceflow, for the
// CLI's tests).
func (r *Realized) NSXClient() *nsxclient.Client { return r.client }
