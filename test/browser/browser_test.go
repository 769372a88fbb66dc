//go:build browser

// Package browser renders kubectl-microseg's HTML reports in a real browser (headless Chromium
// from Debian's packages; `make browser-test` installs it when missing) and checks what the
// browser drew against the JSON output of the same runs: every heat-map cell, its verdict and
// flip mark, and the per-port counts the page's script computes. It also takes a screenshot of
// each page. It is behind the "browser" build tag, so that `make test` needs no browser; CI runs
// it from .ci/run after `make test`.
package browser

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/microseg/microseg/internal/diff"
	"github.com/microseg/microseg/internal/simulate"
	"github.com/microseg/microseg/internal/testenv"
)

// chromium finds the browser: $CHROMIUM, or chromium / chromium-browser on PATH.
func chromium(t *testing.T) string {
	t.Helper()
	if c := os.Getenv("CHROMIUM"); c != "" {
		return c
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no chromium on PATH: run `make browser-test`, which installs Debian's chromium package when it is missing")
	return ""
}

// outDir keeps the pages and screenshots: $BROWSER_TEST_OUT, or the test's temporary directory.
func outDir(t *testing.T) string {
	if d := os.Getenv("BROWSER_TEST_OUT"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// render runs headless Chromium on a page: its DOM after the scripts ran, and a screenshot.
func render(t *testing.T, page, screenshot string) *html.Node {
	t.Helper()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--no-first-run", "--user-data-dir=" + t.TempDir(), "--window-size=1400,1000"}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var dom, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, chromium(t), append(base, "--dump-dom", "file://"+page)...)
	cmd.Stdout, cmd.Stderr = &dom, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium --dump-dom %s: %v\n%s", page, err, stderr.String())
	}
	cmd = exec.CommandContext(ctx, chromium(t), append(base, "--screenshot="+screenshot, "file://"+page)...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium --screenshot %s: %v\n%s", page, err, stderr.String())
	}
	f, err := os.Open(screenshot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil || img.Bounds().Dx() != 1400 {
		t.Fatalf("screenshot %s: %v, bounds %v", screenshot, err, img.Bounds())
	}
	t.Logf("screenshot: %s", screenshot)
	doc, err := html.Parse(&dom)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// drawn is a heat-map cell as the browser drew it.
type drawn struct {
	verdict string
	flipped bool
	// explains are deciding objects the cell's hover text must name (not compared as a whole).
	explains string
}

// cells reads every drawn cell, by "source destination port", and the per-port summaries.
func cells(t *testing.T, doc *html.Node) (map[string]drawn, map[string]map[string]string, bool) {
	t.Helper()
	out := map[string]drawn{}
	summaries := map[string]map[string]string{}
	rendered := false
	var walk func(n *html.Node, port string)
	walk = func(n *html.Node, port string) {
		if n.Type == html.ElementNode {
			a := attrs(n)
			switch {
			case n.Data == "body" && a["data-rendered"] == "true":
				rendered = true
			case n.Data == "table" && a["data-port"] != "":
				port = a["data-port"]
			case n.Data == "p" && strings.Contains(a["class"], "summary"):
				summaries[port] = a
			case n.Data == "section" && a["data-port"] != "":
				port = a["data-port"]
			case n.Data == "td" && a["data-verdict"] != "":
				key := a["data-source"] + " " + a["data-destination"] + " " + port
				if _, dup := out[key]; dup {
					t.Errorf("cell %s drawn twice", key)
				}
				out[key] = drawn{verdict: a["data-verdict"], flipped: a["data-flipped"] == "true", explains: a["data-tip"]}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, port)
		}
	}
	walk(doc, "")
	return out, summaries, rendered
}

func attrs(n *html.Node) map[string]string {
	m := map[string]string{}
	for _, a := range n.Attr {
		m[a.Key] = a.Val
	}
	return m
}

func samples(t *testing.T) string {
	root, err := testenv.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "config", "samples")
}

// check compares the drawn cells with what the JSON output says, and the page's counts.
func check(t *testing.T, doc *html.Node, want map[string]drawn) {
	t.Helper()
	got, summaries, rendered := cells(t, doc)
	if !rendered {
		t.Fatal("the page's script did not run")
	}
	if len(got) != len(want) {
		t.Errorf("%d cells drawn, the JSON output has %d", len(got), len(want))
	}
	counts := map[string]map[string]int{}
	for key, w := range want {
		g, ok := got[key]
		if !ok || g.verdict != w.verdict || g.flipped != w.flipped || !strings.Contains(g.explains, w.explains) {
			t.Errorf("cell %s: drawn %+v (present %v), the JSON output says %+v", key, g, ok, w)
		}
		port := key[strings.LastIndex(key, " ")+1:]
		if counts[port] == nil {
			counts[port] = map[string]int{}
		}
		counts[port][w.verdict]++
		if w.flipped {
			counts[port]["flipped"]++
		}
	}
	for port, c := range counts {
		s := summaries[port]
		for _, k := range []string{"allowed", "denied", "mixed", "flipped"} {
			if s["data-"+k] != fmt.Sprint(c[k]) {
				t.Errorf("port %s: the page counts %s %s, the JSON output %d", port, k, s["data-"+k], c[k])
			}
		}
	}
	t.Logf("%d cells drawn as the JSON output says, on %d ports", len(got), len(counts))
}

func write(t *testing.T, dir, name string, f func(*bytes.Buffer) error) string {
	t.Helper()
	var b bytes.Buffer
	if err := f(&b); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSimulateReport: simulate -o html of config/samples, against simulate -o json.
func TestSimulateReport(t *testing.T) {
	dir := outDir(t)
	opts := simulate.Options{Paths: []string{samples(t)}, ClusterID: "microseg", Output: simulate.OutputHTML}
	res, err := simulate.Simulate(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	page := write(t, dir, "simulate.html", func(b *bytes.Buffer) error { return simulate.WriteHTML(b, res, "simulate") })
	var js bytes.Buffer
	if err := simulate.WriteJSON(&js, res); err != nil {
		t.Fatal(err)
	}
	want := map[string]drawn{}
	for sc := bufio.NewScanner(&js); sc.Scan(); {
		var r simulate.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		want[fmt.Sprintf("%s %s %d/%s", r.Source, r.Destination, r.Port, r.Protocol)] = drawn{verdict: map[bool]string{true: "allowed", false: "denied"}[r.Allowed],
			explains: "ingress at the destination: " + simulate.SideText(r.Ingress)}
	}
	check(t, render(t, page, filepath.Join(dir, "simulate.png")), want)
}

// TestMatrixReport: the grouped page (matrix's -o html), against the grouped JSON Lines.
func TestMatrixReport(t *testing.T) {
	dir := outDir(t)
	opts := simulate.Options{Paths: []string{samples(t)}, ClusterID: "microseg", GroupBy: "app", Output: simulate.OutputHTML}
	res, err := simulate.Simulate(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	page := write(t, dir, "matrix.html", func(b *bytes.Buffer) error { return simulate.WriteHTML(b, res, "matrix") })
	var js bytes.Buffer
	if err := simulate.WriteGroupJSON(&js, res); err != nil {
		t.Fatal(err)
	}
	want := map[string]drawn{}
	for sc := bufio.NewScanner(&js); sc.Scan(); {
		var r simulate.GroupRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		want[fmt.Sprintf("%s %s %d/%s", r.Source, r.Destination, r.Port, r.Protocol)] = drawn{verdict: r.Verdict}
	}
	check(t, render(t, page, filepath.Join(dir, "matrix.png")), want)
}

// TestDiffReport: the diff's page of internal/diff's known change, its flipped cells against the
// diff's JSON Lines and the other cells against the head's simulation.
func TestDiffReport(t *testing.T) {
	dir := outDir(t)
	s := samples(t)
	root := filepath.Dir(filepath.Dir(s))
	args := []string{"--base", s, "--head"}
	for _, f := range []string{"namespaces.yaml", "workloads.yaml", "security_v1alpha1_clustersecuritypolicy_protect_service_d.yaml",
		"security_v1alpha1_clustersecuritypolicy_baseline_isolation.yaml"} {
		args = append(args, "-f", filepath.Join(s, f))
	}
	args = append(args, "-f", filepath.Join(root, "internal", "diff", "testdata", "head"))
	opts, err := diff.ParseArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	r, err := diff.Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	page := write(t, dir, "diff.html", func(b *bytes.Buffer) error { return diff.WriteHTML(b, r, "diff") })
	var js bytes.Buffer
	if err := diff.WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	flipped := map[string]bool{}
	for sc := bufio.NewScanner(&js); sc.Scan(); {
		var f diff.Flip
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatal(err)
		}
		flipped[fmt.Sprintf("%s %s %d/%s", f.Source, f.Destination, f.Port, f.Protocol)] = true
	}
	headOpts := opts.Probe
	headOpts.Paths, headOpts.Ports, headOpts.Output = opts.Head, r.Ports, simulate.OutputHTML
	head, err := simulate.Simulate(context.Background(), headOpts)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]drawn{}
	for _, p := range head.Probes {
		rec := simulate.RecordOf(p)
		key := fmt.Sprintf("%s %s %d/%s", rec.Source, rec.Destination, rec.Port, rec.Protocol)
		want[key] = drawn{verdict: map[bool]string{true: "allowed", false: "denied"}[rec.Allowed], flipped: flipped[key],
			explains: "egress at the source: " + simulate.SideText(rec.Egress)}
		if flipped[key] {
			want[key] = drawn{verdict: want[key].verdict, flipped: true, explains: "FLIPS"}
		}
	}
	if len(flipped) != 8 {
		t.Fatalf("%d flips in the JSON output, want the known change's 8", len(flipped))
	}
	check(t, render(t, page, filepath.Join(dir, "diff.png")), want)
}
