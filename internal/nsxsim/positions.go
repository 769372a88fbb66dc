package nsxsim

import (
	"net/url"
	"slices"
)

// Position operations of section and rule create/revise calls (vendor spec 2.5.1).
const (
	opInsertTop    = "insert_top"
	opInsertBottom = "insert_bottom"
	opInsertBefore = "insert_before"
	opInsertAfter  = "insert_after"
)

// position is the parsed `operation` and anchor `id` query parameters.
type position struct {
	op     string
	anchor string
}

// parsePosition reads the position parameters; the default is insert_top, as in the spec.
func parsePosition(q url.Values) (position, *apiError) {
	p := position{op: q.Get("operation"), anchor: q.Get("id")}
	if p.op == "" {
		p.op = opInsertTop
	}
	var f fieldErrors
	f.enum("operation", p.op, opInsertTop, opInsertBottom, opInsertBefore, opInsertAfter)
	f.maxLen("id", p.anchor, maxAnchorID)
	if (p.op == opInsertBefore || p.op == opInsertAfter) && p.anchor == "" {
		f.add("id is required for operation %s", p.op)
	}
	return p, f.err()
}

// placeIndex returns where to insert an item into ids (which must not contain the item itself).
// pinned is the id of the default section or rule that stays last ("" if none): insert_bottom
// lands just above it and nothing may go after it. NSX's behaviour for those two cases is
// UNCONFIRMED; keeping the default last and refusing insert_after it is
// the conservative reading — a client that works here never relies on a lenient manager.
func placeIndex(ids []string, p position, pinned, self string) (int, *apiError) {
	bottom := len(ids)
	if pinned != "" && len(ids) > 0 && ids[len(ids)-1] == pinned {
		bottom = len(ids) - 1
	}
	switch p.op {
	case opInsertTop:
		return 0, nil
	case opInsertBottom:
		return bottom, nil
	}
	var f fieldErrors
	if p.anchor == self {
		f.add("id %s: an object cannot be positioned relative to itself", p.anchor)
		return 0, f.err()
	}
	i := slices.Index(ids, p.anchor)
	if i < 0 {
		f.add("id %s: anchor does not exist in this list", p.anchor)
		return 0, f.err()
	}
	if p.op == opInsertBefore {
		return i, nil
	}
	if p.anchor == pinned {
		f.add("id %s: nothing can be placed after the default", p.anchor)
		return 0, f.err()
	}
	return i + 1, nil
}
