package ir

import (
	"sort"
	"strings"
)

// Model is the compiled DFW configuration of one cluster.
type Model struct {
	// ClusterID is the cluster name NCP uses in the ncp/cluster tag; the apply step also tags every
	// object it creates with it.
	ClusterID string `json:"clusterID"`
	// Sections in DFW evaluation order: Security tier, developer allow sections, developer
	// isolation sections, Baseline tier.
	Sections []Section `json:"sections"`
	// Groups referenced by the rules (directly or as members of nested groups), sorted by key.
	Groups []Group `json:"groups"`
	// Warnings for everything NSX cannot express exactly, sorted.
	Warnings []Warning `json:"warnings,omitempty"`
	// Objects is one result per input ClusterSecurityPolicy and NetworkPolicy, sorted by object.
	Objects []ObjectResult `json:"objects"`
	// PortLoad is the busiest pod port (set by the compiler; UsageOf reports it).
	PortLoad *PortLoad `json:"portLoad,omitempty"`
}

// Tier is the policy tier a section belongs to.
type Tier string

// Tiers, in DFW order.
const (
	TierSecurity  Tier = "Security"
	TierDeveloper Tier = "Developer"
	TierBaseline  Tier = "Baseline"
)

// Section is one DFW section (LAYER3, stateful) with its rules in order.
type Section struct {
	// Key is stable across compiles: "csp/<name>" for a ClusterSecurityPolicy, "np/<bucket>" for
	// a section of the developer tier, which holds the NetworkPolicy rules of the namespaces whose
	// name hashes into the bucket (a binary prefix, "np/" alone for the first bucket); a section
	// split past the rules-per-section limit continues in "<key>#2", "<key>#3", ...
	Key         string `json:"key"`
	DisplayName string `json:"displayName"`
	Tier        Tier   `json:"tier"`
	Rules       []Rule `json:"rules"`
	// Hash is a content hash of the section (display name and rules).
	Hash string `json:"hash"`
}

// Action of a rule (the DFW's own names).
type Action string

// Actions.
const (
	ActionAllow  Action = "ALLOW"
	ActionDrop   Action = "DROP"
	ActionReject Action = "REJECT"
)

// Direction of a rule, seen from the logical port it is applied to.
type Direction string

// Directions: IN is evaluated at the destination's port, OUT at the source's port.
const (
	DirectionIn  Direction = "IN"
	DirectionOut Direction = "OUT"
)

// IPProtocol restricts a rule to one address family.
type IPProtocol string

// IP protocols.
const (
	IPv4     IPProtocol = "IPV4"
	IPv6     IPProtocol = "IPV6"
	IPv4IPv6 IPProtocol = "IPV4_IPV6"
)

// Rule is one DFW rule.
type Rule struct {
	// Key is stable across compiles: "<origin>/<ingress|egress>/<rule>/<n>" where n numbers the
	// NSX rules one source rule became.
	Key         string     `json:"key"`
	DisplayName string     `json:"displayName"`
	Action      Action     `json:"action"`
	Direction   Direction  `json:"direction"`
	IPProtocol  IPProtocol `json:"ipProtocol"`
	// AppliedTo is never empty: microseg never applies a rule to every vNIC. Its refs are groups
	// of logical ports only (TagGroup, or NestedGroup of those).
	AppliedTo []Ref `json:"appliedTo"`
	// Sources and Destinations: an empty list is "any". With the Excluded flag the rule matches
	// addresses NOT in the (non-empty) list.
	Sources              []Ref `json:"sources,omitempty"`
	SourcesExcluded      bool  `json:"sourcesExcluded,omitempty"`
	Destinations         []Ref `json:"destinations,omitempty"`
	DestinationsExcluded bool  `json:"destinationsExcluded,omitempty"`
	// Services: an empty list is "any protocol, any port"; otherwise the union of the entries.
	Services []Service `json:"services,omitempty"`
	Logged   bool      `json:"logged,omitempty"`
	// Disabled rules are realized in NSX but not enforced (NSX's rule "disabled" flag): the rules
	// of a Staged ClusterSecurityPolicy, which NSX admins can see and which take effect with one
	// write when the policy is enforced. Backends must realize the flag; nothing else reads it.
	Disabled bool   `json:"disabled,omitempty"`
	Origin   Origin `json:"origin"`
	// Hash is a content hash of everything above.
	Hash string `json:"hash"`
}

// Ref is one entry of applied_tos, sources or destinations. Exactly one field is set.
type Ref struct {
	// Group is the key of a Group in the Model.
	Group string `json:"group,omitempty"`
	// CIDR is a literal address or prefix in canonical form (IPv4Address / IPv6Address reference).
	CIDR string `json:"cidr,omitempty"`
	// NSXGroup is the display name of an NSGroup that exists in NSX and that microseg does not own.
	NSXGroup string `json:"nsxGroup,omitempty"`
}

// IsIPv6 reports whether a CIDR ref is an IPv6 literal.
func (r Ref) IsIPv6() bool { return strings.Contains(r.CIDR, ":") }

// ServiceKind says which NSServiceElement an inline service becomes.
type ServiceKind string

