package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/microseg/microseg/internal/ir"
)

// Policy ids are chosen by the client, so microseg derives them from the model's keys: a re-read
// finds every object at a path it can compute, with no lookup by tag or name. An id is
//
//	ms-<cluster>-<readable key>-<digest>
//
// where the readable parts keep letters, digits, '.', '_' and '-' (anything else, '/' included,
// becomes '_'), and the digest is the first 10 hex digits of SHA-256 over the cluster id, the
// object's kind and its full key: two keys never share an id even when their readable forms do
// (the digest makes the mapping injective in practice), and two clusters sharing one NSX Manager
// never collide. Ids stay within NSX's 255 characters (the readable key is cut, never the digest)
// and avoid every character a Policy path cannot carry ('/', '?', '#', '%', '|', spaces).

// maxID is the longest id NSX accepts (nsx-operator and terraform validate 255; the server-side
// limit is not documented).
const maxID = 255

// digestLen is the number of hex digits of the digest in an id.
const digestLen = 10

// Kinds of derived ids: each kind is its own name space.
const (
	idPolicy      = "policy"
	idGuard       = "guard"
	idRule        = "rule"
	idGroup       = "group"
	idGuardRule   = "guard-rule"
	maxClusterLen = 40
)

// deriveID is the id of an object of a kind with a key, in cluster.
func deriveID(cluster, kind, key string) string {
	sum := sha256.Sum256([]byte(cluster + "\x00" + kind + "\x00" + key))
	digest := hex.EncodeToString(sum[:])[:digestLen]
	prefix := "ms-" + readable(cluster, maxClusterLen) + "-"
	room := maxID - len(prefix) - 1 - digestLen
	return prefix + readable(key, room) + "-" + digest
}

// readable keeps the id-safe characters of s, replacing the others by '_', cut to n bytes.
func readable(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < n; i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
			b.WriteByte(c)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// tierShort names a tier in policy ids.
func tierShort(t ir.Tier) string {
	switch t {
	case ir.TierSecurity:
		return "sec"
	case ir.TierBaseline:
		return "base"
	}
	return "dev"
}

// policyID is the id of the policy realizing an IR section. The tier is part of the id: NSX
// treats a policy's category as fixed (terraform recreates a policy to change it), so a section
// that changes tier becomes a new policy.
func policyID(cluster string, s *ir.Section) string {
	return deriveID(cluster, idPolicy, tierShort(s.Tier)+"."+s.Key)
}

// ruleID is the id of the rule realizing an IR rule inside its policy.
func ruleID(cluster, ruleKey string) string { return deriveID(cluster, idRule, ruleKey) }

// groupID is the id of the group realizing an IR group in slot 0 (its home). A group repaired by
// a change too large for one call moves to the next free slot instead of being rewritten in place
// (see plan.go), so slots 1, 2, … exist only transiently.
func groupID(cluster, groupKey string, slot int) string {
	if slot == 0 {
		return deriveID(cluster, idGroup, groupKey)
	}
	return deriveID(cluster, idGroup, groupKey+"~"+strconv.Itoa(slot))
}

// guardPolicyID is the id of the n-th guard policy.
func guardPolicyID(cluster string, n int) string {
	return deriveID(cluster, idGuard, "guard-"+strconv.Itoa(n))
}

// guardRuleID is the id of a guard rule, from the fingerprint of its content.
func guardRuleID(cluster, fp string) string { return deriveID(cluster, idGuardRule, fp) }
