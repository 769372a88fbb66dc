package nsxsim

import (
	"strings"
	"unicode"

	"github.com/microseg/microseg/nsxclient"
)

// Policy paths and the kinds of object they name.

// policyKind describes one kind of Policy object.
type policyKind struct {
	name string
	// parentKind is the kind of the parent ("" for children of /infra); collection is the
	// path segment between parent and id.
	parentKind, collection string
	// patchMerges: PATCH merges the body into the stored object. Security policies and rules
	// are documented as replaced by PATCH instead.
	patchMerges bool
	// entityType is what the realized-state API names the realized form.
	entityType string
}

var policyKinds = map[string]*policyKind{
	nsxclient.ResourceDomain:         {name: nsxclient.ResourceDomain, collection: "domains", patchMerges: true, entityType: "RealizedDomain"},
	nsxclient.ResourceGroup:          {name: nsxclient.ResourceGroup, parentKind: nsxclient.ResourceDomain, collection: "groups", patchMerges: true, entityType: "RealizedGroup"},
	nsxclient.ResourceSecurityPolicy: {name: nsxclient.ResourceSecurityPolicy, parentKind: nsxclient.ResourceDomain, collection: "security-policies", entityType: "RealizedFirewallSection"},
	nsxclient.ResourceRule:           {name: nsxclient.ResourceRule, parentKind: nsxclient.ResourceSecurityPolicy, collection: "rules", entityType: "RealizedFirewallRule"},
	nsxclient.ResourceSegment:        {name: nsxclient.ResourceSegment, collection: "segments", patchMerges: true, entityType: "RealizedLogicalSwitch"},
	nsxclient.ResourceSegmentPort:    {name: nsxclient.ResourceSegmentPort, parentKind: nsxclient.ResourceSegment, collection: "ports", patchMerges: true, entityType: "RealizedLogicalPort"},
}

// childPath is the path of the object of kind with id under parent.
func childPath(parent string, kind *policyKind, id string) string {
	return parent + "/" + kind.collection + "/" + id
}

// parsePolicyPath tells what a path names: its kind, parent and id. ok is false for anything
// that is not the path of an object the simulator models.
func parsePolicyPath(path string) (kind *policyKind, parent, id string, ok bool) {
	rest, found := strings.CutPrefix(path, infraPath+"/")
	if !found {
		return nil, "", "", false
	}
	segs := strings.Split(rest, "/")
	if len(segs)%2 != 0 {
		return nil, "", "", false
	}
	parent = infraPath
	parentKind := ""
	for i := 0; i < len(segs); i += 2 {
		k := kindByCollection(parentKind, segs[i])
		if k == nil || segs[i+1] == "" {
			return nil, "", "", false
		}
		if i+2 == len(segs) {
			return k, parent, segs[i+1], true
		}
		parent += "/" + segs[i] + "/" + segs[i+1]
		parentKind = k.name
	}
	return nil, "", "", false
}

func kindByCollection(parentKind, collection string) *policyKind {
	for _, k := range policyKinds {
		if k.parentKind == parentKind && k.collection == collection {
			return k
		}
	}
	return nil
}

// maxPolicyID is the longest id accepted. NSX's server-side limit is not documented; 255 is
// what nsx-operator and the terraform provider keep to.
const maxPolicyID = 255

// validPolicyID reports why an id cannot name a Policy object, or "" when it can. Beyond the
// length, the simulator refuses characters that would make the id's path ambiguous or need
// escaping (strict: NSX's own rule is not documented).
func validPolicyID(id string) string {
	switch {
	case id == "":
		return "the id is empty"
	case len(id) > maxPolicyID:
		return "the id is longer than 255 characters"
	}
	for _, r := range id {
		if r == '/' || r == '?' || r == '#' || r == '%' || r == '|' || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return "the id contains " + quoteRune(r) + ", which the simulator refuses in Policy ids (use letters, digits, '-', '_' and '.')"
		}
	}
	return ""
}

func quoteRune(r rune) string {
	if unicode.IsPrint(r) && !unicode.IsSpace(r) {
		return "'" + string(r) + "'"
	}
	return "a space or control character"
}
