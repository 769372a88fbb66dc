package nsxsync_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/microseg/microseg/"

// entryPoints are the planner's and the applier's entry points: only the sync path, its
// backends and their own packages may use them. Anything else that reads, plans and applies is
// a second orchestration.
var entryPoints = map[string][]string{
	module + "internal/plan":           {"Compute", "GuardFor"},
	module + "internal/apply":          nil, // the whole package
	module + "internal/nsxsync/policy": {"Compute"},
}

// allowed are the directories (from the repository root) that may use them.
var allowed = []string{"internal/nsxsync/", "internal/plan/", "internal/apply/"}

// TestOneSyncPath scans every Go file of the repository (the conformance module included): no
// package outside the sync path calls plan.Compute or plan.GuardFor or imports internal/apply.
func TestOneSyncPath(t *testing.T) {
	root := repositoryRoot(t)
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel := filepath.ToSlash(strings.TrimPrefix(path, root+string(filepath.Separator)))
		files++
		for _, v := range violations(t, path) {
			if !isAllowed(rel) {
				t.Errorf("%s: %s — read, plan and apply go through nsxsync.Sync (internal/nsxsync); a backend lives under internal/nsxsync/", rel, v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("only %d Go files found under %s: the scan is not looking at the repository", files, root)
	}
	// The check must be able to fail: the sync path itself uses the entry points.
	if v := violations(t, filepath.Join(root, "internal", "nsxsync", "manager", "manager.go")); len(v) == 0 {
		t.Fatal("the scan finds no use of the entry points even in the Manager backend")
	}
}

func isAllowed(rel string) bool {
	for _, a := range allowed {
		if strings.HasPrefix(rel, a) {
			return true
		}
	}
	return false
}

// violations lists the uses of the entry points in one file.
func violations(t *testing.T, path string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []string
	names := map[string]string{} // local name → import path, for the packages watched
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		funcs, watched := entryPoints[p]
		if !watched {
			continue
		}
		if funcs == nil {
			out = append(out, "imports "+p)
			continue
		}
		name := p[strings.LastIndex(p, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		names[name] = p
	}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		switch fn := call.Fun.(type) {
		case *ast.SelectorExpr:
			if x, ok := fn.X.(*ast.Ident); ok && names[x.Name] != "" && slices.Contains(entryPoints[names[x.Name]], fn.Sel.Name) {
				out = append(out, "calls "+x.Name+"."+fn.Sel.Name)
			}
		case *ast.Ident: // a dot import
			if p := names["."]; p != "" && slices.Contains(entryPoints[p], fn.Name) {
				out = append(out, "calls "+fn.Name+" of "+p)
			}
		}
		return true
	})
	return out
}

// repositoryRoot is the directory of the go.mod that declares the module.
func repositoryRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module "+strings.TrimSuffix(module, "/")+"\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod of " + module + " above the test's directory")
		}
		dir = parent
	}
}
