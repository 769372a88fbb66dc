package diff

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/microseg/microseg/internal/golden"
	"github.com/microseg/microseg/internal/simulate"
	"github.com/microseg/microseg/internal/testenv"
)

// sides are the base (config/samples) and the head of testdata/README.md.
func sides(t *testing.T) (base, head []string) {
	t.Helper()
	root, err := testenv.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	s := filepath.Join(root, "config", "samples")
	base = []string{s}
	for _, f := range []string{"namespaces.yaml", "workloads.yaml", "security_v1alpha1_clustersecuritypolicy_protect_service_d.yaml",
		"security_v1alpha1_clustersecuritypolicy_baseline_isolation.yaml"} {
		head = append(head, filepath.Join(s, f))
	}
	return base, append(head, filepath.Join("testdata", "head"))
}

func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Command(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func sideArgs(base, head []string) []string {
	args := []string{"--base"}
	for _, b := range base {
		args = append(args, "-f", b)
	}
	args = append(args, "--head")
	for _, h := range head {
		args = append(args, "-f", h)
	}
	return args
}

// TestKnownFlips: the change of testdata/README.md flips exactly the connections it lists, with
// the deciding rules before and after; the staged policy flips nothing but its impact is
// reported; NSX is changed through the sync path and converges.
func TestKnownFlips(t *testing.T) {
	base, head := sides(t)
	opts, err := ParseArgs(sideArgs(base, head))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []FlipGroup{
		{Source: "x1/service-a", Destination: "z1/service-c", Port: simulate.Port{Protocol: "TCP", Number: 8080}, Pairs: 4, NowAllowed: false,
			Before: "ALLOW by NetworkPolicy/z1/service-c-from-a-and-b ingress/0", After: "DROP by ClusterSecurityPolicy/no-a-to-c egress/deny-service-c"},
		{Source: "z1/service-c", Destination: "y1/service-b", Port: simulate.Port{Protocol: "TCP", Number: 8080}, Pairs: 4, NowAllowed: true,
			Before: "DROP by NetworkPolicy/y1/service-b-from-service-a isolate/ingress", After: "ALLOW by NetworkPolicy/y1/service-b-from-service-a ingress/0"},
	}
	if !slices.Equal(r.Groups, want) || len(r.Flips) != 8 {
		t.Errorf("flips %d, groups\n%+v\nwant\n%+v", len(r.Flips), r.Groups, want)
	}
	if len(r.Staged) != 1 || r.Staged[0].Policy != "ClusterSecurityPolicy/staged-no-b-to-c" || r.Staged[0].NewlyDenied != 4 || r.Staged[0].Flips != 4 {
		t.Errorf("staged impacts %+v", r.Staged)
	}
	if r.NSX.Writes == 0 || !r.NSX.Converged || r.NSX.RulesWritten == 0 || r.NSX.SimulatedTime <= 0 {
		t.Errorf("NSX change %+v", r.NSX)
	}
	if r.Compared != 112 || len(r.PodsAdded)+len(r.PodsRemoved) != 0 {
		t.Errorf("compared %d, pods added %v removed %v", r.Compared, r.PodsAdded, r.PodsRemoved)
	}
}

// TestNoChangeNoFlip: the same manifests on both sides flip nothing and write nothing to NSX;
// --fail-on-flip then exits 0, and exits 3 on the change with flips.
func TestNoChangeNoFlip(t *testing.T) {
	base, head := sides(t)
	out, stderr, code := run(t, append(sideArgs(base, base), "--fail-on-flip")...)
	if code != simulate.ExitOK || !strings.HasPrefix(out, "0 connections flip") || !strings.Contains(out, "NSX writes: 0 (none)") {
		t.Errorf("exit %d\n%s\n%s", code, out, stderr)
	}
	if _, stderr, code := run(t, append(sideArgs(base, head), "--fail-on-flip")...); code != simulate.ExitMismatch || !strings.Contains(stderr, "8 connections flip") {
		t.Errorf("with flips and --fail-on-flip: exit %d, %s", code, stderr)
	}
}

// TestBudgetDelta: the report carries both sides' NSX usage; a head over the budget exits 3 and
// says which kind, although nothing else fails.
func TestBudgetDelta(t *testing.T) {
	base, head := sides(t)
	out, stderr, code := run(t, sideArgs(base, head)...)
	if code != simulate.ExitOK || !strings.Contains(out, "NSX budget: rules ") || !strings.Contains(out, " of 100000") {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	r, err := Run(context.Background(), mustParse(t, sideArgs(base, head)...))
	if err != nil {
		t.Fatal(err)
	}
	if r.Budget.After.Rules <= r.Budget.Before.Rules || r.Budget.Before.Rules == 0 {
		t.Fatalf("the head adds rules (a ClusterSecurityPolicy and NetworkPolicies): usage %d → %d", r.Budget.Before.Rules, r.Budget.After.Rules)
	}
	want := fmt.Sprintf("rules %d → %d (%+d) of 100000", r.Budget.Before.Rules, r.Budget.After.Rules, r.Budget.After.Rules-r.Budget.Before.Rules)
	if !strings.Contains(out, want) {
		t.Errorf("want %q in\n%s", want, out)
	}
	limit := fmt.Sprint(r.Budget.After.Rules - 1)
	out, stderr, code = run(t, append(sideArgs(base, head), "--nsx-max-rules", limit)...)
	if code != simulate.ExitOverBudget || !strings.Contains(stderr, "over microseg's NSX budget (rules)") || !strings.Contains(out, "the head is OVER (rules)") {
		t.Errorf("--nsx-max-rules %s: exit %d\n%s\n%s", limit, code, out, stderr)
	}
	if _, _, code := run(t, append(sideArgs(base, head), "--nsx-max-rules", fmt.Sprint(r.Budget.After.Rules))...); code != simulate.ExitOK {
		t.Errorf("at the limit exactly: exit %d, want 0", code)
	}
}

// TestJSONRecordsAgreeWithSimulate: every -o json record is simulate's record of the head, and
// its before and after are what simulate prints for the base and the head, field for field.
func TestJSONRecordsAgreeWithSimulate(t *testing.T) {
	base, head := sides(t)
	out, stderr, code := run(t, append(sideArgs(base, head), "-o", "json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	simulated := func(paths []string) map[string]simulate.Record {
		opts := simulate.Options{Paths: paths, Output: simulate.OutputJSON, ClusterID: "microseg", Ports: []simulate.Port{{Protocol: "TCP", Number: 80}, {Protocol: "TCP", Number: 8080}}}
		res, err := simulate.Simulate(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		byKey := map[string]simulate.Record{}
		for _, p := range res.Probes {
			r := simulate.RecordOf(p)
			byKey[fmt.Sprintf("%s %s %d/%s", r.Source, r.Destination, r.Port, r.Protocol)] = r
		}
		return byKey
	}
	before, after := simulated(base), simulated(head)
	n := 0
	for sc := bufio.NewScanner(strings.NewReader(out)); sc.Scan(); n++ {
		var f Flip
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		key := fmt.Sprintf("%s %s %d/%s", f.Source, f.Destination, f.Port, f.Protocol)
		b, a := before[key], after[key]
		if f.Record != a || f.After != (Verdict{a.Allowed, a.Egress, a.Ingress}) || f.Before != (Verdict{b.Allowed, b.Egress, b.Ingress}) || b.Allowed == a.Allowed {
			t.Errorf("%s: diff record %+v\nsimulate before %+v\nsimulate after %+v", key, f, b, a)
		}
	}
	if n != 8 {
		t.Errorf("%d JSON records, want 8", n)
	}
}

// TestTextAndMarkdownGolden pins the text and markdown reports of the known change.
func TestTextAndMarkdownGolden(t *testing.T) {
	base, head := sides(t)
	for _, format := range []string{"text", "markdown"} {
		out, stderr, code := run(t, append(sideArgs(base, head), "-o", format)...)
		if code != 0 {
			t.Fatalf("-o %s: exit %d: %s", format, code, stderr)
		}
		golden.Check(t, filepath.Join("testdata", "known-change."+format+".golden"), []byte(out))
	}
}

// TestParseArgs: the two sides, -f attached to the side named last, directories, errors.
func TestParseArgs(t *testing.T) {
	o, err := ParseArgs([]string{"--base", "old", "-f", "extra.yaml", "--head=new", "-R", "--ports", "8080", "-o", "markdown"})
	if err != nil || !slices.Equal(o.Base, []string{"old", "extra.yaml"}) || !slices.Equal(o.Head, []string{"new"}) || !o.Recursive ||
		o.Probe.Output != OutputMarkdown || len(o.Probe.Ports) != 1 {
		t.Errorf("parsed %+v, %v", o, err)
	}
	for args, want := range map[string]string{
		"-f a.yaml --head b":        "say whose manifests these are first",
		"--base a":                  "diff needs both sides",
		"--base a --head b -o yaml": `-o "yaml": the output formats are text, json, markdown and html`,
		"--base a --head b stray":   `unexpected argument "stray"`,
	} {
		if _, err := ParseArgs(strings.Fields(args)); err == nil || !strings.Contains(err.Error(), want) || simulate.ExitCode(err) != simulate.ExitInput {
			t.Errorf("%q: %v, want an input error with %q", args, err, want)
		}
	}
}

// mustParse is ParseArgs that fails the test on an error.
func mustParse(t *testing.T, args ...string) Options {
	t.Helper()
	opts, err := ParseArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	return opts
}
