package controllers

import (
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/nsxclient"
)

const policy = "protect-service-d"

var policyRef = ir.ObjectRef{Kind: ir.KindClusterSecurityPolicy, Name: policy}

// model is a compiled model holding one result for the policy.
func model(res ir.ObjectResult) *ir.Model {
	res.Object = policyRef
	return &ir.Model{ClusterID: "c", Objects: []ir.ObjectResult{res}}
}

var compiled = ir.ObjectResult{Accepted: true, Sections: []string{policyRef.Key()}, RuleCount: 2,
	Groups: []string{"tag-b", "tag-a"}}

// synced is the outcome of a sync that brought NSX to the model.
func synced(m *ir.Model, problems ...nsxsync.Problem) *Outcome {
	return &Outcome{Model: m, Planned: true, Problems: problems, Converged: true,
		Owned: owned(map[string]string{policyRef.Key(): "sec-1", "np-allow/x": "sec-9"},
			map[string]string{"tag-a": "grp-a", "tag-b": "grp-b", "tag-z": "grp-z"})}
}

// owned is an owned-object index of sections and groups (by key).
func owned(sections, groups map[string]string) *ownership.Index {
	x := ownership.NewIndex()
	for key, id := range sections {
		x.AddSection(ownership.KindSection, ownership.EncodeKey(key), id, false)
	}
	for key, id := range groups {
		x.AddGroup(ownership.KindNSGroup, ownership.EncodeKey(key), id)
	}
	return x
}

func at(sec int64) metav1.Time { return metav1.NewTime(time.Unix(sec, 0)) }

// expectConditions checks type → status/reason, that nothing else is set, and observedGeneration.
func expectConditions(t *testing.T, st securityv1alpha1.ClusterSecurityPolicyStatus, gen int64, want map[string]string) {
	t.Helper()
	if st.ObservedGeneration != gen {
		t.Errorf("status.observedGeneration %d, want %d", st.ObservedGeneration, gen)
	}
	got := map[string]string{}
	for _, c := range st.Conditions {
		got[c.Type] = string(c.Status) + "/" + c.Reason
		if c.ObservedGeneration != gen {
			t.Errorf("%s.observedGeneration %d, want %d", c.Type, c.ObservedGeneration, gen)
		}
		if c.Message == "" {
			t.Errorf("%s has no message", c.Type)
		}
	}
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("conditions %v, want %v", got, want)
	}
}

func TestCSPStatusProgrammed(t *testing.T) {
	st, ok := CSPStatus(securityv1alpha1.ClusterSecurityPolicyStatus{}, policy, 3, synced(model(compiled)), at(100))
	if !ok {
		t.Fatal("policy not found in the model")
	}
	expectConditions(t, st, 3, map[string]string{
		"Ready": "True/Programmed", "Accepted": "True/Compiled", "Programmed": "True/Programmed",
	})
	want := &securityv1alpha1.RealizedState{SectionIDs: []string{"sec-1"}, RuleCount: 2, GroupCount: 2, GroupIDs: []string{"grp-a", "grp-b"}}
	if !equality.Semantic.DeepEqual(st.Realized, want) {
		t.Errorf("realized %+v, want %+v", st.Realized, want)
	}
}

func TestCSPStatusCompiledWithWarnings(t *testing.T) {
	res := compiled
	res.Warnings = []ir.Warning{{Rule: "sctp", Code: ir.WarnSCTPPorts, Message: "SCTP ports 5000-5010 cannot be expressed"}}
	st, _ := CSPStatus(securityv1alpha1.ClusterSecurityPolicyStatus{}, policy, 1, synced(model(res)), at(100))
	expectConditions(t, st, 1, map[string]string{
		"Ready": "True/Programmed", "Accepted": "True/CompiledWithWarnings", "Programmed": "True/Programmed",
	})
	msg := meta.FindStatusCondition(st.Conditions, "Accepted").Message
	for _, w := range []string{"rule sctp", ir.WarnSCTPPorts, "5000-5010"} {
		if !strings.Contains(msg, w) {
			t.Errorf("Accepted message %q does not mention %q", msg, w)
		}
	}
}