// Service kinds.
const (
	// ServiceL4PortSet is an L4PortSetNSService (TCP or UDP, destination ports).
	ServiceL4PortSet ServiceKind = "L4PortSet"
	// ServiceIPProtocol is an IPProtocolNSService (an IP protocol number, every port).
	ServiceIPProtocol ServiceKind = "IPProtocol"
)

// Service is one inline service entry of a rule.
type Service struct {
	Kind ServiceKind `json:"kind"`
	// L4Protocol is TCP or UDP (L4PortSet).
	L4Protocol string `json:"l4Protocol,omitempty"`
	// DestinationPorts are "80" or "8000-8080" entries; empty means every port (L4PortSet).
	DestinationPorts []string `json:"destinationPorts,omitempty"`
	// ProtocolNumber is the IP protocol number (IPProtocol), 1..254.
	ProtocolNumber int `json:"protocolNumber,omitempty"`
}

// GroupKind says which NSX object a Group becomes.
type GroupKind string

// Group kinds.
const (
	// KindTagGroup is an NSGroup whose membership_criteria are LogicalPort tag expressions.
	KindTagGroup GroupKind = "TagGroup"
	// KindIPSet is an IPSet (one address family).
	KindIPSet GroupKind = "IPSet"
	// KindNestedGroup is an NSGroup whose static members are other groups.
	KindNestedGroup GroupKind = "NestedGroup"
)

// Family of an IPSet.
type Family string

// Address families.
const (
	FamilyIPv4 Family = "IPv4"
	FamilyIPv6 Family = "IPv6"
)

// Group is an NSX grouping object owned by microseg, content-addressed.
type Group struct {
	// Key is derived from the content hash ("tag-…", "ips4-…", "ips6-…", "nest-…").
	Key         string    `json:"key"`
	DisplayName string    `json:"displayName"`
	Kind        GroupKind `json:"kind"`
	// Criteria (TagGroup) are ORed; each is an NSGroupComplexExpression of LogicalPort tag
	// expressions (or a single tag expression when it has one tag).
	Criteria []Criterion `json:"criteria,omitempty"`
	// Family and IPs (IPSet): addresses, CIDRs or "a-b" ranges, sorted, all of Family.
	Family Family   `json:"family,omitempty"`
	IPs    []string `json:"ips,omitempty"`
	// Members (NestedGroup): keys of member groups of this model, sorted.
	Members []string `json:"members,omitempty"`
	// ExternalMembers (NestedGroup): display names of existing NSX NSGroups, sorted.
	ExternalMembers []string `json:"externalMembers,omitempty"`
	// Hash is the content hash the key was derived from.
	Hash string `json:"hash"`
	// Reason says why the compiler needed this group beyond the tag groups of exact selectors
	// (empty for those): an IPSet or NestedGroup, or a tag group that only bounds an address
	// restriction. Not part of the content hash: a group needed for several reasons carries the
	// smallest code, so that the result does not depend on compilation order.
	Reason GroupReason `json:"reason,omitempty"`
}

// GroupReason is why a group exists beyond the tag groups of exact selectors (Usage counts groups
// by reason).
type GroupReason string

// Group reasons.
const (
	// ReasonNotIn: a selector with NotIn, DoesNotExist or In "" (NCP tags cannot express them),
	// realized by the pods' addresses.
	ReasonNotIn GroupReason = "NotIn"
	// ReasonUntrustedLabels: a selector whose label tags are not exact in its scope (a pod with
	// more labels than NCP copies, a key longer than a tag scope, a key in NCP's reserved scopes,
	// keys or values spelled differently up to case).
	ReasonUntrustedLabels GroupReason = "UntrustedLabels"
	// ReasonNamedPort: the pods of a named port that resolve to one number.
	ReasonNamedPort GroupReason = "NamedPortSplit"
	// ReasonPass: what is left of a set once an earlier Pass rule is subtracted.
	ReasonPass GroupReason = "PassDifference"
	// ReasonForged: a tag group that a pod's forged identity labels would fool.
	ReasonForged GroupReason = "ForgedIdentityLabel"
	// ReasonOverLimit: an NSX limit (criteria, expressions or members per group, entries per
	// IPSet, references per rule field, literal addresses per peer, the selector term budget).
	ReasonOverLimit GroupReason = "OverLimit"
)

// Criterion is a conjunction of tag matches on one logical port.
type Criterion struct {
	Tags []TagMatch `json:"tags"`
}

// TagMatch matches a logical port tag: scope equal to Scope and tag equal to Tag; an empty Tag
// means "any value" (the scope-only form, i.e. label Exists).
type TagMatch struct {
	Scope string `json:"scope"`
	Tag   string `json:"tag,omitempty"`
}

// ObjectRef names a Kubernetes object.
type ObjectRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// Object kinds.
const (
	KindClusterSecurityPolicy = "ClusterSecurityPolicy"
	KindNetworkPolicy         = "NetworkPolicy"
	// KindPod names a pod; only warnings name pods (ForgedIdentityLabel).
	KindPod = "Pod"
)

