package nsxsim

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/microseg/microseg/nsxclient"
)

// GET /infra?filter=Type-A|B|...&base_path=...: a subtree in the hierarchical API's shape.
//
// The simulator's reading of the parameters (NSX documents them only as "filter string as java
// regex", "type filter" and "base path"): filter must be "Type-" followed by resource types
// joined by "|" (type_filter, types joined by ";", means the same); objects of those types are
// returned as Child<Type> nodes, each under its ancestors; an ancestor whose type is not asked
// for appears as a ChildResourceReference (id and target_type only). base_path keeps only the
// subtree at that path. Without filter and type_filter the answer is Infra's own fields. Objects
// being deleted are left out; system objects (the default domain and policy) are included.

var readableTypes = []string{nsxclient.ResourceDomain, nsxclient.ResourceGroup, nsxclient.ResourceSecurityPolicy,
	nsxclient.ResourceRule, nsxclient.ResourceSegment, nsxclient.ResourceSegmentPort}

// infraReply is the GET /infra answer; children are built as generic maps because each node
// carries its object under a key named after the object's type.
type infraReply struct {
	ResourceType string           `json:"resource_type"`
	ID           string           `json:"id"`
	Path         string           `json:"path"`
	Revision     int64            `json:"_revision"`
	Children     []map[string]any `json:"children,omitempty"`
}

func (s *Server) handleInfraGet(c *call) reply {
	s.st.pol.sweep(s.now())
	types, err := readTypes(c)
	if err != nil {
		return fail(err)
	}
	out := infraReply{ResourceType: nsxclient.ResourceInfra, ID: "infra", Path: infraPath}
	if len(types) == 0 {
		return ok(out)
	}
	base := strings.TrimSuffix(c.query.Get("base_path"), "/")
	if base != "" && base != infraPath && s.st.pol.live(base) == nil {
		return fail(errPolicyNotFound(base))
	}
	out.Children = s.treeChildren(c, infraPath, "", types, base)
	return ok(out)
}

func readTypes(c *call) (map[string]bool, *apiError) {
	var names []string
	if f := c.query.Get("filter"); f != "" {
		list, ok := strings.CutPrefix(f, "Type-")
		if !ok {
			return nil, errPolicyInvalid(infraPath, "filter %q is not understood by the simulator: use Type-<type>|<type>...", f)
		}
		names = append(names, strings.Split(list, "|")...)
	}
	if f := c.query.Get("type_filter"); f != "" {
		names = append(names, strings.Split(f, ";")...)
	}
	types := map[string]bool{}
	for _, n := range names {
		if !slices.Contains(readableTypes, n) {
			return nil, errPolicyInvalid(infraPath, "type %q cannot be read through the simulator's /infra (known: %v)", n, readableTypes)
		}
		types[n] = true
	}
	return types, nil
}

// treeChildren returns the nodes under parent that hold asked-for objects inside base.
func (s *Server) treeChildren(c *call, parent, parentKind string, types map[string]bool, base string) []map[string]any {
	var nodes []map[string]any
	for _, kind := range readableTypes {
		k := policyKinds[kind]
		if k.parentKind != parentKind {
			continue
		}
		objs := s.st.pol.childrenOf(parent, kind, false)
		if kind == nsxclient.ResourceRule {
			objs = s.sortedRules(parent, false)
		}
		for _, o := range objs {
			if node := s.treeNode(c, o, types, base); node != nil {
				nodes = append(nodes, node)
			}
		}
	}
	return nodes
}

// treeNode returns o's node, or nil when neither o nor anything under it is asked for.
func (s *Server) treeNode(c *call, o *pobj, types map[string]bool, base string) map[string]any {
	inBase := base == "" || base == infraPath || o.path == base || strings.HasPrefix(o.path, base+"/")
	aboveBase := base != "" && strings.HasPrefix(base, o.path+"/")
	if !inBase && !aboveBase {
		return nil
	}
	kids := s.treeChildren(c, o.path, o.kind, types, base)
	if inBase && types[o.kind] {
		c.read(o.kind, o.path)
		c.policyRead++
		view := withChildren(s.policyView(o, c.user), kids)
		return map[string]any{"resource_type": "Child" + o.kind, "id": o.resource().ID, o.kind: view}
	}
	if len(kids) == 0 {
		return nil
	}
	return map[string]any{"resource_type": nsxclient.ChildResourceReference, "id": o.resource().ID, "target_type": o.kind, "children": kids}
}

// withChildren renders a view as a map with the child nodes in its children field.
func withChildren(view any, kids []map[string]any) any {
	if len(kids) == 0 {
		return view
	}
	b, _ := json.Marshal(view)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m["children"] = kids
	return m
}