func TestCSPStatusInvalidSpec(t *testing.T) {
	prev := securityv1alpha1.ClusterSecurityPolicyStatus{Realized: &securityv1alpha1.RealizedState{SectionIDs: []string{"old"}}}
	st, _ := CSPStatus(prev, policy, 2, synced(model(ir.ObjectResult{Error: "tier \"Middle\" is not Security or Baseline"})), at(100))
	expectConditions(t, st, 2, map[string]string{
		"Ready": "False/InvalidSpec", "Accepted": "False/InvalidSpec", "Programmed": "False/InvalidSpec", "Stalled": "True/InvalidSpec",
	})
	if !strings.Contains(meta.FindStatusCondition(st.Conditions, "Ready").Message, "Middle") {
		t.Error("Ready does not say why the policy is invalid")
	}
	if st.Realized != nil {
		t.Errorf("realized %+v for a policy that contributes nothing", st.Realized)
	}
}

func TestCSPStatusPendingKeepsRealized(t *testing.T) {
	prev := securityv1alpha1.ClusterSecurityPolicyStatus{Realized: &securityv1alpha1.RealizedState{SectionIDs: []string{"sec-1"}, RuleCount: 1}}
	for name, o := range map[string]*Outcome{
		"compiled, NSX not reached yet": {Model: model(compiled)},
		"NSX changed during the sync":   {Model: model(compiled), Planned: true},
	} {
		t.Run(name, func(t *testing.T) {
			st, _ := CSPStatus(prev, policy, 4, o, at(100))
			expectConditions(t, st, 4, map[string]string{
				"Ready": "False/Pending", "Accepted": "True/Compiled", "Programmed": "False/Pending", "Reconciling": "True/Pending",
			})
			if !equality.Semantic.DeepEqual(st.Realized, prev.Realized) {
				t.Errorf("realized %+v, want the previous %+v", st.Realized, prev.Realized)
			}
		})
	}
}

func TestCSPStatusNSXFailures(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		reason    string
		abnormal  string
		inMessage string
	}{
		{"503", &nsxclient.APIError{StatusCode: 503, Method: "GET", Path: "/firewall/sections", Message: "Service Unavailable"},
			"NSXUnavailable", "Reconciling", "503"},
		{"no connection", &nsxclient.TransportError{Method: "GET", Path: "/firewall/sections", Err: errors.New("connection refused")},
			"NSXUnavailable", "Reconciling", "connection refused"},
		{"bad credentials", &nsxclient.APIError{StatusCode: 403, ErrorCode: nsxclient.ErrCodeBadCredentials, Method: "GET", Path: "/firewall/sections"},
			"NSXUnavailable", "Reconciling", "credentials"},
		{"rate limited", &nsxclient.APIError{StatusCode: 429, Method: "GET", Path: "/ns-groups"},
			"NSXUnavailable", "Reconciling", "429"},
		{"field rejected", &nsxclient.APIError{StatusCode: 400, ErrorCode: nsxclient.ErrCodeFieldValidation, Method: "POST", Path: "/firewall/sections", Message: "display_name too long"},
			"NSXRejected", "Stalled", "display_name too long"},
		{"anchor missing", &nsxsync.ConfigError{Msg: "the anchor section \"above-microseg\" (--anchor-section) is neither ..."},
			"InvalidConfiguration", "Stalled", "--anchor-section"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prev := securityv1alpha1.ClusterSecurityPolicyStatus{Realized: &securityv1alpha1.RealizedState{SectionIDs: []string{"sec-1"}}}
			st, _ := CSPStatus(prev, policy, 5, &Outcome{Model: model(compiled), Err: tc.err}, at(100))
			expectConditions(t, st, 5, map[string]string{
				"Ready": "False/" + tc.reason, "Accepted": "True/Compiled", "Programmed": "False/" + tc.reason, tc.abnormal: "True/" + tc.reason,
			})
			if msg := meta.FindStatusCondition(st.Conditions, "Programmed").Message; !strings.Contains(msg, tc.inMessage) {
				t.Errorf("Programmed message %q does not mention %q", msg, tc.inMessage)
			}
			if !equality.Semantic.DeepEqual(st.Realized, prev.Realized) {
				t.Errorf("realized %+v, want the previous one kept", st.Realized)
			}
		})
	}
}

func TestCSPStatusInvalidReference(t *testing.T) {
	problem := nsxsync.Problem{Object: policyRef, Rule: "databases", Code: nsxsync.ProblemInvalidReference,
		Message: "rule csp/p/egress/databases/0: NSX group \"physical-databases\" does not exist; the rule is realized fail-closed"}
	other := nsxsync.Problem{Object: ir.ObjectRef{Kind: ir.KindClusterSecurityPolicy, Name: "other"}, Code: nsxsync.ProblemInvalidReference, Message: "not ours"}
	st, _ := CSPStatus(securityv1alpha1.ClusterSecurityPolicyStatus{}, policy, 1, synced(model(compiled), problem, other), at(100))
	expectConditions(t, st, 1, map[string]string{
		"Ready": "False/InvalidReference", "Accepted": "True/Compiled", "Programmed": "False/InvalidReference", "Stalled": "True/InvalidReference",
	})
	msg := meta.FindStatusCondition(st.Conditions, "Programmed").Message
	if !strings.Contains(msg, "physical-databases") || strings.Contains(msg, "not ours") {
		t.Errorf("Programmed message %q", msg)
	}
	if st.Realized == nil || len(st.Realized.SectionIDs) != 1 {
		t.Errorf("realized %+v: the rest of the policy is programmed and should be reported", st.Realized)
	}
}

