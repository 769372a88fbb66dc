package pipeline

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/types"

	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/ncpemu"
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
	id    string
	addrs []string
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
	cfg := ncpemu.Config{ClusterName: opts.ClusterID, API: opts.API}
	var segmentPorts []nsxclient.ChildNode
	for _, p := range sortedPods(w.Pods) {
		if p.Spec.HostNetwork {
			continue // shares the node's address; NCP gives it no port
		}
		addrs, err := podAddrs(p)
		if err != nil {
			return err
		}
		if len(addrs) == 0 {
			continue
		}
		if p.UID == "" {
			// Hand-written manifests carry no UID; NCP attaches a port by the pod's UID, so use the
			// one-per-pod stand-in the API server's uniqueness gives (namespace/name).
			withUID := *p
			withUID.UID = types.UID(p.Namespace + "/" + p.Name)
			p = &withUID
		}
		var pp podPort
		if opts.API == APIPolicy {
			sp := ncpemu.SegmentPortForPod(cfg, p, addrs)
			segmentPorts = append(segmentPorts, nsxclient.ChildSegmentPort(sp))
			pp.id = nsxclient.SegmentPortPath(ncpemu.Segment(cfg).ID, sp.ID) // Traceflow takes a segment port's path
		} else {
			port, err := r.client.CreateLogicalPort(ctx, ncpemu.PortForPod(cfg, p, addrs))
			if err != nil {
				return fmt.Errorf("creating the logical port of pod %s/%s: %w", p.Namespace, p.Name, err)
			}
			pp.id = port.ID
		}
		for _, a := range addrs {
			pp.addrs = append(pp.addrs, a.String())
		}
		r.ports[PodRef{p.Namespace, p.Name}] = pp
	}
	if opts.API != APIPolicy {
		return nil
	}
	seg := ncpemu.Segment(cfg)
	for i := 0; i == 0 || i < len(segmentPorts); i += nsxclient.MaxHierarchicalObjects - 1 {
		s := seg
		s.Children = segmentPorts[i:min(len(segmentPorts), i+nsxclient.MaxHierarchicalObjects-1)]
		if err := r.client.Policy().PatchInfra(ctx, nsxclient.NewInfra(nsxclient.ChildSegment(s)), nsxclient.PatchInfraOptions{}); err != nil {
			return fmt.Errorf("creating the segment ports of the pods: %w", err)
		}
	}
	return nil
}
