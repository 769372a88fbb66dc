package compile

import (
	"crypto/sha256"
	"encoding/hex"
	"unicode/utf8"
)

// contentHash is the hex SHA-256 of the parts, each length-prefixed so that no two different
// part lists hash alike.
func contentHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		var n [8]byte
		l := uint64(len(p))
		for i := range n {
			n[i] = byte(l >> (8 * i))
		}
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// displayName fits a readable name into NSX's display_name limit; a cut name ends with a short
// hash so that different long names stay different.
func (c *compiler) displayName(name, hash string) string {
	limit := c.limits.MaxDisplayNameLen
	if len(name) <= limit {
		return name
	}
	suffix := "~" + hash[:8]
	return truncateUTF8(name, limit-len(suffix)) + suffix
}

// limitKey keeps a key within the tag value limit (keys are written into NSX tags).
func (c *compiler) limitKey(key string) string {
	limit := c.limits.MaxTagValueLen
	if len(key) <= limit {
		return key
	}
	suffix := "~" + contentHash(key)[:16]
	return truncateUTF8(key, limit-len(suffix)) + suffix
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
