package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ClusterSecurityPolicy is a security-team policy for the whole cluster. Security-tier policies are
// evaluated before any NetworkPolicy; Baseline-tier policies only where no NetworkPolicy decided.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=csp,categories=microseg
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Tier",type=string,JSONPath=`.spec.tier`
// +kubebuilder:printcolumn:name="Enforcement",type=string,JSONPath=`.spec.enforcement`
// +kubebuilder:printcolumn:name="Priority",type=integer,JSONPath=`.spec.priority`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ClusterSecurityPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ClusterSecurityPolicySpec   `json:"spec"`
	Status ClusterSecurityPolicyStatus `json:"status,omitempty"`
}

// ClusterSecurityPolicyList is a list of ClusterSecurityPolicies.
//
// +kubebuilder:object:root=true
type ClusterSecurityPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterSecurityPolicy `json:"items"`
}
