package controllers

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"

	"github.com/microseg/microseg/internal/ir"
)

// Event reasons on NetworkPolicies (which have no status microseg may write).
const (
	// EventProgrammed (Normal): this generation of the policy is realized in NSX.
	EventProgrammed = "Programmed"
	// EventNotExactlyExpressible (Warning): NSX cannot express part of the policy exactly; the
	// note says what and how microseg realized it instead (always fail-closed).
	EventNotExactlyExpressible = "NotExactlyExpressible"
	// EventNotCompiled (Warning): the compiler rejected the policy; it contributes nothing.
	EventNotCompiled = "NotCompiled"
)

// Event actions (events.k8s.io/v1 requires one).
const (
	actionCompile = "Compile"
	actionProgram = "Program"
)

// npEvents announces what happened to NetworkPolicies, each thing once: "Programmed" once per
// generation, each warning once per generation, an NSX failure once per failure streak. It
// remembers what it said in memory only; a restarted operator repeats warnings once (useful:
// events expire after an hour), but does not announce "Programmed" for policies that the first
// sync found already programmed in NSX.
type npEvents struct {
	recorder events.EventRecorder
	seen     map[types.UID]*npAnnounced
}

type npAnnounced struct {
	generation int64
	programmed bool
	said       map[string]bool // warnings announced for this generation
	failing    string          // reason of the failure announced, "" when not failing
}

func newNPEvents(r events.EventRecorder) *npEvents {
	return &npEvents{recorder: r, seen: map[types.UID]*npAnnounced{}}
}

// announce emits the events a sync's outcome calls for. firstSync is set for the operator's first
// sync that reached NSX.
func (e *npEvents) announce(nps []networkingv1.NetworkPolicy, o *Outcome, firstSync bool) {
	live := make(map[types.UID]bool, len(nps))
	for i := range nps {
		np := &nps[i]
		live[np.UID] = true
		res, ok := o.Model.Object(ir.ObjectRef{Kind: ir.KindNetworkPolicy, Namespace: np.Namespace, Name: np.Name})
		if !ok {
			continue // created after the sync listed the policies
		}
		a := e.seen[np.UID]
		if a == nil || a.generation != np.Generation {
			a = &npAnnounced{generation: np.Generation, said: map[string]bool{}}
			e.seen[np.UID] = a
		}
		e.compileEvents(np, res, a)
		e.programEvents(np, res, o, a, firstSync)
	}
	for uid := range e.seen {
		if !live[uid] {
			delete(e.seen, uid)
		}
	}
}

func (e *npEvents) compileEvents(np *networkingv1.NetworkPolicy, res *ir.ObjectResult, a *npAnnounced) {
	if !res.Accepted {
		if !a.said[EventNotCompiled] {
			a.said[EventNotCompiled] = true
			e.recorder.Eventf(np, nil, corev1.EventTypeWarning, EventNotCompiled, actionCompile,
				"microseg cannot compile this policy, so it has no effect in NSX: %s", res.Error)
		}
		return
	}
	for _, w := range res.Warnings {
		key := w.Code + "\x00" + w.Rule + "\x00" + w.Message
		if a.said[key] {
			continue
		}
		a.said[key] = true
		e.recorder.Eventf(np, nil, corev1.EventTypeWarning, EventNotExactlyExpressible, actionCompile,
			"%s", warningList([]ir.Warning{w}))
	}
}

func (e *npEvents) programEvents(np *networkingv1.NetworkPolicy, res *ir.ObjectResult, o *Outcome, a *npAnnounced, firstSync bool) {
	switch {
	case !res.Accepted || o.DryRun:
	case o.Err != nil:
		reason := failureReason(o.Err)
		if a.failing != reason {
			a.failing = reason
			e.recorder.Eventf(np, nil, corev1.EventTypeWarning, reason, actionProgram, "%s", truncate(failureMessage(reason, o.Err)))
		}
	case o.Plan != nil && o.Converged:
		a.failing = ""
		if a.programmed {
			return
		}
		a.programmed = true
		// After a restart NSX may well hold this generation already: saying so again would
		// claim a change that did not happen.
		if firstSync && o.Plan.Empty() {
			return
		}
		e.recorder.Eventf(np, nil, corev1.EventTypeNormal, EventProgrammed, actionProgram,
			"Generation %d is programmed in NSX as %d firewall rules.", np.Generation, res.RuleCount)
	}
}