// String is "Kind/name" or "Kind/namespace/name".
func (o ObjectRef) String() string {
	if o.Namespace == "" {
		return o.Kind + "/" + o.Name
	}
	return o.Kind + "/" + o.Namespace + "/" + o.Name
}

// Key is the object's own key, the one every part of microseg uses for it: "csp/<name>" for a
// ClusterSecurityPolicy, "np/<namespace>/<name>" for a NetworkPolicy (the compiler's section and
// rule keys start with it, and rule_tag carries it into NSX's packet logs). Another kind gives
// its String form in lower case.
func (o ObjectRef) Key() string {
	switch o.Kind {
	case KindClusterSecurityPolicy:
		return "csp/" + o.Name
	case KindNetworkPolicy:
		return "np/" + o.Namespace + "/" + o.Name
	}
	return strings.ToLower(o.String())
}

// Less orders objects by kind, namespace, name.
func (o ObjectRef) Less(p ObjectRef) bool {
	if o.Kind != p.Kind {
		return o.Kind < p.Kind
	}
	if o.Namespace != p.Namespace {
		return o.Namespace < p.Namespace
	}
	return o.Name < p.Name
}

// Origin says which source rule a DFW rule implements.
type Origin struct {
	Object ObjectRef `json:"object"`
	// Rule is the CSP rule name, "ingress/<i>" or "egress/<i>" for a NetworkPolicy rule, or
	// "isolate/ingress" / "isolate/egress" for a NetworkPolicy's isolation rule.
	Rule string `json:"rule"`
	// Also lists the other source rules this DFW rule realizes when the compiler merged rules
	// into one: the isolation rule of a namespace and direction (one for every NetworkPolicy
	// isolating pods there), or allow rules whose matches differ in one field only. Object and
	// Rule are the first of them; Also is sorted by object, then rule, and its entries have no
	// Also of their own.
	Also []Origin `json:"also,omitempty"`
}

// All returns the origin and every origin in Also, the first one without its Also list.
func (o Origin) All() []Origin {
	out := make([]Origin, 0, 1+len(o.Also))
	out = append(out, Origin{Object: o.Object, Rule: o.Rule})
	return append(out, o.Also...)
}

// Warning codes.
const (
	// WarnSCTPPorts: SCTP ports cannot be expressed in an L4PortSetNSService.
	WarnSCTPPorts = "SCTPPortsNotExpressible"
	// WarnExternalGroup: an NSX group's membership is unknown to the compiler and was assumed to be
	// disjoint from the peers it was compared with.
	WarnExternalGroup = "ExternalGroupMembershipUnknown"
	// WarnPassTooComplex: the exact Pass restriction of a rule exceeded the piece budget and the
	// rule was realized fail-closed.
	WarnPassTooComplex = "PassRestrictionTooComplex"
	// WarnInvalid: the object is invalid and was not compiled.
	WarnInvalid = "Invalid"
	// WarnForgedIdentityLabel: a pod's label uses a tag scope NCP reserves for its own identity
	// tags (ncp/…), so its logical port carries a forged identity tag. On a policy: the tag group
	// of this rule's subjects or peers would have matched that pod, and the rule uses addresses
	// instead. On the pod (Object.Kind Pod): the label, and every rule it affected.
	WarnForgedIdentityLabel = "ForgedIdentityLabel"
)

// Warning reports something about one object that NSX cannot express exactly, or an object that
// could not be compiled.
type Warning struct {
	Object  ObjectRef `json:"object"`
	Rule    string    `json:"rule,omitempty"`
	Code    string    `json:"code"`
	Message string    `json:"message"`
}

// ObjectResult is what one source object compiled into.
type ObjectResult struct {
	Object ObjectRef `json:"object"`
	// Accepted is false when the object is invalid and contributes nothing (Error says why).
	Accepted bool   `json:"accepted"`
	Error    string `json:"error,omitempty"`
	// Sections holding this object's rules, in DFW order.
	Sections []string `json:"sections,omitempty"`
	// RuleCount is the number of DFW rules this object compiled into.
	RuleCount int `json:"ruleCount"`
	// Groups are the keys of every group its rules reference, transitively, sorted.
	Groups   []string  `json:"groups,omitempty"`
	Warnings []Warning `json:"warnings,omitempty"`
}

// GroupByKey returns the group with that key (Groups are sorted by key).
func (m *Model) GroupByKey(key string) (*Group, bool) {
	i := sort.Search(len(m.Groups), func(i int) bool { return m.Groups[i].Key >= key })
	if i < len(m.Groups) && m.Groups[i].Key == key {
		return &m.Groups[i], true
	}
	return nil, false
}

// Object returns the result for one source object.
func (m *Model) Object(o ObjectRef) (*ObjectResult, bool) {
	i := sort.Search(len(m.Objects), func(i int) bool { return !m.Objects[i].Object.Less(o) })
	if i < len(m.Objects) && m.Objects[i].Object == o {
		return &m.Objects[i], true
	}
	return nil, false
}

// RuleCount is the number of rules over all sections.
func (m *Model) RuleCount() int {
	n := 0
	for i := range m.Sections {
		n += len(m.Sections[i].Rules)
	}
	return n
}
