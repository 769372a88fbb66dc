package nsxclient

import "encoding/json"

// Hierarchical API (H-API) bodies: PATCH /policy/api/v1/infra takes an Infra whose children wrap
// the objects to create, update or delete, and NSX orders the work inside the tree itself (a
// group and the policy using it can travel together). GET /infra?filter=Type-... answers with
// the same shape.

// Infra is the root of a hierarchical body.
type Infra struct {
	ResourceType string      `json:"resource_type"`
	Children     []ChildNode `json:"children,omitempty"`

	// Read-only, in GET answers.
	ID       string `json:"id,omitempty"`
	Path     string `json:"path,omitempty"`
	Revision *int64 `json:"_revision,omitempty"`
}

// Child node resource types.
const (
	ChildResourceReference  = "ChildResourceReference"
	ChildDomainType         = "ChildDomain"
	ChildGroupType          = "ChildGroup"
	ChildSecurityPolicyType = "ChildSecurityPolicy"
	ChildRuleType           = "ChildRule"
	ChildSegmentType        = "ChildSegment"
	ChildSegmentPortType    = "ChildSegmentPort"
)

// ChildNode is one node of a hierarchical body: either a ChildResourceReference, which names an
// existing object (TargetType, ID) without changing it so that its Children apply beneath it,
// or a Child<Type> wrapper carrying one object in the field named after its type. With
// MarkedForDelete the wrapped object and its whole subtree are deleted.
type ChildNode struct {
	ResourceType    string `json:"resource_type"`
	ID              string `json:"id,omitempty"`
	MarkedForDelete bool   `json:"marked_for_delete,omitempty"`

	// ChildResourceReference.
	TargetType string      `json:"target_type,omitempty"`
	Children   []ChildNode `json:"children,omitempty"`

	Domain         *PolicyDomain   `json:"Domain,omitempty"`
	Group          *PolicyGroup    `json:"Group,omitempty"`
	SecurityPolicy *SecurityPolicy `json:"SecurityPolicy,omitempty"`
	Rule           *PolicyRule     `json:"Rule,omitempty"`
	Segment        *Segment        `json:"Segment,omitempty"`
	SegmentPort    *SegmentPort    `json:"SegmentPort,omitempty"`
}

// NewInfra returns an H-API body with these children.
func NewInfra(children ...ChildNode) Infra {
	return Infra{ResourceType: ResourceInfra, Children: children}
}

// DomainRef names an existing domain without changing it, so that children apply beneath it.
func DomainRef(domainID string, children ...ChildNode) ChildNode {
	return ChildNode{ResourceType: ChildResourceReference, ID: domainID, TargetType: ResourceDomain, Children: children}
}

// SegmentRef names an existing segment without changing it.
func SegmentRef(segmentID string, children ...ChildNode) ChildNode {
	return ChildNode{ResourceType: ChildResourceReference, ID: segmentID, TargetType: ResourceSegment, Children: children}
}

// ChildDomain creates or updates a domain (and its children).
func ChildDomain(d PolicyDomain) ChildNode {
	d.ResourceType = ResourceDomain
	return ChildNode{ResourceType: ChildDomainType, ID: d.ID, Domain: &d}
}

// ChildSegment creates or updates a segment (and its children).
func ChildSegment(seg Segment) ChildNode {
	seg.ResourceType = ResourceSegment
	return ChildNode{ResourceType: ChildSegmentType, ID: seg.ID, Segment: &seg}
}

// ChildGroup creates or updates a group. The wrapper repeats the object's id: NSX does not find
// the child without it.
func ChildGroup(g PolicyGroup) ChildNode {
	g.ResourceType = ResourceGroup
	return ChildNode{ResourceType: ChildGroupType, ID: g.ID, Group: &g}
}

// ChildPolicy creates or updates a security policy; its rules travel as ChildRule children
// (any Rules field is moved there).
func ChildPolicy(p SecurityPolicy, rules ...PolicyRule) ChildNode {
	p.ResourceType = ResourceSecurityPolicy
	for _, r := range append(p.Rules, rules...) {
		p.Children = append(p.Children, ChildRule(r))
	}
	p.Rules = nil
	return ChildNode{ResourceType: ChildSecurityPolicyType, ID: p.ID, SecurityPolicy: &p}
}

// ChildRule creates or updates a rule of the enclosing policy.
func ChildRule(r PolicyRule) ChildNode {
	r.ResourceType = ResourceRule
	return ChildNode{ResourceType: ChildRuleType, ID: r.ID, Rule: &r}
}

