package simulate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dualStackWorld: a and b are dual-stack, c is IPv6-only, d IPv4-only; b accepts only a's IPv4
// address, so the family a probe uses decides its verdict.
const dualStackWorld = `
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: ds, labels: {app: a}}
status: {podIPs: [{ip: 10.0.0.1}, {ip: "fd00::1"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: ds, labels: {app: b}}
status: {podIPs: [{ip: "fd00::2"}, {ip: 10.0.0.2}]}
---
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: ds}
status: {podIPs: [{ip: "fd00::3"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: d, namespace: ds}
status: {podIPs: [{ip: 10.0.0.4}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b-from-a-v4, namespace: ds}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress:
    - from: [{ipBlock: {cidr: 10.0.0.1/32}}]
`

func writeWorld(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "world.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAddressFamilies(t *testing.T) {
	path := writeWorld(t, dualStackWorld)
	stdout, stderr, code := runCommand(t, "-f", path, "-o", "json", "--ports", "80")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := map[string]Record{}
	for _, r := range decodeRecords(t, stdout) {
		got[r.Source+" "+r.Destination] = r
	}
	want := map[string]struct {
		srcIP, dstIP string
		allowed      bool
	}{
		"ds/a ds/b": {"10.0.0.1", "10.0.0.2", true}, // IPv4 preferred; b lists IPv6 first
		"ds/d ds/b": {"10.0.0.4", "10.0.0.2", false},
		"ds/a ds/c": {"fd00::1", "fd00::3", true}, // c has only IPv6
		"ds/c ds/b": {"fd00::3", "fd00::2", false},
	}
	for pair, w := range want {
		r, ok := got[pair]
		if !ok || r.SourceIP != w.srcIP || r.DestinationIP != w.dstIP || r.Allowed != w.allowed {
			t.Errorf("%s: got %+v, want %s → %s allowed=%v", pair, r, w.srcIP, w.dstIP, w.allowed)
		}
	}
	if _, ok := got["ds/c ds/d"]; ok {
		t.Error("c (IPv6 only) and d (IPv4 only) share no family but were probed")
	}
	if len(got) != 10 {
		t.Errorf("%d probes, want 10 (12 ordered pairs less c↔d)", len(got))
	}
	if !strings.Contains(stderr, "note: 2 pod pairs not probed: the two pods share no address family") {
		t.Errorf("stderr does not note the skipped pairs:\n%s", stderr)
	}

	// In the table, the unprobed pairs are marked and the legend says so.
	table, _, _ := runCommand(t, "-f", path, "--ports", "80")
	if !strings.Contains(table, "? not probed (no common address family)") || !strings.Contains(table, "  3 ds/c  ✓ ✗ - ?") {
		t.Errorf("table does not mark unprobed pairs:\n%s", table)
	}

	// --family 6: d has no IPv6 address and is left out; a reaches b over IPv6, which b refuses.
	stdout, stderr, code = runCommand(t, "-f", path, "-o", "json", "--ports", "80", "--family", "6")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	recs := decodeRecords(t, stdout)
	if len(recs) != 6 {
		t.Errorf("--family 6: %d probes, want 6 (a, b, c)", len(recs))
	}
	for _, r := range recs {
		if !strings.Contains(r.SourceIP, ":") || !strings.Contains(r.DestinationIP, ":") {
			t.Errorf("--family 6 probed %s → %s", r.SourceIP, r.DestinationIP)
		}
		if r.Source == "ds/a" && r.Destination == "ds/b" && r.Allowed {
			t.Error("--family 6: a → b allowed over IPv6, but b accepts only a's IPv4 address")
		}
	}
	if !strings.Contains(stderr, "note: pod ds/d not probed: it has no IPv6 address") {
		t.Errorf("stderr does not note d:\n%s", stderr)
	}
}
