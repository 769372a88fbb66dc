package controllers

import (
	"context"
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/budget"
	"github.com/microseg/microseg/internal/ir"
)

// ReasonBudgetExceeded lives with the API types so that clients can match on it.
const ReasonBudgetExceeded = securityv1alpha1.ReasonBudgetExceeded

var (
	budgetUsed = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "microseg_nsx_budget_used",
		Help: "What the last compiled DFW takes of NSX, by kind: rules, sections, nsgroups, ipsets, rules_per_vnic (the most rules applied to one pod's port).",
	}, []string{"kind"})
	budgetLimit = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "microseg_nsx_budget_limit",
		Help: "microseg's NSX budget by kind (the --nsx-max-* flags; 0: no limit). A DFW over it is not applied.",
	}, []string{"kind"})
)

func init() { metrics.Registry.MustRegister(budgetUsed, budgetLimit) }

// checkBudget records what the model takes of NSX and returns a *budget.Error when it is over the
// budget: such a model is never applied, NSX keeps the last one that fit.
func (r *DFWReconciler) checkBudget(ctx context.Context, model *ir.Model) error {
	u := ir.UsageOf(model)
	for _, k := range budget.Kinds {
		budgetUsed.WithLabelValues(k).Set(float64(budget.Used(u, k)))
		budgetLimit.WithLabelValues(k).Set(float64(r.cfg.Budget.Limit(k)))
	}
	err := r.cfg.Budget.Check(model)
	if err != nil {
		log.FromContext(ctx).Error(err, "Not programming NSX: the compiled DFW is over the NSX budget", "reason", ReasonBudgetExceeded,
			"rules", u.Rules, "sections", u.Sections, "nsGroups", u.NSGroups, "ipSets", u.IPSets, "rulesPerVNIC", u.RulesPerPort)
	}
	return err
}

// budgetNamespaces returns the namespaces a budget error names as the largest contributors (nil
// for other errors).
func budgetNamespaces(err error) []string {
	var be *budget.Error
	if !errors.As(err, &be) {
		return nil
	}
	var out []string
	for _, c := range be.TopNamespaces() {
		out = append(out, c.Name)
	}
	return out
}
