package pipeline

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/ncpemu"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/nsxsync/manager"
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
}

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
	if err := r.createPorts(ctx, w, opts.ClusterID); err != nil {
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
	backend, err := manager.Over(client, manager.Config{ClusterID: opts.ClusterID, Limits: opts.Settings.Limits})
	if err != nil {
		return nil, err
	}
	if r.Sync, err = nsxsync.Sync(ctx, backend, model, nsxsync.Options{}); err != nil {
		return nil, fmt.Errorf("applying the compiled model to the simulator: %w", err)
	}
	r.index()
	return r, nil
}

func (r *Realized) createPorts(ctx context.Context, w World, clusterID string) error {
	for _, p := range sortedPods(w.Pods) {
		body, ok, err := portBody(p, clusterID)
		if err != nil || !ok {
			return err
		}
		if err := r.createPort(ctx, PodRef{p.Namespace, p.Name}, body); err != nil {
			return err
		}
	}
	return nil
}

// portBody is the logical port NCP gives a pod; ok is false for a pod without one (host network,
// no address).
func portBody(p *corev1.Pod, clusterID string) (nsxclient.LogicalPort, bool, error) {
	if p.Spec.HostNetwork {
		return nsxclient.LogicalPort{}, false, nil // shares the node's address; NCP gives it no port
	}
	addrs, err := podAddrs(p)
	if err != nil || len(addrs) == 0 {
		return nsxclient.LogicalPort{}, false, err
	}
	if p.UID == "" {
		// Hand-written manifests carry no UID; NCP attaches a port by the pod's UID, so use the
		// one-per-pod stand-in the API server's uniqueness gives (namespace/name).
		withUID := *p
		withUID.UID = types.UID(p.Namespace + "/" + p.Name)
		p = &withUID
	}
	return ncpemu.PortForPod(ncpemu.Config{ClusterName: clusterID}, p, addrs), true, nil
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
