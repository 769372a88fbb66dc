package nsxspec

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// ModulePath identifies the project root: the directory whose go.mod declares this module.
const ModulePath = "github.com/microseg/microseg"

// SpecPathFromRoot is where the vendor spec lives relative to the project root. It stays
// outside the repository on purpose: it is the vendor's file, not ours to redistribute.
var SpecPathFromRoot = filepath.Join("..", "shared", "nsx-api", "nsx_api.json")

// The spec is several megabytes; every test in a process shares one parse.
var (
	sharedOnce sync.Once
	shared     *Spec
	sharedPath string
	sharedErr  error
)

// LoadForTest returns the vendor spec with DefaultOptions, parsed once per test process. When
// the spec is absent the test is skipped, so the suite still runs where the vendor file is not
// available; any other failure (a corrupt spec, no project root) fails the test.
func LoadForTest(t testing.TB) *Spec {
	t.Helper()
	loadShared()
	if skip, reason := skipReason(sharedPath, sharedErr); skip {
		t.Skip(reason)
	}
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

// LoadIfPresent is for tests whose subject is not conformance itself but which check it on the
// way (the simulator's own tests): when the spec is absent it logs why and returns nil, and the
// caller runs without the check instead of skipping everything.
func LoadIfPresent(t testing.TB) *Spec {
	t.Helper()
	loadShared()
	if absent, reason := skipReason(sharedPath, sharedErr); absent {
		t.Log(reason)
		return nil
	}
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

func loadShared() {
	sharedOnce.Do(func() {
		var root string
		if root, sharedErr = findProjectRoot(); sharedErr == nil {
			sharedPath = filepath.Join(root, SpecPathFromRoot)
			shared, sharedErr = Load(sharedPath)
		}
	})
}

// skipReason tells whether a failed load means "spec absent" (skip) rather than a real failure.
func skipReason(path string, err error) (bool, string) {
	if err == nil || !errors.Is(err, fs.ErrNotExist) || path == "" {
		return false, ""
	}
	return true, fmt.Sprintf("NSX API spec not found at %s: the vendor spec lives beside the project (nsxspec.SpecPathFromRoot); skipping spec conformance", path)
}

// findProjectRoot walks up from the working directory (a package directory under go test) to
// the directory whose go.mod declares ModulePath.
func findProjectRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if declaresModule(filepath.Join(dir, "go.mod"), ModulePath) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod for module %s above the working directory", ModulePath)
		}
		dir = parent
	}
}

func declaresModule(goMod, module string) bool {
	f, err := os.Open(goMod)
	if err != nil {
		return false
	}
	defer f.Close()
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		if name, ok := strings.CutPrefix(strings.TrimSpace(lines.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(name), `"`) == module
		}
	}
	return false
}
