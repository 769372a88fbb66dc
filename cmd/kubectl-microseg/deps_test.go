package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCLIDoesNotLinkTheOperator: kubectl-microseg is a user's tool. It reads a live cluster with
// client-go; it must not link controller-runtime or the operator's machinery (the controllers,
// the NCP emulator's controller, the operator's wiring), which would bloat it and tie its build
// to the operator's.
func TestCLIDoesNotLinkTheOperator(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	forbidden := []string{
		"github.com/microseg/microseg/controllers",
		"github.com/microseg/microseg/internal/operator",
		"github.com/microseg/microseg/internal/ncpemu",
	}
	deps := map[string]bool{}
	for _, d := range strings.Fields(string(out)) {
		deps[d] = true
	}
	if !deps["github.com/microseg/microseg/internal/simulate"] {
		t.Fatalf("go list -deps does not list internal/simulate: is this the CLI's directory?\n%s", out)
	}
	for d := range deps {
		if strings.HasPrefix(d, "sigs.k8s.io/controller-runtime") {
			forbidden = append(forbidden, d)
		}
	}
	for _, f := range forbidden {
		if deps[f] {
			t.Errorf("kubectl-microseg links %s: find the import with `go list -deps -f '{{.ImportPath}}: {{.Imports}}' ./cmd/kubectl-microseg | grep %s` and move what the CLI needs into a package of its own", f, f)
		}
	}
}
