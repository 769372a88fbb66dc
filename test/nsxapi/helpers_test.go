package nsxapi_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

// result carries a (value, error) pair so that a call can be checked in one expression:
//
//	sec := try(h.c.GetSection(ctx, id)).must(t)
type result[T any] struct {
	v   T
	err error
}

func try[T any](v T, err error) result[T] { return result[T]{v, err} }

// must returns the value or stops the test with the error.
func (r result[T]) must(t testing.TB) T {
	t.Helper()
	if r.err != nil {
		t.Fatalf("unexpected error: %v", r.err)
	}
	return r.v
}

func mustOK(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// apiError returns err as an *nsxclient.APIError or stops the test.
func apiError(t testing.TB, err error) *nsxclient.APIError {
	t.Helper()
	var e *nsxclient.APIError
	if !errors.As(err, &e) {
		t.Fatalf("want an *nsxclient.APIError, got %T: %v", err, err)
	}
	return e
}

// layer3Section is a new, empty, stateful LAYER3 section body.
func layer3Section(name string) nsxclient.FirewallSection {
	s := nsxclient.FirewallSection{SectionType: nsxclient.SectionLayer3, Stateful: true}
	s.DisplayName = name
	return s
}

// withRules is a section body together with its rules.
func withRules(s nsxclient.FirewallSection, rules ...nsxclient.FirewallRule) nsxclient.FirewallSectionRuleList {
	if rules == nil {
		rules = []nsxclient.FirewallRule{}
	}
	return nsxclient.FirewallSectionRuleList{FirewallSection: s, Rules: rules}
}

// allowRule is an ALLOW rule matching anything, named so that tests can check order.
func allowRule(name string) nsxclient.FirewallRule {
	return nsxclient.FirewallRule{DisplayName: name, Action: nsxclient.ActionAllow}
}

func groupRef(id string) nsxclient.ResourceReference {
	return nsxclient.ResourceReference{TargetType: nsxclient.TargetNSGroup, TargetID: id}
}

func ipv4Ref(cidr string) nsxclient.ResourceReference {
	return nsxclient.ResourceReference{TargetType: nsxclient.TargetIPv4Address, TargetID: cidr}
}

// portTagExpr selects logical ports carrying tag scope=tag.
func portTagExpr(scope, tag string) nsxclient.NSGroupExpression {
	return nsxclient.NSGroupExpression{ResourceType: nsxclient.ExprTag, TargetType: nsxclient.TargetLogicalPort,
		Scope: scope, ScopeOp: "EQUALS", Tag: tag, TagOp: "EQUALS"}
}

// allOf ANDs expressions into one NSGroupComplexExpression.
func allOf(exprs ...nsxclient.NSGroupExpression) nsxclient.NSGroupExpression {
	return nsxclient.NSGroupExpression{ResourceType: nsxclient.ExprComplex, Expressions: exprs}
}

// sectionNames, ruleNames and ruleIDs project lists for order checks.
func sectionNames(sections []nsxclient.FirewallSection) []string {
	out := make([]string, len(sections))
	for i, s := range sections {
		out[i] = s.DisplayName
	}
	return out
}

func ruleNames(rules []nsxclient.FirewallRule) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.DisplayName
	}
	return out
}

func ruleIDs(rules []nsxclient.FirewallRule) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.ID
	}
	return out
}

// equalStrings fails t unless got equals want, naming what was compared.
func equalStrings(t testing.TB, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}

// namedGroup is an NSGroup body with a name and no members.
func namedGroup(name string) nsxclient.NSGroup {
	var g nsxclient.NSGroup
	g.DisplayName = name
	return g
}

// countWhere counts the items of list for which match holds.
func countWhere[T any](list []T, match func(T) bool) int {
	n := 0
	for _, x := range list {
		if match(x) {
			n++
		}
	}
	return n
}

// groupNamed matches NSGroups by display name.
func groupNamed(name string) func(nsxclient.NSGroup) bool {
	return func(g nsxclient.NSGroup) bool { return g.DisplayName == name }
}

// sortedCopy returns a sorted copy of s.
func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
