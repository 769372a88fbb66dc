package ncptags

import (
	"slices"
	"sort"
	"strings"
)

// reservedScopePrefixes are the tag scope prefixes NCP uses for its own tags, lower case. Every
// consumer reads them through ReservedScopePrefixes and IsReservedScope; a backend whose NCP mode
// writes other identity scopes (NCP in Policy mode, nsx-operator) adds its prefixes here, and the
// admission policy in config/admission must list the same ones (test/apiserver checks it).
var reservedScopePrefixes = []string{"ncp/"}

// ReservedScopePrefixes returns the reserved prefixes, lower case.
func ReservedScopePrefixes() []string { return slices.Clone(reservedScopePrefixes) }

// IsReservedScope reports whether a tag scope (a label key, once NCP copies it) falls under one of
// NCP's reserved prefixes, ignoring case.
func IsReservedScope(scope string) bool {
	lower := strings.ToLower(scope)
	for _, p := range reservedScopePrefixes {
		if strings.HasPrefix(lower, p) {
			return true
		}
	}
	return false
}

// ReservedLabels returns the keys of the labels that would put a tag of a reserved scope on the
// pod's port, sorted.
func ReservedLabels(labels map[string]string) []string {
	var out []string
	for k := range labels {
		if IsReservedScope(k) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
