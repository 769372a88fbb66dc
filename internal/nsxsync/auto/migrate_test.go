package auto_test

import (
	"context"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/microseg/microseg/internal/compile"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/manifest"
	"github.com/microseg/microseg/internal/ncpemu"
	"github.com/microseg/microseg/internal/ncpemu/layout"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxsim/dataplane"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/nsxsync/auto"
	"github.com/microseg/microseg/internal/nsxsync/manager"
	"github.com/microseg/microseg/internal/nsxsync/policy"
	"github.com/microseg/microseg/internal/pipeline"
	"github.com/microseg/microseg/internal/simnsx"
	"github.com/microseg/microseg/internal/testenv"
	"github.com/microseg/microseg/nsxclient"
)

const cluster = "migrating"

// world is the reference scenario (config/samples) on an NSX whose NCP runs in Policy mode: the
// pods are segment ports, which NSX also shows as Manager logical ports, so microseg's Manager
// sections still apply to them — the state after NCP moved to the Policy API and before
// microseg does.
type world struct {
	t      *testing.T
	sim    *nsxsim.Server
	client *nsxclient.Client
	pods   []netip.Addr

	mu         sync.Mutex
	afterWrite func(*http.Request)
}

func newWorld(t *testing.T, w pipeline.World) *world {
	t.Helper()
	x := &world{t: t}
	nsx := simnsx.StartT(t, simnsx.Options{Sim: nsxsim.Options{Seed: 5},
		ClientTransport: func(base http.RoundTripper) http.RoundTripper { return hook{base, x} }})
	x.sim, x.client = nsx.Sim, nsx.Client
	cfg := ncpemu.Config{ClusterName: cluster, API: ncpemu.APIPolicy}
	seg := layout.Segment(cfg)
	for i := range w.Pods {
		p := &w.Pods[i]
		p.UID = types.UID(p.Namespace + "-" + p.Name)
		var addrs []netip.Addr
		for _, ip := range p.Status.PodIPs {
			addrs = append(addrs, netip.MustParseAddr(ip.IP))
		}
		x.pods = append(x.pods, addrs[0])
		seg.Children = append(seg.Children, nsxclient.ChildSegmentPort(layout.SegmentPortForPod(cfg, p, addrs)))
	}
	if err := x.client.Policy().PatchInfra(context.Background(), nsxclient.NewInfra(nsxclient.ChildSegment(seg)), nsxclient.PatchInfraOptions{}); err != nil {
		t.Fatal(err)
	}
	return x
}

type hook struct {
	base http.RoundTripper
	w    *world
}

func (h hook) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := h.base.RoundTrip(r)
	if err == nil && resp.StatusCode < 300 && r.Method != http.MethodGet && r.URL.Query().Get("action") != "list_with_rules" {
		h.w.mu.Lock()
		f := h.w.afterWrite
		h.w.mu.Unlock()
		if f != nil {
			f(r)
		}
	}
	return resp, err
}

type flow struct {
	src, dst netip.Addr
	port     int
}

func (x *world) flows() []flow {
	var out []flow
	for _, s := range x.pods {
		for _, d := range x.pods {
			if s != d {
				for _, port := range []int{8080, 443} {
					out = append(out, flow{s, d, port})
				}
			}
		}
	}
	return out
}

func (x *world) verdicts() map[flow]bool {
	out := map[flow]bool{}
	for _, f := range x.flows() {
		res, err := x.sim.Traceflow(context.Background(), dataplane.Flow{SrcIP: f.src.String(), DstIP: f.dst.String(), Protocol: "TCP", DstPort: f.port})
		if err != nil {
			x.t.Fatal(err)
		}
		out[f] = res.Allowed
	}
	return out
}

