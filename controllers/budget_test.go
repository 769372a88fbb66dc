package controllers

import (
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/budget"
	"github.com/microseg/microseg/internal/ir"
)

func overBudget() error {
	return &budget.Error{Over: []string{budget.KindRules}, Budget: budget.Budget{Rules: 10},
		Usage: ir.Usage{Rules: 12, Namespaces: []ir.Contributor{{Name: "big", Rules: 9}, {Name: "small", Rules: 3}},
			Policies: []ir.Contributor{{Name: "np/big/wide", Rules: 9}}}}
}

func TestCSPStatusBudgetExceeded(t *testing.T) {
	prev := securityv1alpha1.ClusterSecurityPolicyStatus{Realized: &securityv1alpha1.RealizedState{SectionIDs: []string{"sec-1"}}}
	st, _ := CSPStatus(prev, policy, 2, &Outcome{Model: model(compiled), Err: overBudget()}, at(100))
	expectConditions(t, st, 2, map[string]string{
		"Ready": "False/BudgetExceeded", "Accepted": "True/Compiled", "Programmed": "False/BudgetExceeded", "Stalled": "True/BudgetExceeded",
	})
	msg := meta.FindStatusCondition(st.Conditions, "Programmed").Message
	for _, s := range []string{"12 rules > 10, --nsx-max-rules", "namespaces big (9), small (3)", "np/big/wide (9)", "last configuration that fit"} {
		if !strings.Contains(msg, s) {
			t.Errorf("Programmed message %q does not say %q", msg, s)
		}
	}
	if st.Realized == nil || st.Realized.SectionIDs[0] != "sec-1" {
		t.Errorf("realized %+v: the last realization stays", st.Realized)
	}
}

func TestBudgetEventsOnlyInTheLargestNamespaces(t *testing.T) {
	rec := events.NewFakeRecorder(10)
	e := newNPEvents(rec)
	var objects []ir.ObjectResult
	nps := map[string]*networkingv1.NetworkPolicy{}
	for _, ns := range []string{"big", "other"} {
		nps[ns] = &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: ns, UID: types.UID(ns), Generation: 1}}
		objects = append(objects, ir.ObjectResult{Object: ir.ObjectRef{Kind: ir.KindNetworkPolicy, Namespace: ns, Name: "p"}, Accepted: true})
	}
	o := &Outcome{Model: &ir.Model{Objects: objects}, Err: overBudget()}
	e.announce(nps["big"], o)
	expectEvents(t, rec, "a namespace named as a largest contributor", "Warning BudgetExceeded")
	e.announce(nps["other"], o)
	expectEvents(t, rec, "another namespace")
	e.announce(nps["big"], o)
	expectEvents(t, rec, "once per streak")
}
