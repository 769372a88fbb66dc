package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/nsxclient"
)

// Tag scopes microseg writes on the sections and groups it creates. An object is microseg's (for
// one cluster) exactly when it carries TagCluster with that cluster's id; nothing else — display
// names included — is ever used to decide ownership.
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

// NSX field limits that realization respects (nsx-manager-api.md 1.2, 3.2).
const (
	maxTagValue    = 256
	maxDescription = 1024
	maxNotes       = 2048
	maxRuleTag     = 32
	// maxNotesKey leaves room in notes for the fixed text and the hash.
	maxNotesKey = 1800
	// digestPrefix marks a key that was too long for its field and was replaced by its digest.
	digestPrefix = "sha256:"
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

// tagValue returns the value of the first tag with scope ("" if none).
func tagValue(tags []nsxclient.Tag, scope string) string {
	for _, t := range tags {
		if t.Scope == scope {
			return t.Tag
		}
	}
	return ""
}

// EncodeKey is the form of an IR key stored in the TagKey tag: the key itself when it fits a
// tag value (256 characters), otherwise "sha256:<hex digest>" (71 characters), with the full key
// kept in the object's description for humans. Matching compares encoded forms, so a long key
// still identifies its object exactly.
func EncodeKey(key string) string { return encodeWithin(key, maxTagValue) }

func encodeWithin(s string, limit int) string {
	if len(s) <= limit && !strings.HasPrefix(s, digestPrefix) {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return digestPrefix + hex.EncodeToString(sum[:])
}

// ownerTags are the tags of an object microseg creates, sorted by scope so that the desired form
// is canonical.
func ownerTags(clusterID, key, hash string, guard bool) []nsxclient.Tag {
	tags := []nsxclient.Tag{
		{Scope: TagCluster, Tag: clusterID},
		{Scope: TagHash, Tag: encodeWithin(hash, maxTagValue)},
		{Scope: TagKey, Tag: EncodeKey(key)},
	}
	if guard {
		tags = append(tags, nsxclient.Tag{Scope: TagRole, Tag: RoleGuard})
	}
	return tags
}

// ownerDescription says who manages the object and names its full key.
func ownerDescription(clusterID, what, key string) string {
	d := "Managed by microseg (cluster " + clusterID + "); manual changes are reverted. " + what + " " + key
	if len(d) > maxDescription {
		d = d[:maxDescription]
	}
	return d
}

// Rules are NSX EmbeddedResources without tags, so a rule's identity lives in its notes:
// "microseg key=<key> hash=<hash>".
const notesPrefix = "microseg key="

// ruleNotes is the notes field of a realized rule.
func ruleNotes(key, hash string) string {
	return notesPrefix + encodeWithin(key, maxNotesKey) + " hash=" + encodeWithin(hash, 128)
}

// RuleKeyFromNotes returns the (encoded) rule key written by ruleNotes, if notes has that form.
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

// encodedRuleKey is the form of a rule key found in notes.
func encodedRuleKey(key string) string { return encodeWithin(key, maxNotesKey) }

// ruleTag is the rule_tag of a realized rule: a readable origin that NSX prints in packet logs,
// at most 32 characters ("np/<namespace>/<name>", "csp/<name>"); a longer one keeps its start
// and ends in a digest so that different origins stay distinguishable.
func ruleTag(o ir.Origin) string {
	var s string
	switch o.Object.Kind {
	case ir.KindClusterSecurityPolicy:
		s = "csp/" + o.Object.Name
	case ir.KindNetworkPolicy:
		s = "np/" + o.Object.Namespace + "/" + o.Object.Name
	case "":
		s = "microseg"
	default:
		s = strings.ToLower(o.Object.String())
	}
	if len(s) <= maxRuleTag {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return s[:maxRuleTag-9] + "~" + hex.EncodeToString(sum[:4])
}