func samplesWorld(t *testing.T) pipeline.World {
	t.Helper()
	root, err := testenv.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.ReadPaths(filepath.Join(root, "config", "samples"))
	if err != nil {
		t.Fatal(err)
	}
	w, _, err := pipeline.FromObjects(objs)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func compileWorld(t *testing.T, w pipeline.World) *ir.Model {
	t.Helper()
	m, err := compile.Compile(compile.Input{ClusterID: cluster, ClusterSecurityPolicies: w.ClusterSecurityPolicies,
		NetworkPolicies: w.NetworkPolicies, Namespaces: w.Namespaces, Pods: w.Pods})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func backends(client *nsxclient.Client, maxObjects int) auto.Config {
	return auto.Config{Mode: auto.ModePolicy, ClusterID: cluster,
		Policy: func() (nsxsync.Backend, error) {
			return policy.New(client, policy.Config{ClusterID: cluster, MaxObjectsPerCall: maxObjects, RealizationPoll: time.Millisecond})
		},
		Manager:        func() (nsxsync.Backend, error) { return manager.Over(client, manager.Config{ClusterID: cluster}) },
		ManagerCleanup: func() (nsxsync.Backend, error) { return manager.Over(client, manager.Config{ClusterID: cluster}) },
	}
}

// TestMigrationNeverExposesAFlow moves the reference scenario from microseg's Manager sections
// to Policy security policies, checking with Traceflow after every single NSX write that no flow
// both the Manager configuration before and the Policy configuration after deny is allowed; with
// the whole Policy change in one call and in many, and with the model changing during the move
// (a NetworkPolicy removed).
func TestMigrationNeverExposesAFlow(t *testing.T) {
	for _, tc := range []struct {
		name        string
		maxObjects  int
		changeModel bool
	}{{"one call", 0, false}, {"many calls", 7, false}, {"many calls, model changed", 7, true}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			w := samplesWorld(t)
			x := newWorld(t, w)
			oldM := compileWorld(t, w)
			mb, err := manager.Over(x.client, manager.Config{ClusterID: cluster})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := nsxsync.Sync(ctx, mb, oldM, nsxsync.Options{}); err != nil {
				t.Fatal(err)
			}
			newM := oldM
			if tc.changeModel {
				w.NetworkPolicies = w.NetworkPolicies[1:]
				newM = compileWorld(t, w)
			}
			before := x.verdicts()
			after := verdictsOnPolicyAlone(t, w, newM)
			b, err := auto.New(x.client, backends(x.client, tc.maxObjects))
			if err != nil {
				t.Fatal(err)
			}
			writes, policyWrites, managerWrites := 0, 0, 0
			x.afterWrite = func(r *http.Request) {
				if strings.Contains(r.URL.Path, "/segments/") {
					return
				}
				writes++
				if strings.HasPrefix(r.URL.Path, "/policy/") {
					policyWrites++
					if managerWrites > 0 {
						t.Errorf("write %d to the Policy API after microseg's Manager objects started going", writes)
					}
				} else {
					managerWrites++
				}
				for f, allowed := range x.verdicts() {
					if allowed && !before[f] && !after[f] {
						t.Errorf("after write %d (%s %s) %v is allowed; before and after the migration it is denied", writes, r.Method, r.URL.Path, f)
					}
				}
			}
			var res nsxsync.Result
			for i := 0; i < 4 && (!res.Converged || res.Writes != 0); i++ {
				if res, err = nsxsync.Sync(ctx, b, newM, nsxsync.Options{}); err != nil {
					t.Fatal(err)
				}
			}
			x.afterWrite = nil
			if !res.Converged || res.Writes != 0 {
				t.Fatalf("the migration did not settle: %+v", res.Summary)
			}
			if policyWrites == 0 || managerWrites == 0 {
				t.Fatalf("%d Policy writes, %d Manager writes; want both (program the Policy API, then delete the Manager objects)", policyWrites, managerWrites)
			}
			left, err := mb.Read(ctx, nsxsync.ReadFull)
			if err != nil {
				t.Fatal(err)
			}
			if n := left.Owned().Counts(); n["section"]+n["nsgroup"]+n["ipset"] != 0 {
				t.Fatalf("microseg's Manager objects left after the migration: %v", n)
			}
			for f, allowed := range x.verdicts() {
				if allowed != after[f] {
					t.Errorf("after the migration %v allowed=%v; the Policy configuration alone gives %v", f, allowed, after[f])
				}
			}
			t.Logf("%d writes: %d to the Policy API, then %d to the Manager API", writes, policyWrites, managerWrites)
		})
	}
}

// verdictsOnPolicyAlone realizes m with the Policy backend alone on a fresh simulator.
func verdictsOnPolicyAlone(t *testing.T, w pipeline.World, m *ir.Model) map[flow]bool {
	t.Helper()
	x := newWorld(t, w)
	b, err := policy.New(x.client, policy.Config{ClusterID: cluster})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nsxsync.Sync(context.Background(), b, m, nsxsync.Options{}); err != nil {
		t.Fatal(err)
	}
	return x.verdicts()
}
