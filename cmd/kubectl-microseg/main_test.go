package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/microseg/microseg/internal/reference"

	"github.com/microseg/microseg/internal/simulate"
	"github.com/microseg/microseg/internal/testenv"
)

func runInProcess(args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestSubcommands(t *testing.T) {
	cases := []struct {
		args                 []string
		code                 int
		stdoutHas, stderrHas string
	}{
		{args: nil, code: 1, stderrHas: "kubectl-microseg simulate -f FILE_OR_DIR"},
		{args: []string{"help"}, code: 0, stdoutHas: "kubectl-microseg version"},
		{args: []string{"--help"}, code: 0, stdoutHas: "kubectl-microseg help [COMMAND]"},
		{args: []string{"help", "simulate"}, code: 0, stdoutHas: "--ports LIST"},
		{args: []string{"simulate", "--help"}, code: 0, stdoutHas: "Exit codes: 0 success"},
		{args: []string{"version"}, code: 0, stdoutHas: "kubectl-microseg "},
		{args: []string{"simulte"}, code: 1, stderrHas: `unknown command "simulte"; the commands are simulate, explain, matrix, diff, version and help`},
		{args: []string{"simulate"}, code: 1, stderrHas: "no manifests: pass -f FILE_OR_DIR"},
	}
	for _, c := range cases {
		stdout, stderr, code := runInProcess(c.args...)
		if code != c.code || !strings.Contains(stdout, c.stdoutHas) || !strings.Contains(stderr, c.stderrHas) {
			t.Errorf("%q: exit %d (want %d)\nstdout: %s\nstderr: %s\nwant stdout with %q, stderr with %q",
				c.args, code, c.code, stdout, stderr, c.stdoutHas, c.stderrHas)
		}
	}
}

// referenceTable is the reference table (internal/reference).
var referenceTable = reference.Table

// TestBinaryOnSamples builds kubectl-microseg and runs it as a user would, on config/samples: the
// JSON output reproduces the reference table for every replica pair on 8080/TCP, the table
// output is the golden one, a missing file exits 1, and the binary reports its version.
func TestBinaryOnSamples(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to build cmd/kubectl-microseg")
	}
	root, err := testenv.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "kubectl-microseg")
	build := exec.CommandContext(t.Context(), goTool, "build", "-o", bin, "github.com/microseg/microseg/cmd/kubectl-microseg")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build cmd/kubectl-microseg: %v\n%s", err, out)
	}
	samples := filepath.Join(root, "config", "samples")
	exe := func(args ...string) (string, string, int) {
		cmd := exec.CommandContext(t.Context(), bin, args...)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var exit *exec.ExitError
		switch {
		case err == nil:
			return out.String(), errOut.String(), 0
		case errors.As(err, &exit):
			return out.String(), errOut.String(), exit.ExitCode()
		}
		t.Fatalf("running %s: %v", bin, err)
		return "", "", -1
	}

	stdout, stderr, code := exe("simulate", "-f", samples, "-o", "json")
	if code != 0 || stderr != "" {
		t.Fatalf("simulate -o json: exit %d, stderr:\n%s", code, stderr)
	}
	allowed := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var r simulate.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("not a JSON record: %q: %v", sc.Text(), err)
		}
		if r.Protocol == "TCP" && r.Port == 8080 {
			allowed[r.Source+" "+r.Destination] = r.Allowed
		}
	}
	namespace := map[string]string{"service-a": "x1", "service-b": "y1", "service-c": "z1", "service-d": "z1"}
	for _, row := range referenceTable {
		for i := range 2 {
			for j := range 2 {
				pair := fmt.Sprintf("%s/%s-%d %s/%s-%d", namespace[row.From], row.From, i, namespace[row.To], row.To, j)
				got, ok := allowed[pair]
				if !ok || got != row.Allowed {
					t.Errorf("%s on 8080/TCP: allowed=%v (probed %v), want %v", pair, got, ok, row.Allowed)
				}
			}
		}
	}

	stdout, stderr, code = exe("simulate", "-f", samples)
	golden, err := os.ReadFile(filepath.Join(root, "internal", "simulate", "testdata", "samples.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 || stderr != "" || stdout != string(golden) {
		t.Errorf("simulate (table): exit %d, stderr %q; stdout differs from internal/simulate/testdata/samples.golden:\n%s", code, stderr, stdout)
	}

	_, stderr, code = exe("simulate", "-f", filepath.Join(samples, "missing.yaml"))
	if code != 1 || !strings.Contains(stderr, "missing.yaml: no such file or directory") {
		t.Errorf("missing file: exit %d, stderr %q; want 1 and a message naming the file", code, stderr)
	}

	stdout, _, code = exe("version")
	if code != 0 || !strings.HasPrefix(stdout, "kubectl-microseg ") {
		t.Errorf("version: exit %d, %q", code, stdout)
	}
}
