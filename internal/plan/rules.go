package plan

import (
	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/nsxclient"
)

// Rule-level changes of one existing section. Rules are identified by the key in their notes;
// a rule without a microseg key (an administrator added it to microseg's section), or a second
// rule with the same key, is deleted. The rules that stay in place are the longest run already in
// the desired relative order (the same minimal-move rule as for sections, order.go); the others
// are moved with revise, which also updates their content. Deletes come first, so that a section
// near NSX's 1,000-rule limit has room for what is added, then creates, moves and updates
// top-down, so that every position anchor exists when it is used.

// currentRule is a rule of an existing section with the key parsed from its notes.
type currentRule struct {
	rule nsxclient.FirewallRule
	key  string
	ok   bool
}

func parseRules(rules []nsxclient.FirewallRule) []currentRule {
	out := make([]currentRule, len(rules))
	for i, r := range rules {
		k, ok := ownership.RuleKeyFromNotes(r.Notes)
		out[i] = currentRule{rule: r, key: k, ok: ok}
	}
	return out
}

// sameRules reports whether the current rules are exactly the desired ones, in order.
func sameRules(desired []desiredRule, current []currentRule) bool {
	if len(desired) != len(current) {
		return false
	}
	for i := range desired {
		if !current[i].ok || current[i].key != desired[i].encKey || ruleFP(&current[i].rule) != desired[i].fp {
			return false
		}
	}
	return true
}

// matchRules maps each desired rule to the first current rule with its key (nil if none), and
// each current rule to the desired index it matched (-1 if none: it is to be deleted).
func matchRules(desired []desiredRule, current []currentRule) (matched []*currentRule, desiredOf []int) {
	want := make(map[string]int, len(desired))
	for i, d := range desired {
		want[d.encKey] = i
	}
	matched = make([]*currentRule, len(desired))
	desiredOf = make([]int, len(current))
	for i := range current {
		c := &current[i]
		d, found := want[c.key]
		if !c.ok || !found || matched[d] != nil {
			desiredOf[i] = -1
			continue
		}
		matched[d] = c
		desiredOf[i] = d
	}
	return matched, desiredOf
}

// withKeptIDs returns the desired rule bodies for an atomic replacement: rules that stay keep
// their id and _revision, so that NSX updates them in place (and their statistics survive).
func withKeptIDs(desired []desiredRule, current []currentRule) []nsxclient.FirewallRule {
	matched, _ := matchRules(desired, current)
	out := make([]nsxclient.FirewallRule, len(desired))
	for i, d := range desired {
		out[i] = d.body
		if c := matched[i]; c != nil {
			out[i].ID, out[i].Revision = c.rule.ID, c.rule.Revision
		}
	}
	return out
}

// ruleLevelSteps returns the rule calls that turn current into desired in section sectionID.
func ruleLevelSteps(sectionID, sectionKey string, sectionRevision int64, desired []desiredRule, current []currentRule) []Step {
	matched, desiredOf := matchRules(desired, current)
	var steps []Step
	var seq []int // desired indices of the matched rules, in current order
	for i, d := range desiredOf {
		if d >= 0 {
			seq = append(seq, d)
			continue
		}
		reason := "rule not in the model"
		if !current[i].ok {
			reason = "rule not written by microseg (no key in its notes)"
		}
		steps = append(steps, Step{Op: OpDeleteRule, Reason: reason, Key: sectionKey, SectionID: sectionID,
			SectionRevision: sectionRevision, RuleKey: current[i].key, RuleID: current[i].rule.ID})
	}
	// Keep the longest run of matched rules already in desired order.
	kept := make([]bool, len(desired))
	firstKept := -1
	for _, k := range longestIncreasing(seq) {
		kept[seq[k]] = true
		if firstKept < 0 || seq[k] < firstKept {
			firstKept = seq[k]
		}
	}
	ref := func(d int) string {
		if matched[d] != nil {
			return matched[d].rule.ID
		}
		return Placeholder(PlaceholderRule, desired[d].encKey)
	}
	for d := range desired {
		body := desired[d].body
		var pos *Position
		switch {
		case kept[d]:
		case firstKept >= 0 && d < firstKept:
			pos = before(ref(firstKept))
		case d == 0:
			pos = top()
		default:
			pos = after(ref(d - 1))
		}
		c := matched[d]
		switch {
		case c == nil:
			steps = append(steps, Step{Op: OpCreateRule, Reason: "new rule", Key: sectionKey, SectionID: sectionID,
				RuleKey: desired[d].encKey, Revision: sectionRevision, SectionRevision: sectionRevision, Position: pos, Rule: &body})
		case !kept[d]:
			body.ID, body.Revision = c.rule.ID, c.rule.Revision
			reason := "rule out of order"
			if ruleFP(&c.rule) != desired[d].fp {
				reason += " and changed"
			}
			steps = append(steps, Step{Op: OpReviseRule, Reason: reason, Key: sectionKey, SectionID: sectionID,
				RuleKey: desired[d].encKey, RuleID: c.rule.ID, Revision: c.rule.Revision, SectionRevision: sectionRevision, Position: pos, Rule: &body})
		case ruleFP(&c.rule) != desired[d].fp:
			body.ID, body.Revision = c.rule.ID, c.rule.Revision
			steps = append(steps, Step{Op: OpUpdateRule, Reason: "rule content differs", Key: sectionKey, SectionID: sectionID,
				RuleKey: desired[d].encKey, RuleID: c.rule.ID, Revision: c.rule.Revision, SectionRevision: sectionRevision, Rule: &body})
		}
	}
	return steps
}
