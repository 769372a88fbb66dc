package nsxsim

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/microseg/microseg/nsxclient"
)

// Building a stored Policy object from a request body: decode (merging into the stored object
// for kinds whose PATCH merges), fill in the server's fields, apply defaults, list references.

// bodyOnlyKeys are request keys that never become part of the stored object: children travel
// separately in hierarchical bodies, a policy's rules are stored as rule objects.
var bodyOnlyKeys = []string{"children", "rules"}

// newPolicyObject returns an empty object of a kind.
func newPolicyObject(kind string) any {
	switch kind {
	case nsxclient.ResourceDomain:
		return &nsxclient.PolicyDomain{}
	case nsxclient.ResourceGroup:
		return &nsxclient.PolicyGroup{}
	case nsxclient.ResourceSecurityPolicy:
		return &nsxclient.SecurityPolicy{}
	case nsxclient.ResourceRule:
		return &nsxclient.PolicyRule{}
	case nsxclient.ResourceSegment:
		return &nsxclient.Segment{}
	case nsxclient.ResourceSegmentPort:
		return &nsxclient.SegmentPort{}
	}
	panic("nsxsim: unknown Policy kind " + kind)
}

// buildObject decodes the new state of an object: the body alone, or for a PATCH of a kind that
// merges, the stored object with the body's top-level fields laid over it (a field sent as null
// is cleared).
func (tx *policyTx) buildObject(kind *policyKind, existing *pobj, fields map[string]json.RawMessage, mode writeMode) (any, error) {
	merged := map[string]json.RawMessage{}
	if existing != nil && kind.patchMerges && mode != writePut {
		b, err := json.Marshal(existing.obj)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &merged); err != nil {
			return nil, err
		}
	}
	for k, v := range fields {
		switch {
		case isBodyOnlyKey(k):
		case string(v) == "null":
			delete(merged, k)
		default:
			merged[k] = v
		}
	}
	b, err := json.Marshal(merged)
	if err != nil {
		return nil, err
	}
	obj := newPolicyObject(kind.name)
	if err := json.Unmarshal(b, obj); err != nil {
		return nil, fmt.Errorf("the body does not fit a %s: %s", kind.name, trimJSONError(err))
	}
	return obj, nil
}

func isBodyOnlyKey(k string) bool {
	for _, b := range bodyOnlyKeys {
		if k == b {
			return true
		}
	}
	return false
}

// trimJSONError drops Go type names from a decoding error, leaving the field and the problem.
func trimJSONError(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "Go struct field "); i >= 0 {
		return msg[i+len("Go struct field "):]
	}
	return msg
}

// policyRealizationUser is the user NSX shows as the creator of objects it realizes from Policy
// intents in the Manager API.
const policyRealizationUser = "nsx_policy"

// stamp fills in the server-owned fields. Revisions start at 0 and grow by one per write.
func (tx *policyTx) stamp(kind *policyKind, path, parent, id string, obj any, existing *pobj) {
	r := policyResourceOf(obj)
	r.ID, r.ResourceType, r.Path, r.ParentPath, r.RelativePath = id, kind.name, path, parent, id
	if r.DisplayName == "" {
		r.DisplayName = id // NSX defaults display_name to the id
	}
	r.MarkedForDelete, r.Protection = false, ""
	r.LastModifiedUser, r.LastModifiedTime = tx.user, tx.now.UnixMilli()
	if existing == nil {
		uid := tx.ps.newUUID()
		r.UniqueID, r.RealizationID = uid, uid
		r.CreateUser, r.CreateTime = tx.user, r.LastModifiedTime
		r.SystemOwned = false
		r.Revision = nsxclient.RevisionOf(0)
		return
	}
	old := existing.resource()
	r.UniqueID, r.RealizationID = old.UniqueID, old.RealizationID
	r.CreateUser, r.CreateTime = old.CreateUser, old.CreateTime
	r.SystemOwned = old.SystemOwned
	r.Revision = nsxclient.RevisionOf(*old.Revision + 1)
}

