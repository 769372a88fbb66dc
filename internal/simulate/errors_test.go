package simulate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInputErrors: everything the user gives wrong exits 1 with a message on stderr that says
// what to fix, and prints nothing on stdout.
func TestInputErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	badYAML := write("bad.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: [x\n")
	noKind := write("nokind.yaml", "metadata: {name: x}\n")
	wrongType := write("wrongtype.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: n}\nspec: {replicas: two}\n")
	twice := write("twice.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n")
	noPods := write("nopods.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n")
	samples := samplesDir(t)

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no -f", nil, "no manifests: pass -f FILE_OR_DIR"},
		{"missing file", []string{"-f", filepath.Join(dir, "missing.yaml")}, "missing.yaml: no such file or directory"},
		{"missing among several", []string{"-f", samples + "," + filepath.Join(dir, "nope")}, "nope: no such file or directory"},
		{"bad YAML", []string{"-f", badYAML}, "bad.yaml: document 1"},
		{"no kind", []string{"-f", noKind}, "has no apiVersion or kind"},
		{"wrong field type", []string{"-f", wrongType}, "Deployment d"},
		{"object twice", []string{"-f", twice}, "Namespace//x appears twice"},
		{"no pods", []string{"-f", noPods}, "nothing to probe: the manifests hold no pods"},
		{"unknown output", []string{"-f", samples, "-o", "yaml"}, `-o "yaml": the output formats are table, json and html`},
		{"bad port", []string{"-f", samples, "--ports", "80,http"}, `"http" is not a port number (1-65535); write entries like 80, 443/UDP`},
		{"bad protocol", []string{"-f", samples, "--ports", "53/ICMP"}, "not TCP, UDP or SCTP"},
		{"reversed range", []string{"-f", samples, "--ports", "90-80"}, "write 80-90"},
		{"bad family", []string{"-f", samples, "--family", "5"}, "--family 5: use 4 or 6"},
		{"non-numeric family", []string{"-f", samples, "--family", "v6"}, "invalid value \"v6\" for flag -family"},
		{"unknown flag", []string{"-f", samples, "--bogus"}, "flag provided but not defined: -bogus"},
		{"positional argument", []string{"-f", samples, "config/"}, `unexpected argument "config/": pass manifests with -f`},
		{"filter matching nothing", []string{"-f", samples, "--from", "x1/nope"}, `--from "x1/nope" matches no pod; the pods are x1/service-a-0`},
		{"selector matching nothing", []string{"-f", samples, "--to", "app=nope"}, `--to "app=nope" matches no pod`},
		{"bad selector", []string{"-f", samples, "--to", "app in (a"}, `--to "app in (a": not a label selector`},
		{"filter without namespace", []string{"-f", samples, "--from", "/service-a"}, "name a namespace (or * for every namespace)"},
		{"empty cluster id", []string{"-f", samples, "--cluster-id", ""}, "--cluster-id must not be empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := runCommand(t, c.args...)
			if code != ExitInput {
				t.Errorf("exit %d, want %d", code, ExitInput)
			}
			if !strings.Contains(stderr, c.want) {
				t.Errorf("stderr %q does not say %q", stderr, c.want)
			}
			if !strings.HasPrefix(stderr, "kubectl-microseg simulate: ") {
				t.Errorf("stderr %q does not start with the command name", stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, arg := range []string{"-h", "--help", "-help"} {
		stdout, stderr, code := runCommand(t, arg)
		if code != ExitOK || stderr != "" || !strings.Contains(stdout, "kubectl microseg simulate -f config/samples/") {
			t.Errorf("%s: exit %d, stderr %q, stdout without the examples:\n%s", arg, code, stderr, stdout)
		}
	}
}

func TestExitCodeOfPipelineFailure(t *testing.T) {
	if got := ExitCode(os.ErrClosed); got != ExitInternal {
		t.Errorf("ExitCode(an error that is not the user's) = %d, want %d", got, ExitInternal)
	}
	if got := ExitCode(inputErrorf("x")); got != ExitInput {
		t.Errorf("ExitCode(input error) = %d, want %d", got, ExitInput)
	}
}

func TestInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var out, errOut strings.Builder
	if code := Command(ctx, []string{"-f", samplesDir(t)}, &out, &errOut); code != ExitInterrupted || out.String() != "" {
		t.Errorf("cancelled run: exit %d, stdout %q, stderr %q; want %d and no output", code, out.String(), errOut.String(), ExitInterrupted)
	}
}

func TestNothingProbeable(t *testing.T) {
	path := writeWorld(t, "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: ns1}\n")
	_, stderr, code := runCommand(t, "-f", path, "--family", "6")
	if code != ExitInput || !strings.Contains(stderr, "none of the 1 pods can be probed") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
