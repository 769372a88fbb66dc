package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"

	"github.com/microseg/microseg/internal/ir"
)

// GuardKind says how a guard protects a change.
type GuardKind string

const (
	// GuardCopy is the whole new block copied into ONE section. It holds ALLOW rules, but it is
	// inserted and removed in single writes, and while it is in place every side is decided by the
	// new block's rules wherever they match: a flow the new block denies at a side is denied
	// there, so every intermediate state below it allows only what the new configuration allows.
	// Exact: no flow the new configuration allows is dropped during the change.
	GuardCopy GuardKind = "Copy"
	// GuardDenyOnly is the new block's DROP/REJECT rules, in order, without the ALLOW rules before
	// them: a superset of the new deny set at each side. Safe, but during the change it also drops
	// flows that an earlier ALLOW of the new configuration lets through (for example traffic to
	// pods isolated by a NetworkPolicy that allows some peers). Used only when the new block does
	// not fit in one section.
	GuardDenyOnly GuardKind = "DenyOnly"
)

// guardKeyPrefix marks the keys of guard sections and rules; they never collide with model keys.
const guardKeyPrefix = "guard/"

// GuardFor builds the guard of a desired model (pure): a copy of the whole block when it fits in
// one section of limits.MaxRulesPerSection rules, the deny-only over-approximation otherwise. The
// guard references only the model's own groups.
func GuardFor(desired *ir.Model, limits ir.Limits) (*Guard, GuardKind) {
	return guardFor(desired, limits, true)
}

// guardFor builds the copy when copyAllowed and it fits, the deny-only guard otherwise.
func guardFor(desired *ir.Model, limits ir.Limits, copyAllowed bool) (*Guard, GuardKind) {
	limits = limits.WithDefaults()
	var all, deny []ir.Rule
	for _, s := range desired.Sections {
		for _, r := range s.Rules {
			r.Key = guardKeyPrefix + r.Key
			all = append(all, r)
			if r.Action != ir.ActionAllow {
				deny = append(deny, r)
			}
		}
	}
	if copyAllowed && len(all) <= limits.MaxRulesPerSection {
		return &Guard{Sections: guardSections(all, limits.MaxRulesPerSection)}, GuardCopy
	}
	return &Guard{Sections: guardSections(deny, limits.MaxRulesPerSection)}, GuardDenyOnly
}

func guardSections(rules []ir.Rule, perSection int) []ir.Section {
	var out []ir.Section
	for i := 0; i < len(rules); i += perSection {
		n := len(out) + 1
		s := ir.Section{
			Key:         guardKeyPrefix + strconv.Itoa(n),
			DisplayName: "microseg guard (protects a change in progress) " + strconv.Itoa(n),
			Rules:       rules[i:min(i+perSection, len(rules))],
		}
		s.Hash = sectionHash(s)
		out = append(out, s)
	}
	return out
}

// sectionHash is a content hash of a guard section (its rules carry the model's own hashes).
func sectionHash(s ir.Section) string {
	b, _ := json.Marshal(s) // ir types always marshal
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
