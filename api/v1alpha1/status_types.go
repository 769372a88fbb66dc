package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ClusterSecurityPolicyStatus is what microseg observed and realized. It follows the kstatus
// conventions that Flux and Argo CD rely on: observedGeneration says which spec the conditions
// describe, Ready summarizes, and Reconciling/Stalled are set only while they are true.
type ClusterSecurityPolicyStatus struct {
	// ObservedGeneration is the metadata.generation the conditions were computed for.
	//
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready (the summary), Accepted (compiled), Programmed (realized in NSX), and the
	// kstatus conditions Reconciling and Stalled while they apply.
	//
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	// +kubebuilder:validation:MaxItems=8
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// Realized describes what this policy became in the NSX distributed firewall.
	//
	// +optional
	Realized *RealizedState `json:"realized,omitempty"`

	// StagedImpact is set while the policy is Staged: the connections between the cluster's pods
	// whose verdict would change if it were enforced, on the ports it names.
	//
	// +optional
	StagedImpact *StagedImpact `json:"stagedImpact,omitempty"`
}

// StagedImpact is what enforcing a Staged policy would change, computed from the last sync's
// compiled DFW and the pods it was compiled from, and recomputed after every sync (a pod or
// policy change). The work is bounded: at most Evaluated connections (pod pair and port) are
// evaluated; LowerBound says that the bound was reached and the counts are lower bounds.
type StagedImpact struct {
	// Flips is the number of connections (source pod, destination pod, port) whose verdict
	// would change: NewlyDenied + NewlyAllowed.
	Flips int32 `json:"flips"`
	// NewlyDenied connections are allowed now and would be denied.
	NewlyDenied int32 `json:"newlyDenied"`
	// NewlyAllowed connections are denied now and would be allowed.
	NewlyAllowed int32 `json:"newlyAllowed"`
	// Evaluated is the number of connections evaluated: every pod pair in which the policy's
	// subject is the source (egress) or the destination (ingress), on every port in Ports.
	Evaluated int32 `json:"evaluated"`
	// LowerBound is true when the evaluation stopped at the operator's bound before it had
	// seen every connection: the counts are then at least what they say.
	//
	// +optional
	LowerBound bool `json:"lowerBound,omitempty"`
	// Ports evaluated ("8080/TCP"): those the policy names (numbers, both ends of ranges, named
	// ports as the pods number them), and when a rule names none, those every policy names and
	// 80/TCP.
	//
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	// +optional
	Ports []string `json:"ports,omitempty"`
	// Examples are a few of the connections that would flip, in a stable order.
	//
	// +kubebuilder:validation:MaxItems=5
	// +listType=atomic
	// +optional
	Examples []ImpactExample `json:"examples,omitempty"`
	// Message says what could not be computed, if anything.
	//
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Message string `json:"message,omitempty"`
}

// ImpactExample is one connection a Staged policy would change.
type ImpactExample struct {
	// Source and Destination are pods, "namespace/name".
	Source      string `json:"source"`
	Destination string `json:"destination"`
	// Port is "8080/TCP".
	Port string `json:"port"`
	// Now and IfEnforced are "allowed" or "denied".
	Now        string `json:"now"`
	IfEnforced string `json:"ifEnforced"`
	// Rule is the policy's rule that would decide ("ingress/<name>", "egress/<name>"), or the
	// rule of another object that would decide once this policy passes the flow on.
	Rule string `json:"rule"`
}

// RealizedState is what a ClusterSecurityPolicy became in NSX.
type RealizedState struct {
	// SectionIDs name what holds this policy's rules in NSX, in evaluation order: firewall
	// section ids on the Manager API, security policy paths (/infra/domains/…/security-policies/…)
	// on the Policy API. A policy is split over several only past NSX's 1,000 rules per section.
	//
	// +kubebuilder:validation:MaxItems=64
	// +listType=atomic
	// +optional
	SectionIDs []string `json:"sectionIDs,omitempty"`

	// RuleCount is the number of NSX firewall rules this policy compiled into.
	// +optional
	RuleCount int32 `json:"ruleCount,omitempty"`

	// GroupCount is the number of NSX groups (NSGroups and IPSets, or Policy groups) its rules
	// reference.
	// Groups are shared by content with other policies.
	// +optional
	GroupCount int32 `json:"groupCount,omitempty"`

	// GroupIDs name those NSX groups, sorted (ids on the Manager API, group paths on the Policy
	// API); at most 256 are listed.
	//
	// +kubebuilder:validation:MaxItems=256
	// +listType=atomic
	// +optional
	GroupIDs []string `json:"groupIDs,omitempty"`
}

// Condition types of a ClusterSecurityPolicy.
const (
	// ConditionReady is the summary: True when the current generation is Accepted and Programmed.
	ConditionReady = "Ready"
	// ConditionAccepted is True when the policy compiled; warnings go in its message.
	ConditionAccepted = "Accepted"
	// ConditionProgrammed is True when the policy's sections and groups are in NSX at the current
	// generation.
	ConditionProgrammed = "Programmed"
	// ConditionReconciling (kstatus, abnormal-true) is True while a change is being realized.
	ConditionReconciling = "Reconciling"
	// ConditionStalled (kstatus, abnormal-true) is True when progress needs a human.
	ConditionStalled = "Stalled"
)

// Condition reasons. Short, CamelCase, each says what to look at next.
const (
	// ReasonCompiled: the policy compiled (Accepted=True).
	ReasonCompiled = "Compiled"
	// ReasonCompiledWithWarnings: compiled, but NSX cannot express something exactly; see the message.
	ReasonCompiledWithWarnings = "CompiledWithWarnings"
	// ReasonInvalidReference: the policy names something that does not exist (an NSGroup).
	ReasonInvalidReference = "InvalidReference"
	// ReasonProgrammed: the policy is realized in NSX (Programmed=True, Ready=True).
	ReasonProgrammed = "Programmed"
	// ReasonPending: a sync that realizes this generation has not finished yet.
	ReasonPending = "Pending"
	// ReasonNSXUnavailable: NSX Manager could not be reached or refused the change; retried.
	ReasonNSXUnavailable = "NSXUnavailable"
	// ReasonNSXRejected: NSX Manager rejected the configuration; the message has NSX's error.
	ReasonNSXRejected = "NSXRejected"
	// ReasonDryRun: the operator runs in dry-run mode and writes nothing to NSX.
	ReasonDryRun = "DryRun"
	// ReasonInvalidSpec: the compiler rejected the policy (Accepted=False); it contributes nothing
	// to the DFW until its spec is fixed.
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonInvalidConfiguration: the operator's own configuration does not fit what NSX holds
	// (an --anchor-section that is missing or ambiguous); fix the flag or NSX.
	ReasonInvalidConfiguration = "InvalidConfiguration"
	// ReasonBudgetExceeded: the compiled DFW needs more NSX objects than microseg's budget
	// (--nsx-max-rules and the other --nsx-max-* flags); NSX keeps the last configuration that
	// fit, and the message names the largest contributors.
	ReasonBudgetExceeded = "BudgetExceeded"
)
