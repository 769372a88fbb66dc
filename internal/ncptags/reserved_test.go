package ncptags

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestReservedScopesAreNCPsWhateverTheCase(t *testing.T) {
	for key, want := range map[string]bool{
		"ncp/project": true, "ncp/pod": true, "ncp/cluster": true, "ncp/anything-else": true,
		"NCP/Project": true, "Ncp/cluster": true,
		"ncp": false, "ncp.io/project": false, "app": false, "example.com/ncp": false, "ncpx/project": false,
	} {
		if got := IsReservedScope(key); got != want {
			t.Errorf("IsReservedScope(%q) = %v, want %v", key, got, want)
		}
	}
	got := ReservedLabels(map[string]string{"app": "a", "ncp/project": "z1", "NCP/pod": "p", "tier": "t"})
	if !slices.Equal(got, []string{"NCP/pod", "ncp/project"}) {
		t.Fatalf("ReservedLabels = %v", got)
	}
	for _, p := range ReservedScopePrefixes() {
		if p != strings.ToLower(p) || !IsReservedScope(p+"x") {
			t.Errorf("reserved prefix %q must be lower case and reserved", p)
		}
	}
}

// TestOnlyTheStandardLibrary keeps the package free of dependencies, so that every consumer (the
// CLI included) can import it without linking Kubernetes or controller-runtime.
func TestOnlyTheStandardLibrary(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if first, _, _ := strings.Cut(path, "/"); strings.Contains(first, ".") {
				t.Errorf("%s imports %s; ncptags must depend on the standard library only", f, path)
			}
		}
	}
}

// TestPolicyModeIdentityScopesAreReserved: NCP in Policy mode identifies a pod's segment port
// with the same ncp/ scopes as in Manager mode, plus the UID scopes nsx-operator's groups match
// on (ncp/project_uid, ncp/vif_project_uid) and others it lists; all fall under the reserved
// prefix, so no extra prefix (and no change to the admission policy) is needed for Policy mode.
func TestPolicyModeIdentityScopesAreReserved(t *testing.T) {
	for _, scope := range []string{"ncp/cluster", "ncp/project", "ncp/pod", "ncp/project_uid", "ncp/vif_project_uid",
		"ncp/pod_uid", "ncp/vnet_interface", "ncp/created_for"} {
		if !IsReservedScope(scope) {
			t.Errorf("Policy-mode NCP identity scope %q is not reserved", scope)
		}
	}
}
