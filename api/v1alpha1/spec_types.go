package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Tier says where a ClusterSecurityPolicy is evaluated relative to developers' NetworkPolicies.
//
// +kubebuilder:validation:Enum=Security;Baseline
type Tier string

const (
	// TierSecurity policies are evaluated before every NetworkPolicy; developers cannot override them.
	TierSecurity Tier = "Security"
	// TierBaseline policies apply only to traffic that no NetworkPolicy decided.
	TierBaseline Tier = "Baseline"
)

// Enforcement says whether a ClusterSecurityPolicy's rules take effect.
//
// +kubebuilder:validation:Enum=Enforced;Staged
type Enforcement string

const (
	// EnforcementEnforced policies decide traffic.
	EnforcementEnforced Enforcement = "Enforced"
	// EnforcementStaged policies change no traffic: their rules are realized in NSX disabled, so
	// that NSX admins see them, and the status reports which connections they would change if
	// enforced (status.stagedImpact). Enforcing one without Pass rules is a single NSX write.
	EnforcementStaged Enforcement = "Staged"
)

// RuleAction is what happens to a connection that matches a rule.
//
// +kubebuilder:validation:Enum=Allow;Deny;Reject;Pass
type RuleAction string

const (
	// ActionAllow accepts the connection; no later rule of this direction is evaluated.
	ActionAllow RuleAction = "Allow"
	// ActionDeny silently drops the connection.
	ActionDeny RuleAction = "Deny"
	// ActionReject drops the connection and tells the client (TCP RST or ICMP unreachable).
	ActionReject RuleAction = "Reject"
	// ActionPass skips the rest of this tier: the next tier (NetworkPolicies for the Security tier,
	// the NSX sections below microseg for the Baseline tier) decides.
	ActionPass RuleAction = "Pass"
)

// ClusterSecurityPolicySpec is what the security team asks for.
//
// +kubebuilder:validation:XValidation:rule="!has(self.ingress) || self.ingress.all(r, self.ingress.exists_one(s, s.name == r.name))",message="ingress rule names must be unique within the policy"
// +kubebuilder:validation:XValidation:rule="!has(self.egress) || self.egress.all(r, self.egress.exists_one(s, s.name == r.name))",message="egress rule names must be unique within the policy"
type ClusterSecurityPolicySpec struct {
	// Tier is Security (evaluated before NetworkPolicies) or Baseline (after them).
	//
	// +kubebuilder:default=Security
	// +optional
	Tier Tier `json:"tier,omitempty"`

	// Enforcement is Enforced (default: the rules decide traffic) or Staged (the rules are in NSX
	// but disabled; status.stagedImpact says what enforcing the policy would change).
	//
	// +kubebuilder:default=Enforced
	// +optional
	Enforcement Enforcement `json:"enforcement,omitempty"`

	// Priority orders policies within a tier: lower numbers are evaluated first, ties by name.
	//
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	// +required
	Priority int32 `json:"priority"`

	// Subject selects the pods this policy protects (ingress) and constrains (egress).
	//
	// +required
	Subject Subject `json:"subject"`

	// Ingress rules, evaluated in order for connections to the subject's pods; the first match decides.
	// At most 100: a tenth of the rules of one NSX section, so that the policy fits one section even
	// when its rules are split (address families, Pass rules, NSX's 128 references per rule).
	//
	// +kubebuilder:validation:MaxItems=100
	// +listType=atomic
	// +optional
	Ingress []IngressRule `json:"ingress,omitempty"`

	// Egress rules, evaluated in order for connections from the subject's pods; the first match decides.
	// At most 100, as ingress.
	//
	// +kubebuilder:validation:MaxItems=100
	// +listType=atomic
	// +optional
	Egress []EgressRule `json:"egress,omitempty"`
}

