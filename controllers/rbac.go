// Package controllers holds the operator's reconcilers: the DFW reconciler, which compiles the
// policies and brings NSX to the result through the one sync path (internal/nsxsync) and publishes
// each sync's outcome; the status controller of ClusterSecurityPolicies; and the events controller
// of NetworkPolicies. See docs/architecture.md ("The operator").
package controllers

// The operator's own ClusterRole (config/rbac/role.yaml) is generated from these markers. Least
// privilege: the sync reads policies and the pods and namespaces they select, writes only the status
// of ClusterSecurityPolicies, and records Events on NetworkPolicies. Leader election (Leases) lives in
// its own namespaced Role (config/rbac/leader_election_role.yaml). The metrics endpoint asks the API
// server who a scraper is (TokenReview) and whether it may GET /metrics (SubjectAccessReview): see
// internal/operator/metrics.go and config/rbac/metrics_reader_role.yaml.
//
// +kubebuilder:rbac:groups=security.microseg.io,resources=clustersecuritypolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=security.microseg.io,resources=clustersecuritypolicies/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces;pods,verbs=get;list;watch
// +kubebuilder:rbac:groups="";events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create
