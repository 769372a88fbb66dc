package nsxclient

import (
	"errors"
	"net/url"
)

// Position says where a created or moved section or rule goes. NSX evaluates sections top-down
// and rules top-down within a section, so Position is how the caller controls precedence.
//
// The zero Position sends no position parameters, which NSX treats as insert_top. Note that this
// means a revise (ReviseSection, ReviseRule, ReviseSectionWithRules) with the zero Position moves
// the object to the top.
type Position struct {
	operation string
	anchorID  string
}

// Top places the object first.
func Top() Position { return Position{operation: "insert_top"} }

// Bottom places the object last. For sections, NSX keeps its default section last; where exactly
// insert_bottom lands relative to it is not documented.
func Bottom() Position { return Position{operation: "insert_bottom"} }

// Before places the object just before the section or rule anchorID (for rules, an id in the
// same section).
func Before(anchorID string) Position {
	return Position{operation: "insert_before", anchorID: anchorID}
}

// After places the object just after the section or rule anchorID.
func After(anchorID string) Position {
	return Position{operation: "insert_after", anchorID: anchorID}
}

// String returns the operation (and anchor), e.g. "insert_after 1234", or "default (insert_top)".
func (p Position) String() string {
	switch {
	case p.operation == "":
		return "default (insert_top)"
	case p.anchorID != "":
		return p.operation + " " + p.anchorID
	default:
		return p.operation
	}
}

// addTo sets the operation and id query parameters.
func (p Position) addTo(q url.Values) error {
	if p.operation == "" {
		return nil
	}
	anchored := p.operation == "insert_before" || p.operation == "insert_after"
	if anchored && p.anchorID == "" {
		return errors.New("nsxclient: " + p.operation + " needs an anchor id: use Before(id) or After(id) with the id of an existing section or rule")
	}
	q.Set("operation", p.operation)
	if anchored {
		q.Set("id", p.anchorID)
	}
	return nil
}
