package main

import (
	"runtime/debug"
	"strings"
)

// versionString reports what was built, from the build information Go embeds: the module
// version (a tag when installed with go install, "(devel)" in a checkout), the VCS revision and
// whether the tree was modified, and the Go version. Nothing to stamp with -ldflags.
func versionString() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "kubectl-microseg (unknown version)"
	}
	parts := []string{"kubectl-microseg", info.Main.Version}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		if settings["vcs.modified"] == "true" {
			rev += "-dirty"
		}
		parts = append(parts, "revision "+rev)
	}
	parts = append(parts, info.GoVersion)
	return strings.Join(parts, " ")
}
