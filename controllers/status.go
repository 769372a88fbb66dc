package controllers

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsync"
)

// maxMessage bounds a condition message (the API allows 32 KiB; a status that large helps nobody).
const maxMessage = 4000

// maxGroupIDs is the most group ids status.realized lists (the CRD's MaxItems).
const maxGroupIDs = 256

// CSPStatus computes the status of one ClusterSecurityPolicy from the outcome of a sync. It is
// pure: prev supplies the lastTransitionTime of every condition whose status stays the same (the
// meta.SetStatusCondition rules), now the time of those that change. ok is false when the policy
// is not in the outcome's model (it was created after the sync listed the policies); its status
// is then left alone until the next sync.
//
// Conditions, all with observedGeneration = generation:
//   - Accepted: True/Compiled, True/CompiledWithWarnings (the warnings in the message), or
//     False/InvalidSpec when the compiler rejected the policy.
//   - Programmed: True/Programmed when NSX holds the policy's sections and groups; otherwise
//     False with InvalidSpec, Pending (not synced yet), DryRun, NSXUnavailable, NSXRejected,
//     InvalidConfiguration, BudgetExceeded (the whole DFW is over microseg's NSX budget and not
//     applied), or InvalidReference (a referenced NSX group is missing; the rest of the policy is
//     programmed and the affected rules fail closed).
//   - Ready: True iff Accepted and Programmed are; otherwise the first failing one's reason.
//   - Reconciling (kstatus) only while the operator is still working on it (Pending,
//     NSXUnavailable); Stalled only when a human must act (InvalidSpec, InvalidReference,
//     NSXRejected, InvalidConfiguration, BudgetExceeded). Both are removed when false, as kstatus recommends.
//
// status.realized is recomputed when the policy is programmed (InvalidReference included), cleared
// when it is not accepted, and otherwise kept: it describes the last realization NSX confirmed.
func CSPStatus(prev securityv1alpha1.ClusterSecurityPolicyStatus, name string, generation int64, o *Outcome, now metav1.Time) (securityv1alpha1.ClusterSecurityPolicyStatus, bool) {
	obj := ir.ObjectRef{Kind: ir.KindClusterSecurityPolicy, Name: name}
	res, found := o.Model.Object(obj)
	if !found {
		return prev, false
	}
	out := *prev.DeepCopy()
	out.ObservedGeneration = generation

	accepted := acceptedCondition(res)
	programmed := programmedCondition(res, o, generation)
	ready := metav1.Condition{Type: securityv1alpha1.ConditionReady, Status: metav1.ConditionTrue,
		Reason: securityv1alpha1.ReasonProgrammed, Message: "The policy is compiled and programmed in NSX."}
	switch {
	case accepted.Status != metav1.ConditionTrue:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, accepted.Reason, accepted.Message
	case programmed.Status != metav1.ConditionTrue:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, programmed.Reason, programmed.Message
	}
	conditions := []metav1.Condition{ready, accepted, programmed}
	abnormal := metav1.Condition{Status: metav1.ConditionTrue, Reason: programmed.Reason, Message: programmed.Message}
	switch programmed.Reason {
	case securityv1alpha1.ReasonPending, securityv1alpha1.ReasonNSXUnavailable:
		abnormal.Type = securityv1alpha1.ConditionReconciling
	case ReasonInvalidSpec, securityv1alpha1.ReasonInvalidReference, securityv1alpha1.ReasonNSXRejected, ReasonInvalidConfiguration, ReasonBudgetExceeded:
		abnormal.Type = securityv1alpha1.ConditionStalled
	}
	for _, t := range []string{securityv1alpha1.ConditionReconciling, securityv1alpha1.ConditionStalled} {
		if t != abnormal.Type {
			meta.RemoveStatusCondition(&out.Conditions, t)
		}
	}
	if abnormal.Type != "" {
		conditions = append(conditions, abnormal)
	}
	for _, c := range conditions {
		c.ObservedGeneration, c.LastTransitionTime = generation, now
		c.Message = truncate(c.Message)
		meta.SetStatusCondition(&out.Conditions, c)
	}

	switch {
	case !res.Accepted:
		out.Realized = nil
	case programmed.Status == metav1.ConditionTrue || programmed.Reason == securityv1alpha1.ReasonInvalidReference:
		out.Realized = realized(res, o)
	}
	return out, true
}