// Subject selects pods either by their namespace or by namespace and pod labels. Exactly one is set.
//
// +kubebuilder:validation:XValidation:rule="has(self.namespaces) != has(self.pods)",message="subject must set exactly one of namespaces or pods"
type Subject struct {
	// Namespaces selects every pod in the namespaces whose labels match.
	// Label selectors take at most 16 matchLabels, 16 matchExpressions and 64 values per
	// expression: NCP puts a pod's labels on its NSX port as tags (at most 30 per object), so a
	// selector naming more keys than that can never match by tags.
	//
	// +kubebuilder:validation:XValidation:rule="!has(self.matchLabels) || self.matchLabels.size() <= 16",message="a label selector may have at most 16 matchLabels"
	// +kubebuilder:validation:XValidation:rule="!has(self.matchExpressions) || self.matchExpressions.size() <= 16",message="a label selector may have at most 16 matchExpressions"
	// +kubebuilder:validation:XValidation:rule="!has(self.matchExpressions) || self.matchExpressions.size() > 16 || [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].all(i, i >= self.matchExpressions.size() || !has(self.matchExpressions[i].values) || self.matchExpressions[i].values.size() <= 64)",message="a matchExpressions entry may list at most 64 values"
	// +optional
	Namespaces *metav1.LabelSelector `json:"namespaces,omitempty"`

	// Pods selects pods by namespace labels and pod labels.
	//
	// +optional
	Pods *NamespacedPods `json:"pods,omitempty"`
}

// NamespacedPods selects the pods matching podSelector in the namespaces matching namespaceSelector.
// An empty selector matches everything.
type NamespacedPods struct {
	// NamespaceSelector selects the namespaces (limits as for subject.namespaces).
	//
	// +kubebuilder:validation:XValidation:rule="!has(self.matchLabels) || self.matchLabels.size() <= 16",message="a label selector may have at most 16 matchLabels"
	// +kubebuilder:validation:XValidation:rule="!has(self.matchExpressions) || self.matchExpressions.size() <= 16",message="a label selector may have at most 16 matchExpressions"
	// +kubebuilder:validation:XValidation:rule="!has(self.matchExpressions) || self.matchExpressions.size() > 16 || [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].all(i, i >= self.matchExpressions.size() || !has(self.matchExpressions[i].values) || self.matchExpressions[i].values.size() <= 64)",message="a matchExpressions entry may list at most 64 values"
	// +required
	NamespaceSelector metav1.LabelSelector `json:"namespaceSelector"`

	// PodSelector selects the pods in those namespaces (limits as for subject.namespaces).
	//
	// +kubebuilder:validation:XValidation:rule="!has(self.matchLabels) || self.matchLabels.size() <= 16",message="a label selector may have at most 16 matchLabels"
	// +kubebuilder:validation:XValidation:rule="!has(self.matchExpressions) || self.matchExpressions.size() <= 16",message="a label selector may have at most 16 matchExpressions"
	// +kubebuilder:validation:XValidation:rule="!has(self.matchExpressions) || self.matchExpressions.size() > 16 || [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].all(i, i >= self.matchExpressions.size() || !has(self.matchExpressions[i].values) || self.matchExpressions[i].values.size() <= 64)",message="a matchExpressions entry may list at most 64 values"
	// +required
	PodSelector metav1.LabelSelector `json:"podSelector"`
}

// IngressRule matches connections to the subject's pods.
type IngressRule struct {
	// Name identifies the rule in status, events and NSX rule names. Unique within the policy's ingress.
	//
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +required
	Name string `json:"name"`

	// Action for connections that match: Allow, Deny, Reject or Pass.
	//
	// +required
	Action RuleAction `json:"action"`

	// From lists the sources this rule matches; a connection matches if it comes from any of them.
	// At most 25 (NSX allows 128 sources per rule; the compiler splits past that).
	//
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=25
	// +listType=atomic
	// +required
	From []Peer `json:"from"`

	// Ports restricts the rule to these destination ports; empty means every port and protocol.
	// At most 25 (NSX allows 128 services per rule and 15 ports per service entry).
	//
	// +kubebuilder:validation:MaxItems=25
	// +listType=atomic
	// +optional
	Ports []Port `json:"ports,omitempty"`

	// Logged turns on NSX DFW packet logging for this rule.
	//
	// +optional
	Logged bool `json:"logged,omitempty"`
}

// EgressRule matches connections from the subject's pods.
type EgressRule struct {
	// Name identifies the rule in status, events and NSX rule names. Unique within the policy's egress.
	//
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +required
	Name string `json:"name"`

	// Action for connections that match: Allow, Deny, Reject or Pass.
	//
	// +required
	Action RuleAction `json:"action"`

	// To lists the destinations this rule matches; a connection matches if it goes to any of them.
	// At most 25 (NSX allows 128 destinations per rule; the compiler splits past that).
	//
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=25
	// +listType=atomic
	// +required
	To []Peer `json:"to"`

	// Ports restricts the rule to these destination ports; empty means every port and protocol.
	// At most 25 (NSX allows 128 services per rule and 15 ports per service entry).
	//
	// +kubebuilder:validation:MaxItems=25
	// +listType=atomic
	// +optional
	Ports []Port `json:"ports,omitempty"`

	// Logged turns on NSX DFW packet logging for this rule.
	//
	// +optional
	Logged bool `json:"logged,omitempty"`
}

