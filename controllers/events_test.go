package controllers

import (
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/nsxclient"
)

// drain returns the events recorded so far, as "<type> <reason>".
func drain(r *events.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-r.Events:
			f := strings.Fields(e)
			out = append(out, f[0]+" "+f[1])
		default:
			return out
		}
	}
}

func expectEvents(t *testing.T, r *events.FakeRecorder, step string, want ...string) {
	t.Helper()
	got := drain(r)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s: events %v, want %v", step, got, want)
	}
}

func TestNetworkPolicyEvents(t *testing.T) {
	np := networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "y1", UID: types.UID("uid-b"), Generation: 1}}
	ref := ir.ObjectRef{Kind: ir.KindNetworkPolicy, Namespace: "y1", Name: "b"}
	sctp := ir.Warning{Object: ref, Rule: "ingress/0", Code: ir.WarnSCTPPorts, Message: "SCTP ports 9999 cannot be expressed"}
	m := &ir.Model{Objects: []ir.ObjectResult{{Object: ref, Accepted: true, RuleCount: 2, Warnings: []ir.Warning{sctp}}}}
	wrote := &Outcome{Model: m, Planned: true, Wrote: true, Converged: true}
	nothing := &Outcome{Model: m, Planned: true, Converged: true}
	firstNothing := &Outcome{Model: m, Planned: true, Converged: true, FirstSync: true}
	down := &Outcome{Model: m, Err: &nsxclient.APIError{StatusCode: 503, Method: "GET", Path: "/firewall/sections"}}

	rec := events.NewFakeRecorder(20)
	e := newNPEvents(rec)

	e.announce(&np, firstNothing)
	expectEvents(t, rec, "first sync, NSX already held it", "Warning NotExactlyExpressible")
	e.announce(&np, nothing)
	expectEvents(t, rec, "the next sync")

	np.Generation = 2
	e.announce(&np, down)
	expectEvents(t, rec, "new generation, NSX down", "Warning NotExactlyExpressible", "Warning NSXUnavailable")
	e.announce(&np, down)
	expectEvents(t, rec, "NSX still down")
	e.announce(&np, wrote)
	expectEvents(t, rec, "NSX back", "Normal Programmed")
	e.announce(&np, down)
	expectEvents(t, rec, "NSX down again", "Warning NSXUnavailable")

	e.forget(types.NamespacedName{Namespace: np.Namespace, Name: np.Name})
	if len(e.seen) != 0 {
		t.Errorf("a deleted policy is still remembered: %v", e.seen)
	}

	dry := &Outcome{Model: m, Planned: true, DryRun: true}
	e.announce(&np, dry)
	expectEvents(t, rec, "dry run", "Warning NotExactlyExpressible")

	invalid := &Outcome{Model: &ir.Model{Objects: []ir.ObjectResult{{Object: ref, Error: "bad port"}}}, Planned: true, Converged: true}
	np.Generation = 3
	e.announce(&np, invalid)
	e.announce(&np, invalid)
	expectEvents(t, rec, "invalid", "Warning NotCompiled")

	// A policy deleted and created again under the same name starts afresh.
	np.UID, np.Generation = "uid-b2", 1
	e.announce(&np, nothing)
	expectEvents(t, rec, "re-created", "Warning NotExactlyExpressible", "Normal Programmed")
}