func TestCSPStatusDryRun(t *testing.T) {
	o := synced(model(compiled))
	o.DryRun, o.Converged = true, false
	st, _ := CSPStatus(securityv1alpha1.ClusterSecurityPolicyStatus{}, policy, 1, o, at(100))
	expectConditions(t, st, 1, map[string]string{
		"Ready": "False/DryRun", "Accepted": "True/Compiled", "Programmed": "False/DryRun",
	})
}

// TestCSPStatusTransitions follows one policy through a change: lastTransitionTime moves only when
// a condition's status does, Reconciling disappears when the work is done, and recomputing from
// the same outcome changes nothing (so an unchanged sync writes no status).
func TestCSPStatusTransitions(t *testing.T) {
	m := model(compiled)
	st, _ := CSPStatus(securityv1alpha1.ClusterSecurityPolicyStatus{}, policy, 1, synced(m), at(100))
	again, _ := CSPStatus(st, policy, 1, synced(m), at(200))
	if !equality.Semantic.DeepEqual(st, again) {
		t.Fatalf("recomputing from the same outcome changed the status:\n%+v\n%+v", st, again)
	}

	pending, _ := CSPStatus(st, policy, 2, &Outcome{Model: m}, at(300))
	if c := meta.FindStatusCondition(pending.Conditions, "Accepted"); !c.LastTransitionTime.Equal(&metav1.Time{Time: at(100).Time}) || c.ObservedGeneration != 2 {
		t.Errorf("Accepted stayed True: lastTransitionTime %v (want 100), observedGeneration %d", c.LastTransitionTime, c.ObservedGeneration)
	}
	if c := meta.FindStatusCondition(pending.Conditions, "Programmed"); !c.LastTransitionTime.Equal(&metav1.Time{Time: at(300).Time}) {
		t.Errorf("Programmed turned False: lastTransitionTime %v, want 300", c.LastTransitionTime)
	}

	done, _ := CSPStatus(pending, policy, 2, synced(m), at(400))
	expectConditions(t, done, 2, map[string]string{
		"Ready": "True/Programmed", "Accepted": "True/Compiled", "Programmed": "True/Programmed",
	})
	if len(pending.Conditions) != 4 {
		t.Errorf("the pending status has %d conditions, want Reconciling too", len(pending.Conditions))
	}
}

func TestCSPStatusUnknownPolicy(t *testing.T) {
	prev := securityv1alpha1.ClusterSecurityPolicyStatus{ObservedGeneration: 1}
	st, ok := CSPStatus(prev, "created-after-the-list", 2, synced(model(compiled)), at(100))
	if ok || !equality.Semantic.DeepEqual(st, prev) {
		t.Errorf("got %+v, %v; want the previous status and false", st, ok)
	}
}

func TestCSPStatusBoundsLists(t *testing.T) {
	res := compiled
	res.Groups = nil
	ids := map[string]string{}
	for i := range 300 {
		k := "tag-" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26))
		res.Groups = append(res.Groups, k)
		ids[k] = "grp-" + k
	}
	res.Warnings = []ir.Warning{{Code: ir.WarnExternalGroup, Message: strings.Repeat("é", 5000)}}
	o := synced(model(res))
	o.Owned = owned(map[string]string{policyRef.Key(): "sec-1"}, ids)
	st, _ := CSPStatus(securityv1alpha1.ClusterSecurityPolicyStatus{}, policy, 1, o, at(100))
	if len(st.Realized.GroupIDs) != maxGroupIDs || st.Realized.GroupCount != 300 {
		t.Errorf("%d group ids listed of %d, want %d", len(st.Realized.GroupIDs), st.Realized.GroupCount, maxGroupIDs)
	}
	msg := meta.FindStatusCondition(st.Conditions, "Accepted").Message
	if len(msg) > maxMessage || !strings.HasSuffix(msg, "(truncated)") || !strings.Contains(msg, "é") {
		t.Errorf("message of %d bytes, want at most %d and marked truncated", len(msg), maxMessage)
	}
}
