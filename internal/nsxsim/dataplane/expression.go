package dataplane

import (
	"strings"

	"github.com/microseg/microseg/nsxclient"
)

// Target types of group expressions and references beyond the ones nsxclient names.
const (
	targetLogicalSwitch = "LogicalSwitch"
	targetNSService     = "NSService"
)

// Operators of tag and simple expressions. An empty operator means EQUALS, the spec's default.
const (
	opEquals     = "EQUALS"
	opNotEquals  = "NOTEQUALS"
	opContains   = "CONTAINS"
	opStartsWith = "STARTSWITH"
	opEndsWith   = "ENDSWITH"
)

// candidate is any object a group expression can select: a logical port, an IPSet, a logical
// switch or an NSGroup, seen through the only attributes expressions look at.
type candidate struct {
	id, name string
	tags     []nsxclient.Tag
}

// exprKind is the object type an expression selects. A complex expression ANDs its parts on one
// object, so it selects the type of its first part; parts of another type make it match nothing.
func exprKind(e nsxclient.NSGroupExpression) string {
	if e.ResourceType == nsxclient.ExprComplex {
		if len(e.Expressions) == 0 {
			return ""
		}
		return exprKind(e.Expressions[0])
	}
	return e.TargetType
}

// exprMatches reports whether e selects c, an object of type kind.
func exprMatches(e nsxclient.NSGroupExpression, kind string, c *candidate) bool {
	switch e.ResourceType {
	case nsxclient.ExprTag:
		return e.TargetType == kind && tagExprMatches(e, c.tags)
	case nsxclient.ExprSimple:
		if e.TargetType != kind {
			return false
		}
		switch e.TargetProperty {
		case "id":
			return opMatches(e.Op, c.id, e.Value)
		case "display_name", "name":
			return opMatches(e.Op, c.name, e.Value)
		}
		return false
	case nsxclient.ExprComplex:
		if len(e.Expressions) == 0 {
			return false
		}
		for _, sub := range e.Expressions {
			if !exprMatches(sub, kind, c) {
				return false
			}
		}
		return true
	}
	return false
}

// tagExprMatches reports whether one single tag satisfies both the scope and the tag condition
// (they are ANDed on the same tag, not across tags). An empty scope or tag means "any".
// Guess: matching is case-sensitive; with both empty, any tag at all matches.
func tagExprMatches(e nsxclient.NSGroupExpression, tags []nsxclient.Tag) bool {
	for _, t := range tags {
		if (e.Scope == "" || opMatches(e.ScopeOp, t.Scope, e.Scope)) &&
			(e.Tag == "" || opMatches(e.TagOp, t.Tag, e.Tag)) {
			return true
		}
	}
	return false
}

// opMatches applies an expression operator to an object's value; unknown operators match
// nothing (the server rejects them on write).
func opMatches(op, have, want string) bool {
	switch op {
	case "", opEquals:
		return have == want
	case opNotEquals:
		return have != want
	case opContains:
		return strings.Contains(have, want)
	case opStartsWith:
		return strings.HasPrefix(have, want)
	case opEndsWith:
		return strings.HasSuffix(have, want)
	}
	return false
}

func isEqualsOp(op string) bool { return op == "" || op == opEquals }
