// Package ownership is how microseg recognises its own objects in NSX: the tag vocabulary it
// writes on sections and groups, the identity it writes into rule notes, and the reading side, an
// Index of the owned objects by IR key. Ownership is the operator's safety boundary: microseg
// updates, moves or deletes only objects that carry its cluster tag. The design is in
// docs/architecture.md ("Ownership").
package ownership

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/nsxclient"
)

// Tag scopes microseg writes on the objects it creates. An object is microseg's (for one cluster)
// exactly when it carries TagCluster with that cluster's id; nothing else — display names
// included — decides ownership.
const (
	// TagCluster holds the cluster id (ir.Model.ClusterID).
	TagCluster = "microseg.io/cluster"
	// TagKey holds the IR key of the object (or a digest of it, see EncodeKey).
	TagKey = "microseg.io/key"
	// TagHash holds the IR content hash, for humans and quick checks; drift detection compares the
	// content itself, because an administrator can edit an object without touching its tags.
	TagHash = "microseg.io/hash"
	// TagRole marks the temporary guard sections (RoleGuard) that protect a multi-write change.
	TagRole = "microseg.io/role"
	// RoleGuard is the TagRole value of guard sections.
	RoleGuard = "guard"
)

// NSX field limits that realization respects (Manager API: a tag value holds 256 characters, a
// description 1,024, rule notes 2,048, a rule_tag 32).
const (
	MaxTagValue    = 256
	MaxDescription = 1024
	MaxNotes       = 2048
	MaxRuleTag     = 32
	// maxNotesKey leaves room in notes for the fixed text and the hash.
	maxNotesKey = 1800
	// DigestPrefix marks a key that was too long for its field and was replaced by its digest.
	DigestPrefix = "sha256:"
)

// Owned reports whether an object's tags say it belongs to microseg's cluster clusterID.
func Owned(tags []nsxclient.Tag, clusterID string) bool {
	for _, t := range tags {
		if t.Scope == TagCluster && t.Tag == clusterID {
			return true
		}
	}
	return false
}

// TagValue returns the value of the first tag with scope ("" if none).
func TagValue(tags []nsxclient.Tag, scope string) string {
	for _, t := range tags {
		if t.Scope == scope {
			return t.Tag
		}
	}
	return ""
}

// IsGuard reports whether tags mark a guard section.
func IsGuard(tags []nsxclient.Tag) bool { return TagValue(tags, TagRole) == RoleGuard }

// EncodeKey is the form of an IR key stored in the TagKey tag: the key itself when it fits a
// tag value (256 characters), otherwise "sha256:<hex digest>" (71 characters), with the full key
// kept in the object's description for humans. Matching compares encoded forms, so a long key
// still identifies its object exactly.
func EncodeKey(key string) string { return encodeWithin(key, MaxTagValue) }

// EncodeRuleKey is the form of a rule key found in a rule's notes.
func EncodeRuleKey(key string) string { return encodeWithin(key, maxNotesKey) }

func encodeWithin(s string, limit int) string {
	if len(s) <= limit && !strings.HasPrefix(s, DigestPrefix) {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return DigestPrefix + hex.EncodeToString(sum[:])
}

// Tags are the tags of an object microseg creates, sorted by scope so that the desired form is
// canonical.
func Tags(clusterID, key, hash string, guard bool) []nsxclient.Tag {
	tags := []nsxclient.Tag{
		{Scope: TagCluster, Tag: clusterID},
		{Scope: TagHash, Tag: encodeWithin(hash, MaxTagValue)},
		{Scope: TagKey, Tag: EncodeKey(key)},
	}
	if guard {
		tags = append(tags, nsxclient.Tag{Scope: TagRole, Tag: RoleGuard})
	}
	return tags
}

// Description says who manages the object and names its full key (what is "Section", "Group"…).
func Description(clusterID, what, key string) string {
	d := "Managed by microseg (cluster " + clusterID + "); manual changes are reverted. " + what + " " + key
	if len(d) > MaxDescription {
		d = d[:MaxDescription]
	}
	return d
}

// Rules carry no tags in the Manager API, so a rule's identity lives in its notes:
// "microseg key=<key> hash=<hash>".
const notesPrefix = "microseg key="

// RuleNotes is the notes field of a realized rule.
func RuleNotes(key, hash string) string {
	return notesPrefix + EncodeRuleKey(key) + " hash=" + encodeWithin(hash, 128)
}

// RuleKeyFromNotes returns the (encoded, see EncodeRuleKey) rule key written by RuleNotes, if
// notes has that form.
func RuleKeyFromNotes(notes string) (string, bool) {
	rest, ok := strings.CutPrefix(notes, notesPrefix)
	if !ok {
		return "", false
	}
	i := strings.LastIndex(rest, " hash=")
	if i <= 0 {
		return "", false
	}
	return rest[:i], true
}

// RuleTag is the rule_tag of a realized rule: a readable origin that NSX prints in packet logs,
// at most 32 characters (the object's key, ir.ObjectRef.Key: "csp/<name>",
// "np/<namespace>/<name>"); a longer one keeps its start and ends in a digest so that different
// origins stay distinguishable.
func RuleTag(o ir.Origin) string {
	s := "microseg"
	if o.Object.Kind != "" {
		s = o.Object.Key()
	}
	if len(s) <= MaxRuleTag {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return s[:MaxRuleTag-9] + "~" + hex.EncodeToString(sum[:4])
}