func acceptedCondition(res *ir.ObjectResult) metav1.Condition {
	c := metav1.Condition{Type: securityv1alpha1.ConditionAccepted}
	switch {
	case !res.Accepted:
		c.Status, c.Reason = metav1.ConditionFalse, ReasonInvalidSpec
		c.Message = "The policy does not compile and contributes nothing to the DFW until its spec is fixed: " + res.Error
	case len(res.Warnings) > 0:
		c.Status, c.Reason = metav1.ConditionTrue, securityv1alpha1.ReasonCompiledWithWarnings
		c.Message = "The policy compiled, but NSX cannot express all of it exactly: " + warningList(res.Warnings)
	default:
		c.Status, c.Reason = metav1.ConditionTrue, securityv1alpha1.ReasonCompiled
		c.Message = "The policy compiled; NSX expresses it exactly."
	}
	return c
}

func programmedCondition(res *ir.ObjectResult, o *Outcome, generation int64) metav1.Condition {
	c := metav1.Condition{Type: securityv1alpha1.ConditionProgrammed, Status: metav1.ConditionFalse}
	switch problems := o.problems(res.Object); {
	case !res.Accepted:
		c.Reason, c.Message = ReasonInvalidSpec, "Nothing to program: the policy does not compile (see Accepted)."
	case o.Err != nil:
		c.Reason = failureReason(o.Err)
		c.Message = failureMessage(c.Reason, o.Err)
	case !o.Planned:
		c.Reason = securityv1alpha1.ReasonPending
		c.Message = fmt.Sprintf("Generation %d compiled; waiting for the sync that programs it into NSX.", generation)
	case o.DryRun:
		c.Reason = securityv1alpha1.ReasonDryRun
		c.Message = "The operator runs with --dry-run: it computes and logs the NSX changes but writes nothing to NSX."
	case !o.Converged:
		c.Reason = securityv1alpha1.ReasonPending
		c.Message = fmt.Sprintf("Generation %d is being programmed into NSX; NSX changed during the sync, which is retried.", generation)
	case len(problems) > 0:
		c.Reason = securityv1alpha1.ReasonInvalidReference
		c.Message = "Rules reference NSX groups that do not exist or whose name is ambiguous; create or rename the group in NSX, or fix the rule. Everything else is programmed. " + problemList(problems)
	default:
		c.Status, c.Reason = metav1.ConditionTrue, securityv1alpha1.ReasonProgrammed
		c.Message = "The policy's sections and groups are in NSX (see status.realized)."
	}
	return c
}

// realized maps the policy's compiled sections and groups to the NSX ids they have now.
func realized(res *ir.ObjectResult, o *Outcome) *securityv1alpha1.RealizedState {
	r := &securityv1alpha1.RealizedState{RuleCount: int32(res.RuleCount), GroupCount: int32(len(res.Groups))}
	if o.Owned == nil {
		return r
	}
	for _, key := range res.Sections {
		if id, ok := o.Owned.Section(key); ok {
			r.SectionIDs = append(r.SectionIDs, id)
		}
	}
	for _, key := range res.Groups {
		if id, ok := o.Owned.Group(key); ok {
			r.GroupIDs = append(r.GroupIDs, id)
		}
	}
	slices.Sort(r.GroupIDs)
	r.GroupIDs = r.GroupIDs[:min(len(r.GroupIDs), maxGroupIDs)]
	return r
}

func warningList(ws []ir.Warning) string {
	parts := make([]string, 0, len(ws))
	for _, w := range ws {
		s := w.Code + ": " + w.Message
		if w.Rule != "" {
			s = "rule " + w.Rule + ": " + s
		}
		parts = append(parts, s)
	}
	return strings.Join(slices.Compact(parts), "; ")
}

func problemList(ps []nsxsync.Problem) string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		parts = append(parts, p.Message)
	}
	return strings.Join(slices.Compact(parts), "; ")
}

func truncate(s string) string { return truncateTo(s, maxMessage) }

// truncateTo cuts s to at most limit bytes, on a character boundary, saying so.
func truncateTo(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit - len(" …(truncated)")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + " …(truncated)"
}