// normalize applies NSX's defaults and clears read-only fields a client may have sent back.
func (tx *policyTx) normalize(path, parent string, obj any, existing *pobj) *apiError {
	switch o := obj.(type) {
	case *nsxclient.PolicyDomain:
		o.Children = nil
	case *nsxclient.Segment:
		o.Children = nil
	case *nsxclient.PolicyGroup:
		o.State = ""
	case *nsxclient.SecurityPolicy:
		o.Rules, o.Children, o.RuleCount, o.InternalSequenceNumber, o.IsDefault = nil, nil, 0, 0, false
		if existing != nil {
			o.IsDefault = existing.obj.(*nsxclient.SecurityPolicy).IsDefault
		}
		if o.Stateful == nil {
			o.Stateful = boolPtr(o.Category != nsxclient.CategoryEthernet)
		}
		if o.TCPStrict == nil && *o.Stateful {
			o.TCPStrict = boolPtr(true)
		}
		if o.IsDefault {
			o.Category = nsxclient.CategoryApplication
			o.SequenceNumber = existing.obj.(*nsxclient.SecurityPolicy).SequenceNumber
		}
	case *nsxclient.PolicyRule:
		return tx.normalizeRule(path, parent, o, existing)
	case *nsxclient.SegmentPort:
		if o.AdminState == "" {
			o.AdminState = "UP"
		}
	}
	return nil
}

func (tx *policyTx) normalizeRule(path, parent string, o *nsxclient.PolicyRule, existing *pobj) *apiError {
	o.RuleID, o.IsDefault = 0, false
	if existing != nil {
		prev := existing.obj.(*nsxclient.PolicyRule)
		o.RuleID, o.IsDefault = prev.RuleID, prev.IsDefault
	} else {
		tx.s.st.nextRuleID++ // the realized firewall rule's number, shared with the Manager API
		o.RuleID = tx.s.st.nextRuleID
	}
	policy := tx.ps.live(parent).obj.(*nsxclient.SecurityPolicy)
	if policy.IsDefault && !o.IsDefault {
		return errPolicyInvalid(path, "the default policy holds only its default rule; change that rule's action instead")
	}
	if o.IsDefault {
		// Only the action (and logging, tag, notes) of the default rule are the admin's.
		o.SourceGroups, o.DestinationGroups, o.Services = []string{anyPath}, []string{anyPath}, []string{anyPath}
		o.Scope, o.ServiceEntries, o.Disabled = []string{anyPath}, nil, false
		o.SourcesExcluded, o.DestinationsExcluded = false, false
		o.Direction, o.IPProtocol = "", ""
		o.SequenceNumber = existing.obj.(*nsxclient.PolicyRule).SequenceNumber
	}
	if o.Direction == "" {
		o.Direction = nsxclient.DirectionInOut
	}
	if o.IPProtocol == "" && policy.Category != nsxclient.CategoryEthernet {
		o.IPProtocol = nsxclient.IPProtocolIPv4IPv6
	}
	return nil
}

func boolPtr(b bool) *bool { return &b }

// anyPath is ANY in source_groups, destination_groups, services and scope.
const anyPath = nsxclient.AnyPath

// isAny reports whether a list is exactly ["ANY"] (case-insensitive), or empty.
func isAny(list []string) bool {
	return len(list) == 0 || len(list) == 1 && strings.EqualFold(list[0], anyPath)
}

// policyRefs lists the paths an object references.
func policyRefs(obj any) []string {
	var refs []string
	add := func(list []string) {
		for _, p := range list {
			if strings.HasPrefix(p, "/") {
				refs = append(refs, p)
			}
		}
	}
	switch o := obj.(type) {
	case *nsxclient.PolicyGroup:
		for _, e := range o.Expression {
			if e.ResourceType == nsxclient.ExprPath {
				add(e.Paths)
			}
		}
	case *nsxclient.SecurityPolicy:
		add(o.Scope)
	case *nsxclient.PolicyRule:
		add(o.SourceGroups)
		add(o.DestinationGroups)
		add(o.Scope)
		add(o.Services)
	}
	return refs
}

// withMarkedForDelete returns a copy of obj flagged as being deleted.
func withMarkedForDelete(obj any) any {
	out := clonePolicyObject(obj)
	policyResourceOf(out).MarkedForDelete = true
	return out
}

// clonePolicyObject returns a deep copy of a stored object, to change before storing it anew.
func clonePolicyObject(obj any) any {
	b, _ := json.Marshal(obj)
	out := newPolicyObject(kindOf(obj))
	_ = json.Unmarshal(b, out)
	return out
}

// kindOf is the resource type of a stored object.
func kindOf(obj any) string { return policyResourceOf(obj).ResourceType }
