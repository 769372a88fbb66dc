package controllers

import (
	"context"
	"sync"

	"sigs.k8s.io/controller-runtime/pkg/log"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/evaluate"
	"github.com/microseg/microseg/internal/ir"
)

// impacts computes status.stagedImpact of Staged policies in the status controller, off the DFW
// sync's path: from a sync outcome's model and the input it was compiled from, with the pure
// evaluator (internal/evaluate), at most evaluate.DefaultMaxConnections connections per policy
// and outcome. Each outcome is evaluated once per policy (the result is kept until a newer
// outcome arrives); every sync publishes an outcome, so the impact follows pod and policy changes.
type impacts struct {
	mu   sync.Mutex
	memo map[string]impactMemo
	// maxConnections overrides evaluate.DefaultMaxConnections when positive (tests).
	maxConnections int
}

type impactMemo struct {
	outcome *Outcome
	impact  *securityv1alpha1.StagedImpact
}

// of returns the policy's impact for status: nil when it is not Staged or not compiled, prev
// while the outcome is an interim one (not synced, or without its input).
func (m *impacts) of(ctx context.Context, csp *securityv1alpha1.ClusterSecurityPolicy, o *Outcome, prev *securityv1alpha1.StagedImpact) *securityv1alpha1.StagedImpact {
	res, found := o.Model.Object(ir.ObjectRef{Kind: ir.KindClusterSecurityPolicy, Name: csp.Name})
	switch {
	case csp.Spec.Enforcement != securityv1alpha1.EnforcementStaged || !found || !res.Accepted:
		return nil
	case !o.Planned && o.Err == nil, o.Input.ClusterID == "":
		return prev
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if memo, ok := m.memo[csp.Name]; ok && memo.outcome == o {
		return memo.impact
	}
	limit := m.maxConnections
	if limit <= 0 {
		limit = evaluate.DefaultMaxConnections
	}
	imp, err := evaluate.StagedImpact(o.Input, o.Model, csp.Name, limit)
	out := &securityv1alpha1.StagedImpact{}
	if err != nil {
		log.FromContext(ctx).Error(err, "Cannot evaluate the impact of a Staged policy", "policy", csp.Name)
		out.Message = truncateTo("The impact could not be evaluated: "+err.Error(), 1024)
	} else {
		out = apiImpact(imp)
	}
	if m.memo == nil {
		m.memo = map[string]impactMemo{}
	}
	m.memo[csp.Name] = impactMemo{outcome: o, impact: out}
	return out
}

func apiImpact(imp evaluate.Impact) *securityv1alpha1.StagedImpact {
	out := &securityv1alpha1.StagedImpact{Flips: int32(imp.Flips), NewlyDenied: int32(imp.NewlyDenied), NewlyAllowed: int32(imp.NewlyAllowed),
		Evaluated: int32(imp.Evaluated), LowerBound: imp.LowerBound, Message: truncateTo(imp.Message, 1024)}
	for _, p := range imp.Ports {
		out.Ports = append(out.Ports, p.String())
	}
	for _, x := range imp.Examples {
		out.Examples = append(out.Examples, securityv1alpha1.ImpactExample{Source: x.Source, Destination: x.Destination,
			Port: x.Port.String(), Now: verdictWord(x.Now), IfEnforced: verdictWord(x.IfEnforced), Rule: x.Rule})
	}
	return out
}

func verdictWord(allowed bool) string {
	if allowed {
		return "allowed"
	}
	return "denied"
}
