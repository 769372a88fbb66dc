package policy

import (
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/nsxclient"
)

// Phases of a plan, in order. A change that fits one call is phaseSingle alone.
const (
	phaseSingle   = "single"
	phaseGroups   = "groups"   // new groups (and metadata-only updates): nothing references them yet
	phaseGuard    = "guard"    // the deny-only guard goes in, then is waited for until realized
	phasePolicies = "policies" // the model's policies, one policy's change never split when it fits
	phaseUnguard  = "unguard"  // the guard goes
	phaseCleanup  = "cleanup"  // groups nothing references any more, containers first
)

// call is one hierarchical PATCH.
type call struct {
	phase    string
	children []nsxclient.ChildNode // under the domain
	objects  int
	steps    []nsxsync.Step
	// revisions: some node carries the _revision read, so NSX checks it
	// (enforce_revision_check=true) and refuses the call if the object changed since.
	revisions bool
	// waitFor are the paths whose realization must complete before the next call (or the end).
	waitFor []string
	// policies are the ids of the policies the call writes (the cache re-reads them).
	policies []string
}

// callBuilder packs nodes into calls of at most limit objects, in order.
type callBuilder struct {
	limit int
	calls []call
	cur   *call
}

func (b *callBuilder) start(phase string) {
	b.flush()
	b.cur = &call{phase: phase}
}

func (b *callBuilder) flush() {
	if b.cur != nil && b.cur.objects > 0 {
		b.calls = append(b.calls, *b.cur)
	}
	if b.cur != nil {
		b.cur = &call{phase: b.cur.phase}
	}
}

// room makes room for n objects: a new call when the current one cannot take them.
func (b *callBuilder) room(n int) {
	if b.cur.objects > 0 && b.cur.objects+n > b.limit {
		b.flush()
	}
}

func (b *callBuilder) add(node nxNode) {
	b.room(node.objects)
	b.cur.children = append(b.cur.children, node.node)
	b.cur.objects += node.objects
	b.cur.steps = append(b.cur.steps, node.steps...)
	b.cur.revisions = b.cur.revisions || node.revision
	if node.policy != "" {
		b.cur.policies = append(b.cur.policies, node.policy)
	}
}

// waitAfter asks the current call (the last one of a phase) to wait for paths.
func (b *callBuilder) waitAfter(paths []string) {
	if len(paths) == 0 {
		return
	}
	if b.cur != nil && b.cur.objects > 0 {
		b.cur.waitFor = append(b.cur.waitFor, paths...)
		return
	}
	if n := len(b.calls); n > 0 {
		b.calls[n-1].waitFor = append(b.calls[n-1].waitFor, paths...)
	}
}

func (b *callBuilder) done() []call {
	b.flush()
	return b.calls
}

// nxNode is one node of a hierarchical body with what it stands for.
type nxNode struct {
	node     nxChild
	objects  int
	steps    []nsxsync.Step
	revision bool
	policy   string
}

type nxChild = nsxclient.ChildNode

func groupNode(g groupChange) nxNode {
	step := nsxsync.Step{Op: g.op, Key: g.key, Reason: groupReason(g.op)}
	if g.op == OpDeleteGroup {
		return nxNode{node: nsxclient.DeleteGroupNode(g.id), objects: 1, steps: []nsxsync.Step{step}}
	}
	return nxNode{node: nsxclient.ChildGroup(g.body), objects: 1, steps: []nsxsync.Step{step}, revision: g.body.Revision != nil}
}

func groupReason(op string) string {
	switch op {
	case OpCreateGroup:
		return "group of the model not in NSX"
	case OpRepairGroup:
		return "group content differs from the model"
	case OpUpdateGroup:
		return "group name, description or tags differ from the model"
	}
	return "group no longer in the model"
}

// policyNode is a policy wrapper with some of a unit's rule changes. withRevision sends the
// policy's revision as read (only on the first call that writes the policy: a rule write bumps
// it).
func policyNode(u *unit, attrs nsxclient.SecurityPolicy, rules []ruleChange, withRevision bool, first bool) nxNode {
	if u.delete {
		return nxNode{node: nsxclient.DeletePolicyNode(u.id), objects: 1, policy: u.id,
			steps: []nsxsync.Step{{Op: OpDeletePolicy, Key: u.key, Reason: "policy no longer in the model"}}}
	}
	sp := attrs
	sp.Rules = nil
	if !withRevision {
		sp.Revision = nil
	}
	n := nxNode{objects: 1 + len(rules), policy: u.id, revision: sp.Revision != nil}
	if first {
		switch {
		case u.guard:
			n.steps = append(n.steps, nsxsync.Step{Op: OpCreateGuard, Key: u.key, Reason: "guard of a change that takes more than one call"})
		case u.create:
			n.steps = append(n.steps, nsxsync.Step{Op: OpCreatePolicy, Key: u.key, Reason: "policy of the model not in NSX"})
		case u.attrs:
			n.steps = append(n.steps, nsxsync.Step{Op: OpUpdatePolicy, Key: u.key, Reason: "policy attributes differ from the model"})
		}
	}
	for _, r := range rules {
		step := nsxsync.Step{Op: r.op, Key: u.key, Rule: r.key}
		switch r.op {
		case OpCreateRule:
			step.Reason = "rule of the model not in NSX"
			sp.Children = append(sp.Children, nsxclient.ChildRule(r.body))
		case OpUpdateRule:
			step.Reason = "rule differs from the model"
			n.revision = n.revision || r.body.Revision != nil
			sp.Children = append(sp.Children, nsxclient.ChildRule(r.body))
		default:
			step.Reason = "rule not in the model"
			sp.Children = append(sp.Children, nsxclient.DeleteRuleNode(r.id))
		}
		n.steps = append(n.steps, step)
	}
	n.node = nsxclient.ChildPolicy(sp)
	return n
}

// addUnit adds a policy's change: whole when it fits one call, else split so that every state
// in between holds each of the policy's rules as the old or as the new configuration has it
// (docs/architecture.md): when the policy keeps its place, its rule writes in chunks; when it
// moves, first its old rules go (in chunks, the policy unchanged), then it moves with its new
// rules (in chunks).
func (b *callBuilder) addUnit(u *unit) {
	if u.delete || u.objects() <= b.limit {
		b.add(policyNode(u, u.body, u.rules, true, true))
		return
	}
	chunk := max(b.limit-1, 1)
	if !u.moves {
		for i := 0; i < len(u.rules); i += chunk {
			b.add(policyNode(u, u.body, u.rules[i:min(len(u.rules), i+chunk)], i == 0, i == 0))
		}
		return
	}
	var clear, write []ruleChange
	for _, id := range u.current {
		clear = append(clear, ruleChange{op: OpDeleteRule, id: id})
	}
	for _, r := range u.rules {
		if r.op != OpDeleteRule {
			r.body.Revision = nil // recreated after the delete
			r.op = OpCreateRule
			write = append(write, r)
		}
	}
	write = append(write, u.unchanged...)
	keep := u.curBody
	keep.Children, keep.Rules = nil, nil
	for i := 0; i < len(clear); i += chunk {
		b.add(policyNode(u, keep, clear[i:min(len(clear), i+chunk)], i == 0, false))
	}
	if len(write) == 0 {
		// The policy keeps no rule: its new attributes (its new place) still have to be written.
		b.add(policyNode(u, u.body, nil, false, true))
		return
	}
	for i := 0; i < len(write); i += chunk {
		b.add(policyNode(u, u.body, write[i:min(len(write), i+chunk)], false, i == 0))
	}
}
