package compile

import (
	"fmt"

	"github.com/microseg/microseg/internal/ir"
)

// The group log. The incremental compiler (incremental.go) compiles each part of the input (the
// ClusterSecurityPolicies, each namespace's NetworkPolicies) against a registry of its own and
// records what the part did to it; replaying the parts' logs in the order Compile runs them
// rebuilds the registry a full compile ends with. A part compiled alone finds in its registry
// only what it added itself, so where a full compile would reuse another part's group (a
// tagRefs or addrRefs hit: noteReason, or minReason on an IP set) the log holds the adds that
// made it; replayed after the other part's, an add of an existing key only lowers the reason the
// way noteReason does, and the first add of a key still comes from the first part in Compile's
// order to need it, so names and reasons come out the same. TestIncrementalEqualsCompile checks
// that against Compile over random event sequences.

type groupOpKind uint8

const (
	// opAdd created the group (addGroup, the key was new).
	opAdd groupOpKind = iota
	// opAddExisting is addGroup on a key the registry held: the reason is lowered with
	// minReasonOrExact.
	opAddExisting
	// opReasonOrExact is noteReason on a tag group.
	opReasonOrExact
	// opReason is an IP set reused by ipSetRefs: minReason.
	opReason
)

type groupOp struct {
	kind   groupOpKind
	key    string
	group  *ir.Group // opAdd: the group as created (not to be modified)
	reason ir.GroupReason
}

// logGroup records one change to the registry when the compiler keeps a log.
func (c *compiler) logGroup(op groupOp) {
	if c.groupLog != nil {
		if op.kind == opAdd {
			g := *op.group
			op.group = &g
		}
		*c.groupLog = append(*c.groupLog, op)
	}
}

// replayGroups applies a log to the registry (which holds its own copies of the groups).
func (c *compiler) replayGroups(log []groupOp) {
	for _, op := range log {
		have := c.groups.byKey[op.key]
		switch {
		case have == nil && op.kind == opAdd:
			g := *op.group
			c.groups.byKey[op.key] = &g
		case have == nil:
			panic(fmt.Sprintf("compile: group log changes group %s before adding it", op.key))
		case op.kind == opAdd:
			have.Reason = minReasonOrExact(have.Reason, op.group.Reason)
		case op.kind == opAddExisting, op.kind == opReasonOrExact:
			have.Reason = minReasonOrExact(have.Reason, op.reason)
		case op.kind == opReason:
			have.Reason = minReason(have.Reason, op.reason)
		}
	}
}