// ChildSegmentPort creates or updates a port of the enclosing segment.
func ChildSegmentPort(p SegmentPort) ChildNode {
	p.ResourceType = ResourceSegmentPort
	return ChildNode{ResourceType: ChildSegmentPortType, ID: p.ID, SegmentPort: &p}
}

// DeleteGroupNode, DeletePolicyNode, DeleteRuleNode and DeleteSegmentPortNode are H-API nodes that
// delete an object (and its subtree: a policy's rules).
func DeleteGroupNode(id string) ChildNode {
	return ChildNode{ResourceType: ChildGroupType, ID: id, MarkedForDelete: true,
		Group: &PolicyGroup{PolicyResource: PolicyResource{ID: id, ResourceType: ResourceGroup}}}
}

// DeletePolicyNode deletes a security policy and its rules.
func DeletePolicyNode(id string) ChildNode {
	return ChildNode{ResourceType: ChildSecurityPolicyType, ID: id, MarkedForDelete: true,
		SecurityPolicy: &SecurityPolicy{PolicyResource: PolicyResource{ID: id, ResourceType: ResourceSecurityPolicy}}}
}

// DeleteRuleNode deletes a rule of the enclosing policy.
func DeleteRuleNode(id string) ChildNode {
	return ChildNode{ResourceType: ChildRuleType, ID: id, MarkedForDelete: true,
		Rule: &PolicyRule{PolicyResource: PolicyResource{ID: id, ResourceType: ResourceRule}}}
}

// DeleteSegmentPortNode deletes a port of the enclosing segment.
func DeleteSegmentPortNode(id string) ChildNode {
	return ChildNode{ResourceType: ChildSegmentPortType, ID: id, MarkedForDelete: true,
		SegmentPort: &SegmentPort{PolicyResource: PolicyResource{ID: id, ResourceType: ResourceSegmentPort}}}
}

// PatchInfraOptions tune PatchInfra.
type PatchInfraOptions struct {
	// EnforceRevisionCheck makes NSX refuse the whole call when any object in it carries a
	// _revision that is not current (NSX's default, false, ignores them: last writer wins).
	EnforceRevisionCheck bool
}

// ReadInfraOptions select the subtree ReadInfra returns.
type ReadInfraOptions struct {
	// Types are the resource types to include, e.g. Domain, Group, SecurityPolicy, Rule
	// (sent as filter=Type-Domain|Group|...). At least one is required.
	Types []string
	// BasePath restricts the answer to the subtree under this path, e.g. /infra/domains/default.
	BasePath string
}

// MaxHierarchicalObjects is how many objects one PatchInfra may carry on a local manager.
const MaxHierarchicalObjects = 5000

// MarshalJSON sends a node marked for delete with only the id and resource_type of its object:
// nothing else of an object being deleted matters, and a half-filled object (a rule without
// action or groups) would otherwise go out with empty required fields.
func (ch ChildNode) MarshalJSON() ([]byte, error) {
	type plain ChildNode
	if !ch.MarkedForDelete {
		return json.Marshal(plain(ch))
	}
	type stub struct {
		ID           string `json:"id"`
		ResourceType string `json:"resource_type"`
	}
	out := struct {
		plain
		Domain         *stub `json:"Domain,omitempty"`
		Group          *stub `json:"Group,omitempty"`
		SecurityPolicy *stub `json:"SecurityPolicy,omitempty"`
		Rule           *stub `json:"Rule,omitempty"`
		Segment        *stub `json:"Segment,omitempty"`
		SegmentPort    *stub `json:"SegmentPort,omitempty"`
	}{plain: plain(ch)}
	if o := ch.Domain; o != nil {
		out.Domain = &stub{o.ID, ResourceDomain}
	}
	if o := ch.Group; o != nil {
		out.Group = &stub{o.ID, ResourceGroup}
	}
	if o := ch.SecurityPolicy; o != nil {
		out.SecurityPolicy = &stub{o.ID, ResourceSecurityPolicy}
	}
	if o := ch.Rule; o != nil {
		out.Rule = &stub{o.ID, ResourceRule}
	}
	if o := ch.Segment; o != nil {
		out.Segment = &stub{o.ID, ResourceSegment}
	}
	if o := ch.SegmentPort; o != nil {
		out.SegmentPort = &stub{o.ID, ResourceSegmentPort}
	}
	return json.Marshal(out)
}
