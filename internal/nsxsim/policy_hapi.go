package nsxsim

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/microseg/microseg/nsxclient"
)

// The hierarchical API: PATCH /infra applies a tree of Child<Type> nodes in one transaction.

// maxTreeObjects is how many objects one hierarchical PATCH may carry on a local manager.
const maxTreeObjects = nsxclient.MaxHierarchicalObjects

// allowedChildren says which node types may appear under which parent kind ("" is /infra).
var allowedChildren = map[string][]string{
	"":                               {nsxclient.ChildDomainType, nsxclient.ChildSegmentType},
	nsxclient.ResourceDomain:         {nsxclient.ChildGroupType, nsxclient.ChildSecurityPolicyType},
	nsxclient.ResourceSecurityPolicy: {nsxclient.ChildRuleType},
	nsxclient.ResourceSegment:        {nsxclient.ChildSegmentPortType},
}

// treeNode is a node of a hierarchical body as the simulator reads it.
type treeNode struct {
	ResourceType    string                     `json:"resource_type"`
	ID              string                     `json:"id"`
	MarkedForDelete bool                       `json:"marked_for_delete"`
	TargetType      string                     `json:"target_type"`
	Children        []json.RawMessage          `json:"children"`
	rest            map[string]json.RawMessage // the wrapped object, under its type's name
}

// handleInfraPatch is PATCH /infra?enforce_revision_check=: 200 without a body, or the first
// error, in which case nothing of the body was applied.
func (s *Server) handleInfraPatch(c *call) reply {
	var root struct {
		ResourceType string            `json:"resource_type"`
		Children     []json.RawMessage `json:"children"`
	}
	if err := json.Unmarshal(c.body, &root); err != nil {
		return fail(errPolicyInvalid(infraPath, "the body is not an Infra object: %s", trimJSONError(err)))
	}
	if root.ResourceType != nsxclient.ResourceInfra {
		return fail(errPolicyInvalid(infraPath, "resource_type must be Infra, not %q", root.ResourceType))
	}
	mode := writeTree
	if c.query.Get("enforce_revision_check") == "true" {
		mode = writeTreeChecked
	}
	n, err := countTreeObjects(root.Children)
	if err != nil {
		return fail(err)
	}
	if n > maxTreeObjects {
		return fail(errPolicyInvalid(infraPath, "the body carries %d objects; at most %d are allowed in one call: split it", n, maxTreeObjects))
	}
	return s.policyWrite(c, http.StatusOK, func(tx *policyTx) *apiError {
		return tx.applyTree(infraPath, "", root.Children, mode)
	})
}

// applyTree applies the children of the node at parent (of kind parentKind, "" for /infra).
func (tx *policyTx) applyTree(parent, parentKind string, children []json.RawMessage, mode writeMode) *apiError {
	for _, raw := range children {
		n, err := decodeTreeNode(parent, raw)
		if err != nil {
			return err
		}
		if n.ResourceType == nsxclient.ChildResourceReference {
			if err := tx.applyReference(parent, parentKind, n, mode); err != nil {
				return err
			}
			continue
		}
		typ, isChild := strings.CutPrefix(n.ResourceType, "Child")
		kind := policyKinds[typ]
		if !isChild || kind == nil || !slices.Contains(allowedChildren[parentKind], n.ResourceType) {
			return errPolicyInvalid(parent, "a %s node cannot stand here (allowed: %v)", n.ResourceType, allowedChildren[parentKind])
		}
		inner, ok := n.rest[typ]
		if !ok {
			return errPolicyInvalid(parent, "the %s node has no %s object", n.ResourceType, typ)
		}
		if n.ID == "" {
			return errPolicyInvalid(parent, "the %s node has no id: give the wrapper the id of its object", n.ResourceType)
		}
		path := childPath(parent, kind, n.ID)
		if n.MarkedForDelete {
			if err := tx.delete(path, true); err != nil {
				return err
			}
			continue
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(inner, &fields); err != nil || fields == nil {
			return errPolicyInvalid(path, "the %s object is not a JSON object", typ)
		}
		var grandchildren []json.RawMessage
		if rawKids, ok := fields["children"]; ok {
			if err := json.Unmarshal(rawKids, &grandchildren); err != nil {
				return errPolicyInvalid(path, "children must be a list")
			}
		}
		if err := tx.upsert(path, inner, mode); err != nil {
			return err
		}
		if err := tx.applyTree(path, kind.name, grandchildren, mode); err != nil {
			return err
		}
	}
	return nil
}

// applyReference applies the children of a ChildResourceReference, which must name an existing
// object and changes nothing of it.
func (tx *policyTx) applyReference(parent, parentKind string, n treeNode, mode writeMode) *apiError {
	kind := policyKinds[n.TargetType]
	if kind == nil || kind.parentKind != parentKind {
		return errPolicyInvalid(parent, "a ChildResourceReference to a %q cannot stand here", n.TargetType)
	}
	if n.ID == "" {
		return errPolicyInvalid(parent, "the ChildResourceReference to a %s has no id", n.TargetType)
	}
	path := childPath(parent, kind, n.ID)
	if tx.ps.live(path) == nil {
		return errPolicyNotFound(path)
	}
	return tx.applyTree(path, kind.name, n.Children, mode)
}

func decodeTreeNode(parent string, raw json.RawMessage) (treeNode, *apiError) {
	var n treeNode
	if err := json.Unmarshal(raw, &n); err != nil {
		return n, errPolicyInvalid(parent, "a child node is malformed: %s", trimJSONError(err))
	}
	if err := json.Unmarshal(raw, &n.rest); err != nil {
		return n, errPolicyInvalid(parent, "a child node is not a JSON object")
	}
	return n, nil
}

// countTreeObjects counts the Child<Type> nodes of a body, at any depth (references do not
// count: they change nothing).
func countTreeObjects(children []json.RawMessage) (int, *apiError) {
	total := 0
	for _, raw := range children {
		n, err := decodeTreeNode(infraPath, raw)
		if err != nil {
			return 0, err
		}
		kids := n.Children
		if n.ResourceType != nsxclient.ChildResourceReference {
			total++
			typ := strings.TrimPrefix(n.ResourceType, "Child")
			var inner struct {
				Children []json.RawMessage `json:"children"`
			}
			_ = json.Unmarshal(n.rest[typ], &inner)
			kids = inner.Children
		}
		k, err := countTreeObjects(kids)
		if err != nil {
			return 0, err
		}
		total += k
	}
	return total, nil
}