// Peer is one side of a connection. Exactly one field is set.
//
// +kubebuilder:validation:XValidation:rule="(has(self.namespaces) ? 1 : 0) + (has(self.pods) ? 1 : 0) + (has(self.networks) ? 1 : 0) + (has(self.nsxGroups) ? 1 : 0) == 1",message="a peer must set exactly one of namespaces, pods, networks or nsxGroups"
type Peer struct {
	// Namespaces matches every pod in the namespaces whose labels match (limits as for
	// subject.namespaces).
	//
	// +kubebuilder:validation:XValidation:rule="!has(self.matchLabels) || self.matchLabels.size() <= 16",message="a label selector may have at most 16 matchLabels"
	// +kubebuilder:validation:XValidation:rule="!has(self.matchExpressions) || self.matchExpressions.size() <= 16",message="a label selector may have at most 16 matchExpressions"
	// +kubebuilder:validation:XValidation:rule="!has(self.matchExpressions) || self.matchExpressions.size() > 16 || [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].all(i, i >= self.matchExpressions.size() || !has(self.matchExpressions[i].values) || self.matchExpressions[i].values.size() <= 64)",message="a matchExpressions entry may list at most 64 values"
	// +optional
	Namespaces *metav1.LabelSelector `json:"namespaces,omitempty"`

	// Pods matches pods by namespace labels and pod labels.
	//
	// +optional
	Pods *NamespacedPods `json:"pods,omitempty"`

	// Networks matches these IPv4 or IPv6 CIDRs (pod IPs inside them included). At most 25; past
	// 16 the compiler puts them into NSX IPSets.
	//
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=25
	// +listType=atomic
	// +optional
	Networks []CIDR `json:"networks,omitempty"`

	// NSXGroups matches the members of NSGroups that the security team keeps in NSX, by display name
	// (for example physical database servers). microseg only references them, never changes them.
	// At most 25 names of at most 255 characters (NSX's display name limit).
	//
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=25
	// +listType=atomic
	// +optional
	NSXGroups []NSXGroupName `json:"nsxGroups,omitempty"`
}

// CIDR is an IPv4 or IPv6 network in canonical form, such as 10.0.0.0/8 or 2001:db8::/32.
//
// +kubebuilder:validation:MaxLength=43
// +kubebuilder:validation:XValidation:rule="isCIDR(self)",message="must be a CIDR such as 10.0.0.0/8 or 2001:db8::/32"
// +kubebuilder:validation:XValidation:rule="!isCIDR(self) || cidr(self) == cidr(self).masked()",message="must be a network address with no host bits set, such as 10.0.0.0/8 rather than 10.0.0.1/8"
type CIDR string

// NSXGroupName is the display name of an NSGroup in NSX.
//
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=255
type NSXGroupName string

// Protocol is an L4 protocol.
//
// +kubebuilder:validation:Enum=TCP;UDP;SCTP
type Protocol string

const (
	ProtocolTCP  Protocol = "TCP"
	ProtocolUDP  Protocol = "UDP"
	ProtocolSCTP Protocol = "SCTP"
)

// Port matches a destination port: a number, a range (port to endPort), or a container port name
// resolved on each destination pod.
//
// +kubebuilder:validation:XValidation:rule="has(self.port) != has(self.namedPort)",message="a port sets exactly one of port (a number) or namedPort (a container port name)"
// +kubebuilder:validation:XValidation:rule="!has(self.endPort) || has(self.port)",message="endPort needs port: a range runs from port to endPort"
// +kubebuilder:validation:XValidation:rule="!has(self.endPort) || !has(self.port) || self.port <= self.endPort",message="port range start (port) must not be greater than its end (endPort)"
type Port struct {
	// Protocol is TCP (default), UDP or SCTP.
	//
	// +kubebuilder:default=TCP
	// +optional
	Protocol Protocol `json:"protocol,omitempty"`

	// Port is a destination port number, or the start of a range when endPort is set.
	//
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port *int32 `json:"port,omitempty"`

	// EndPort is the last port of the range that starts at port.
	//
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	EndPort *int32 `json:"endPort,omitempty"`

	// NamedPort is a container port name, resolved on each destination pod.
	//
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +optional
	NamedPort string `json:"namedPort,omitempty"`
}
