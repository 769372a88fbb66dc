package apply_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxsim/dataplane"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/nsxsync/manager"
	"github.com/microseg/microseg/internal/plan"
	"github.com/microseg/microseg/internal/plan/plantest"
	"github.com/microseg/microseg/internal/simnsx"
	"github.com/microseg/microseg/nsxclient"
)

// env is one NSX simulator served over HTTPS and an nsxclient talking to it. Every successful
// write through the client can trigger a check (afterWrite), which the invariant tests use to
// inspect each intermediate DFW state.
type env struct {
	t      *testing.T
	sim    *nsxsim.Server
	client *nsxclient.Client
	ctx    context.Context

	hook simnsx.AfterWrites
	pods []pod
}

// pod is a logical port standing for a pod.
type pod struct {
	name, ip, portID string
}

func newEnv(t *testing.T) *env { return newEnvWith(t, nsxsim.Options{}, nil) }

// newEnvWith is newEnv with simulator options (the seed is set) and a transport of the client's
// own between the write hook and the connection (nil: none).
func newEnvWith(t *testing.T, sim nsxsim.Options, wrap func(http.RoundTripper) http.RoundTripper) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background()}
	sim.Seed = 7
	nsx := simnsx.StartT(t, simnsx.Options{
		Transport: simnsx.TLS,
		Sim:       sim,
		ClientTransport: func(base http.RoundTripper) http.RoundTripper {
			if wrap != nil {
				base = wrap(base)
			}
			e.hook.Base = base
			e.hook.IsWrite = func(r *http.Request) bool {
				return strings.HasPrefix(r.URL.Path, "/api/v1/") && r.URL.Query().Get("action") != "list_with_rules"
			}
			return &e.hook
		},
		Client: func(c *nsxclient.Config) {
			c.MaxRetries, c.RetryBaseDelay, c.RetryMaxDelay, c.MaxRetryAfter = 2, time.Millisecond, 2*time.Millisecond, 5*time.Millisecond
		},
	})
	e.sim, e.client = nsx.Sim, nsx.Client
	return e
}

// setAfterWrite calls f after every successful NSX write (nil: nothing).
func (e *env) setAfterWrite(f func()) {
	if f == nil {
		e.hook.Set(nil)
		return
	}
	e.hook.Set(func(*http.Request) { f() })
}

// addPod creates a pod's logical port with tags app=<app> and pod=<name>.
func (e *env) addPod(name, app, ip string) {
	e.t.Helper()
	p, err := e.client.CreateLogicalPort(e.ctx, nsxclient.LogicalPort{
		ManagedResource: nsxclient.ManagedResource{DisplayName: name, Tags: []nsxclient.Tag{
			{Scope: "app", Tag: app}, {Scope: "pod", Tag: name}, {Scope: "ncp/project", Tag: "ns"}}},
		LogicalSwitchID: "ls-1",
		AdminState:      "UP",
		Attachment: &nsxclient.LogicalPortAttachment{AttachmentType: "VIF", ID: "vif-" + name,
			Context: &nsxclient.VifAttachmentContext{ResourceType: "VifAttachmentContext", VifType: "CHILD", ParentVifID: "parent-1"}},
		AddressBindings: []nsxclient.PacketAddressClassifier{{IPAddress: ip}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.pods = append(e.pods, pod{name: name, ip: ip, portID: p.ID})
}

// handMade creates a section microseg does not own, with one rule, at pos.
func (e *env) handMade(name string, rule nsxclient.FirewallRule, pos nsxclient.Position) nsxclient.FirewallSection {
	e.t.Helper()
	rule.DisplayName = name + "-rule"
	out, err := e.client.CreateSectionWithRules(e.ctx, nsxclient.FirewallSectionRuleList{
		FirewallSection: nsxclient.FirewallSection{ManagedResource: nsxclient.ManagedResource{DisplayName: name,
			Tags: []nsxclient.Tag{{Scope: "owner", Tag: "security-team"}}}, SectionType: nsxclient.SectionLayer3, Stateful: true},
		Rules: []nsxclient.FirewallRule{rule},
	}, pos)
	if err != nil {
		e.t.Fatal(err)
	}
	return out.FirewallSection
}

// guardFunc builds the guard of a model in place of the planner's (manager.Config.Guard).
type guardFunc = func(*ir.Model) *plan.Guard

// syncResult is what nsxsync.Sync did, with the Manager API plan it applied.
type syncResult struct {
	Plan *plan.Plan
	nsxsync.Result
}

// backend is the Manager backend over the test's client for the model's cluster.
func (e *env) backend(m *ir.Model, guard guardFunc, cfg manager.Config) *manager.Backend {
	e.t.Helper()
	cfg.ClusterID, cfg.Guard = m.ClusterID, guard
	b, err := manager.Over(e.client, cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// trySync runs the sync path for m with the given guard function (nil: the planner's own).
func (e *env) trySync(m *ir.Model, guard guardFunc, cfg manager.Config) (syncResult, error) {
	e.t.Helper()
	res, err := nsxsync.Sync(e.ctx, e.backend(m, guard, cfg), m, nsxsync.Options{})
	return syncResult{Plan: manager.PlanOf(res.Plan), Result: res}, err
}

// sync runs the sync path and fails the test on error.
func (e *env) sync(m *ir.Model, guard guardFunc, cfg manager.Config) syncResult {
	e.t.Helper()
	res, err := e.trySync(m, guard, cfg)
	if err != nil {
		e.t.Fatalf("sync: %v", err)
	}
	return res
}

// naiveGuard is a guard over plantest.DenyRules, for tests that do not check the invariant.
func naiveGuard(m *ir.Model) *plan.Guard {
	s, g := plantest.DenyRules(m)
	return &plan.Guard{Sections: s, Groups: g}
}

// plan reads NSX and plans m through the backend (nothing is applied).
func (e *env) plan(m *ir.Model, guard guardFunc, cfg manager.Config) *plan.Plan {
	e.t.Helper()
	b := e.backend(m, guard, cfg)
	st, err := b.Read(e.ctx, nsxsync.ReadFull)
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := b.Plan(m, st)
	if err != nil {
		e.t.Fatalf("plan: %v", err)
	}
	return manager.PlanOf(p)
}

// requireConverged checks that planning m against NSX now yields an empty plan.
func (e *env) requireConverged(m *ir.Model, cfg manager.Config) {
	e.t.Helper()
	if p := e.plan(m, nil, cfg); !p.Empty() {
		b, _ := json.MarshalIndent(p.Steps, "", " ")
		e.t.Fatalf("plan after sync is not empty: %s", b)
	}
}

// flow is one connection to trace: pod to pod on a protocol and port.
type flow = simnsx.Flow

// flows lists every ordered pod pair on every test port.
func (e *env) flows() []flow { return simnsx.PairFlows(len(e.pods)) }

func (e *env) trace(f flow) dataplane.Result {
	res, err := e.sim.Traceflow(e.ctx, dataplane.Flow{SrcPortID: e.pods[f.Src].portID, DstPortID: e.pods[f.Dst].portID, Protocol: f.Proto, DstPort: f.Port})
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
