package controllers

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"sync"

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
// sync found already programmed in NSX. It is safe for concurrent use.
type npEvents struct {
	recorder events.EventRecorder
	mu       sync.Mutex
	seen     map[types.NamespacedName]*npAnnounced
}

type npAnnounced struct {
	uid        types.UID
	generation int64
	programmed bool
	said       map[string]bool // warnings announced for this generation
	failing    string          // reason of the failure announced, "" when not failing
}

func newNPEvents(r events.EventRecorder) *npEvents {
	return &npEvents{recorder: r, seen: map[types.NamespacedName]*npAnnounced{}}
}

// announce emits the events a sync's outcome calls for on one policy (o must have been compiled
// from this version of it).
func (e *npEvents) announce(np *networkingv1.NetworkPolicy, o *Outcome) {
	res, ok := o.Model.Object(ir.ObjectRef{Kind: ir.KindNetworkPolicy, Namespace: np.Namespace, Name: np.Name})
	if !ok {
		return // created after the sync listed the policies
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	key := types.NamespacedName{Namespace: np.Namespace, Name: np.Name}
	a := e.seen[key]
	if a == nil || a.uid != np.UID || a.generation != np.Generation {
		a = &npAnnounced{uid: np.UID, generation: np.Generation, said: map[string]bool{}}
		e.seen[key] = a
	}
	e.compileEvents(np, res, a)
	e.programEvents(np, res, o, a)
}

// forget drops what was said about a deleted policy.
func (e *npEvents) forget(key types.NamespacedName) {
	e.mu.Lock()
	delete(e.seen, key)
	e.mu.Unlock()
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
	// One event per rule (and one for the policy as a whole), listing that rule's warnings:
	// events.k8s.io folds events that differ only in their note into one series (the first note
	// stays), so one event per warning would show only the first of a rule's; the action names the
	// rule so that rules stay apart, and a digest of the note so that a rule whose warnings change
	// (a second forger pod comes) gets an event with the new list.
	byRule := map[string][]ir.Warning{}
	for _, w := range res.Warnings {
		byRule[w.Rule] = append(byRule[w.Rule], w)
	}
	for _, rule := range slices.Sorted(maps.Keys(byRule)) {
		note := truncateNote(warningList(byRule[rule]))
		if a.said[note] {
			continue
		}
		a.said[note] = true
		action := actionCompile
		if rule != "" {
			action += " " + rule
		}
		suffix := " (warnings " + digest(note) + ")"
		action = truncateTo(action, maxEventAction-len(suffix)) + suffix
		e.recorder.Eventf(np, nil, corev1.EventTypeWarning, EventNotExactlyExpressible, action, "%s", note)
	}
}

// Limits of events.k8s.io/v1 fields (the API server rejects longer ones).
const (
	maxEventNote   = 1024
	maxEventAction = 128
)

func truncateNote(s string) string { return truncateTo(s, maxEventNote) }

func (e *npEvents) programEvents(np *networkingv1.NetworkPolicy, res *ir.ObjectResult, o *Outcome, a *npAnnounced) {
	switch {
	case !res.Accepted || o.DryRun:
	case o.Err != nil:
		reason := failureReason(o.Err)
		if reason == ReasonBudgetExceeded && !slices.Contains(budgetNamespaces(o.Err), np.Namespace) {
			return // only the namespaces that contribute most hear about the budget
		}
		if a.failing != reason {
			a.failing = reason
			e.recorder.Eventf(np, nil, corev1.EventTypeWarning, reason, actionProgram, "%s", truncateNote(failureMessage(reason, o.Err)))
		}
	case o.Planned && o.Converged:
		a.failing = ""
		if a.programmed {
			return
		}
		a.programmed = true
		// After a restart NSX may well hold this generation already: saying so again would
		// claim a change that did not happen.
		if o.FirstSync && !o.Wrote {
			return
		}
		e.recorder.Eventf(np, nil, corev1.EventTypeNormal, EventProgrammed, actionProgram,
			"Generation %d is programmed in NSX as %d firewall rules.", np.Generation, res.RuleCount)
	}
}

// digest is a short fingerprint of an event's note, to tell series apart.
func digest(note string) string {
	sum := sha256.Sum256([]byte(note))
	return hex.EncodeToString(sum[:4])
}
