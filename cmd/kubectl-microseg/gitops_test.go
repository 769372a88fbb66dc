package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/microseg/microseg/internal/testenv"
)

// TestGitOpsExampleJob runs docs/examples/gitops-diff.sh as a CI job would: in a git repository
// whose main branch holds config/samples under clusters/prod and whose pull request replaces the
// NetworkPolicies and adds two ClusterSecurityPolicies (internal/diff/testdata), with the binary
// built from this tree. The job fails (exit 3) because connections flip, writes the Markdown
// comment, and with ALLOW_FLIPS=1 reports without failing. No network: git archive reads main.
func TestGitOpsExampleJob(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary and runs git")
	}
	gitTool, err := exec.LookPath("git")
	if err != nil {
		t.Skip("no git on PATH")
	}
	root, err := testenv.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "kubectl-microseg")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "github.com/microseg/microseg/cmd/kubectl-microseg").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	repo := t.TempDir()
	prod := filepath.Join(repo, "clusters", "prod")
	git := func(args ...string) {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), gitTool, args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=ci", "GIT_AUTHOR_EMAIL=ci@example.com", "GIT_COMMITTER_NAME=ci", "GIT_COMMITTER_EMAIL=ci@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	copyDir(t, filepath.Join(root, "config", "samples"), prod)
	git("init", "-q", "-b", "main")
	git("add", ".")
	git("commit", "-q", "-m", "the reference scenario")
	git("checkout", "-q", "-b", "pull-request")
	copyDir(t, filepath.Join(root, "internal", "diff", "testdata", "head"), prod)
	git("add", ".")
	git("commit", "-q", "-m", "service-b admits service-c; service-a may not reach service-c; a staged policy")

	job := func(env ...string) (string, int) {
		cmd := exec.CommandContext(t.Context(), filepath.Join(root, "docs", "examples", "gitops-diff.sh"), "main", "clusters/prod")
		cmd.Dir = repo
		cmd.Env = append(append(os.Environ(), "KUBECTL_MICROSEG="+bin), env...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return out.String(), exit.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return out.String(), 0
	}
	out, code := job()
	comment, err := os.ReadFile(filepath.Join(repo, "microseg-diff.md"))
	if err != nil {
		t.Fatal(err)
	}
	if code != 3 || !strings.HasPrefix(string(comment), "### ⚠️ microseg: 8 connections flip") || !strings.Contains(string(comment), "staged-no-b-to-c") {
		t.Errorf("the job: exit %d, output\n%s\ncomment\n%s", code, out, comment)
	}
	if out, code := job("ALLOW_FLIPS=1"); code != 0 {
		t.Errorf("with ALLOW_FLIPS=1: exit %d\n%s", code, out)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
