package plan

import (
	"strings"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/nsxclient"
)

// Op is the kind of one plan step; each maps onto one NSX call (CreateSection with more rules
// than apply's create_with_rules limit maps onto two).
type Op string

// Step kinds.
const (
	// OpCreateGroup creates an NSGroup (TagGroup, NestedGroup) or an IPSet.
	OpCreateGroup Op = "CreateGroup"
	// OpUpdateGroup replaces an owned group whose content drifted (PUT with _revision).
	OpUpdateGroup Op = "UpdateGroup"
	// OpDeleteGroup deletes an owned group nothing of microseg references any more.
	OpDeleteGroup Op = "DeleteGroup"
	// OpCreateSection creates a section with its rules at Position.
	OpCreateSection Op = "CreateSection"
	// OpUpdateSection replaces the attributes (name, description, tags) of a section; its rules
	// are untouched (PUT).
	OpUpdateSection Op = "UpdateSection"
	// OpUpdateSectionRules replaces a section's attributes and whole rule list atomically
	// (update_with_rules); rules that stay keep their id and _revision.
	OpUpdateSectionRules Op = "UpdateSectionRules"
	// OpReviseSection moves a section to Position and sets its attributes (revise), or also
	// replaces its rules atomically when WithRules is set (revise_with_rules).
	OpReviseSection Op = "ReviseSection"
	// OpCreateRule, OpUpdateRule, OpReviseRule and OpDeleteRule change one rule of a section.
	OpCreateRule Op = "CreateRule"
	OpUpdateRule Op = "UpdateRule"
	OpReviseRule Op = "ReviseRule"
	OpDeleteRule Op = "DeleteRule"
	// OpDeleteSection deletes a section with its rules (cascade).
	OpDeleteSection Op = "DeleteSection"
)

// Step is one NSX write. Ids of objects that exist when the plan is made are literal; objects
// that an earlier step of the same plan creates are named by placeholders ("{{group:<key>}}",
// "{{section:<key>}}", "{{rule:<key>}}") in ids, references, group members and positions, which
// apply resolves to the ids NSX assigned.
type Step struct {
	Op Op `json:"op"`
	// Reason says why the step is needed, for logs and events.
	Reason string `json:"reason"`
	// Guard marks the creation and removal of guard sections (guard.go).
	Guard bool `json:"guard,omitempty"`
	// Key is the IR key of the section or group the step writes (for the delete of an existing
	// object: the value of its key tag).
	Key string `json:"key,omitempty"`
	// ID is the NSX id of the section or group written (a placeholder for objects this plan
	// creates); empty for creates.
	ID string `json:"id,omitempty"`
	// GroupKind says whether a group step is about an NSGroup or an IPSet.
	GroupKind ir.GroupKind `json:"groupKind,omitempty"`
	// SectionID is the section of a rule step.
	SectionID string `json:"sectionId,omitempty"`
	// RuleKey and RuleID name the rule of a rule step (RuleID is empty for CreateRule).
	RuleKey string `json:"ruleKey,omitempty"`
	RuleID  string `json:"ruleId,omitempty"`
	// Revision is the _revision the plan saw on the object written: the section for section
	// steps and CreateRule, the rule for UpdateRule and ReviseRule, the group for UpdateGroup.
	// Apply sends the newest revision it knows, which is this one unless an earlier step of the
	// plan wrote the same object.
	Revision int64 `json:"revision,omitempty"`
	// SectionRevision is the _revision the plan saw on the section of a rule step; every rule
	// write bumps it, and apply tracks it from there.
	SectionRevision int64 `json:"sectionRevision,omitempty"`
	// Position places created and moved sections and rules.
	Position *Position `json:"position,omitempty"`
	// Section is the section body (attributes) of section steps.
	Section *nsxclient.FirewallSection `json:"section,omitempty"`
	// Rules is the full rule list of CreateSection, UpdateSectionRules and ReviseSection with
	// WithRules.
	Rules     []nsxclient.FirewallRule `json:"rules,omitempty"`
	WithRules bool                     `json:"withRules,omitempty"`
	// Rule is the body of CreateRule, UpdateRule and ReviseRule.
	Rule *nsxclient.FirewallRule `json:"rule,omitempty"`
	// NSGroup or IPSet is the body of CreateGroup and UpdateGroup.
	NSGroup *nsxclient.NSGroup `json:"nsGroup,omitempty"`
	IPSet   *nsxclient.IPSet   `json:"ipSet,omitempty"`
	// RulesBefore is how many rules the section had before this step (delete/move), used by the
	// safety analysis; informational for apply.
	RulesBefore int `json:"rulesBefore,omitempty"`
}

// Position operations (the NSX query parameter values).
const (
	InsertTop    = "insert_top"
	InsertBefore = "insert_before"
	InsertAfter  = "insert_after"
)

// Position says where a created or moved section or rule goes: Op is InsertTop, InsertBefore or
// InsertAfter; Anchor is the id (or placeholder) of the section or rule to place it next to.
type Position struct {
	Op     string `json:"op"`
	Anchor string `json:"anchor,omitempty"`
}

func top() *Position                 { return &Position{Op: InsertTop} }
func before(anchor string) *Position { return &Position{Op: InsertBefore, Anchor: anchor} }
func after(anchor string) *Position  { return &Position{Op: InsertAfter, Anchor: anchor} }

// String is e.g. "insert_after 1234".
func (p Position) String() string { return strings.TrimSpace(p.Op + " " + p.Anchor) }

// Placeholder kinds.
const (
	PlaceholderGroup   = "group"
	PlaceholderSection = "section"
	PlaceholderRule    = "rule"
)

// Placeholder names an object created by an earlier step of the same plan.
func Placeholder(kind, key string) string { return "{{" + kind + ":" + key + "}}" }

// ParsePlaceholder splits a placeholder into its kind and key; ok is false for a literal id.
func ParsePlaceholder(s string) (kind, key string, ok bool) {
	inner, found := strings.CutPrefix(s, "{{")
	if !found {
		return "", "", false
	}
	inner, found = strings.CutSuffix(inner, "}}")
	if !found {
		return "", "", false
	}
	kind, key, ok = strings.Cut(inner, ":")
	return kind, key, ok && key != ""
}
