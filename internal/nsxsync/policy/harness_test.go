package policy_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxsim/dataplane"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/nsxsync/policy"
	"github.com/microseg/microseg/internal/plan/plantest"
	"github.com/microseg/microseg/internal/simnsx"
	"github.com/microseg/microseg/nsxclient"
)

// env is one NSX simulator, a client, and pods as tagged segment ports. Every successful Policy
// write through the client can trigger a check (afterWrite), which the invariant tests use to
// inspect each intermediate DFW state.
type env struct {
	t      *testing.T
	nsx    *simnsx.NSX
	sim    *nsxsim.Server
	client *nsxclient.Client
	ctx    context.Context

	hook simnsx.AfterWrites
	pods []pod
}

type pod struct{ name, app, ip string }

func newEnv(t *testing.T, simOpts nsxsim.Options) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background()}
	if simOpts.Seed == 0 {
		simOpts.Seed = 3
	}
	nsx := simnsx.StartT(t, simnsx.Options{
		User:     "admin",
		Password: "Admin-secret-1",
		Sim:      simOpts,
		ClientTransport: func(base http.RoundTripper) http.RoundTripper {
			e.hook.Base = base
			e.hook.IsWrite = func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/policy/api/v1/") }
			return &e.hook
		},
		Client: func(c *nsxclient.Config) {
			c.MaxRetries, c.RetryBaseDelay, c.RetryMaxDelay, c.MaxRetryAfter = 2, time.Millisecond, 2*time.Millisecond, 5*time.Millisecond
		},
	})
	e.nsx, e.sim, e.client = nsx, nsx.Sim, nsx.Client
	return e
}

func (e *env) setAfterWrite(f func(*http.Request)) { e.hook.Set(f) }

// addPods creates a segment port per pod, tagged app=<app> and pod=<name>, as NCP tags labels.
func (e *env) addPods(pods ...pod) {
	e.t.Helper()
	p := e.client.Policy()
	if err := p.PatchSegment(e.ctx, nsxclient.Segment{PolicyResource: nsxclient.PolicyResource{ID: "pods"}}); err != nil {
		e.t.Fatal(err)
	}
	for _, pd := range pods {
		err := p.PatchSegmentPort(e.ctx, "pods", nsxclient.SegmentPort{
			PolicyResource: nsxclient.PolicyResource{ID: pd.name, Tags: []nsxclient.Tag{
				{Scope: "ncp/cluster", Tag: plantest.Cluster}, {Scope: "app", Tag: pd.app}, {Scope: "pod", Tag: pd.name}}},
			AddressBindings: []nsxclient.PortAddressBindingEntry{{IPAddress: pd.ip}},
			Attachment:      &nsxclient.PortAttachment{ID: "vif-" + pd.name, Type: nsxclient.AttachmentChild, ContextID: "node-vif"},
		})
		if err != nil {
			e.t.Fatal(err)
		}
		e.pods = append(e.pods, pd)
	}
}

func fourPods() []pod {
	return []pod{{"a1", "a", "10.0.1.1"}, {"b1", "b", "10.0.2.1"}, {"c1", "c", "10.0.3.1"}, {"d1", "d", "10.0.4.1"}}
}

func (e *env) backend(cfg policy.Config) *policy.Backend {
	e.t.Helper()
	if cfg.ClusterID == "" {
		cfg.ClusterID = plantest.Cluster
	}
	if cfg.RealizationPoll == 0 {
		cfg.RealizationPoll = time.Millisecond
	}
	b, err := policy.New(e.client, cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// sync runs the sync path and fails the test on error.
func (e *env) sync(b *policy.Backend, m *ir.Model, mode nsxsync.ReadMode) nsxsync.Result {
	e.t.Helper()
	res, err := nsxsync.Sync(e.ctx, b, m, nsxsync.Options{Read: mode})
	if err != nil {
		e.t.Fatalf("sync: %v", err)
	}
	return res
}

// flow is one connection to trace: pod to pod on a protocol and port.
type flow = simnsx.Flow

func (e *env) flows() []flow { return simnsx.PairFlows(len(e.pods)) }

func (e *env) trace(f flow) dataplane.Result {
	e.t.Helper()
	res, err := e.sim.Traceflow(e.ctx, dataplane.Flow{SrcIP: e.pods[f.Src].ip, DstIP: e.pods[f.Dst].ip, Protocol: f.Proto, DstPort: f.Port})
	if err != nil {
		e.t.Fatalf("traceflow: %v", err)
	}
	return res
}

func (e *env) describe(f flow) string {
	names := make([]string, len(e.pods))
	for i, p := range e.pods {
		names[i] = p.name
	}
	return f.Describe(names)
}

// verdicts traces every flow.
func (e *env) verdicts() map[flow]bool {
	out := map[flow]bool{}
	for _, f := range e.flows() {
		out[f] = e.trace(f).Allowed
	}
	return out
}

// stats returns the simulator's writes and calls since the last reset, and resets.
func (e *env) stats() (calls, writes int64) {
	s := e.sim.Stats()
	e.sim.ResetStats()
	return s.Calls, s.Writes
}

// simnsxClient is a client of the same simulator with other credentials.
func simnsxClient(e *env, user, password string) (*nsxclient.Client, error) {
	return e.nsx.NewClient(func(c *nsxclient.Config) { c.Credentials = nsxclient.StaticCredentials(user, password) })
}
