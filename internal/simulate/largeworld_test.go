package simulate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeLargeWorld writes a world of namespaces × apps × replicas pods: each app serves http on
// 8080 and metrics on 9090, every namespace isolates its apps except from the previous app in
// the same namespace and from a monitoring namespace, and a Baseline policy denies everything
// cross-namespace. It returns the directory.
func writeLargeWorld(t testing.TB, namespaces, apps, replicas int) string {
	t.Helper()
	var b strings.Builder
	for n := range namespaces {
		ns := fmt.Sprintf("ns%02d", n)
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n  labels: {team: t%d}\n", ns, n%3)
		for a := range apps {
			fmt.Fprintf(&b, `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app%02d, namespace: %s}
spec:
  replicas: %d
  selector: {matchLabels: {app: app%02d}}
  template:
    metadata: {labels: {app: app%02d, tier: t%d}}
    spec:
      containers:
        - name: main
          image: example
          ports: [{name: http, containerPort: 8080}, {name: metrics, containerPort: 9090}]
`, a, ns, replicas, a, a, a%2)
			if a > 0 {
				fmt.Fprintf(&b, `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: app%02d-ingress, namespace: %s}
spec:
  podSelector: {matchLabels: {app: app%02d}}
  ingress:
    - from: [{podSelector: {matchLabels: {app: app%02d}}}]
      ports: [{port: http}]
    - from: [{namespaceSelector: {matchLabels: {team: t0}}, podSelector: {matchExpressions: [{key: tier, operator: NotIn, values: [t1]}]}}]
      ports: [{port: metrics}, {port: 7000, endPort: 7010, protocol: UDP}]
`, a, ns, a, a-1)
			}
		}
	}
	b.WriteString(`---
apiVersion: security.microseg.io/v1alpha1
kind: ClusterSecurityPolicy
metadata: {name: baseline-deny-cross-namespace}
spec:
  tier: Baseline
  priority: 100
  subject: {namespaces: {}}
  ingress:
    - name: deny-all-pods
      action: Deny
      from: [{namespaces: {}}]
`)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "world.yaml"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestLargeWorld: 200 pods (10 namespaces × 10 apps × 2 replicas) on the default ports — five
// of them, so 199,000 probes — simulate in seconds, give the verdicts the policies say, and show
// as a list rather than a matrix.
func TestLargeWorld(t *testing.T) {
	if testing.Short() {
		t.Skip("199,000 probes")
	}
	dir := writeLargeWorld(t, 10, 10, 2)
	start := time.Now()
	opts := Options{Paths: []string{dir}, Output: OutputTable, ClusterID: "microseg"}
	res, err := Simulate(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	t.Logf("%d pods, ports %v: %d probes in %v", len(res.Sources), res.Ports, len(res.Probes), elapsed)
	// Generous for slow CI machines; on a laptop this is about a second.
	if elapsed > 30*time.Second {
		t.Errorf("simulation took %v, want seconds", elapsed)
	}
	if got := portsString(res.Ports); got != "80/TCP 7000/UDP 7010/UDP 8080/TCP 9090/TCP" {
		t.Errorf("default ports %q", got)
	}
	if len(res.Sources) != 200 || len(res.Probes) != 200*199*5 {
		t.Fatalf("%d pods, %d probes; want 200 pods and 199,000 probes", len(res.Sources), len(res.Probes))
	}
	verdict := map[string]bool{}
	for _, p := range res.Probes {
		verdict[p.Source.String()+" "+p.Destination.String()+" "+p.Port.String()] = p.Verdict.Allowed
	}
	expect := []struct {
		src, dst, port string
		allowed        bool
	}{
		{"ns01/app00-0", "ns01/app01-1", "8080/TCP", true},  // the previous app, on http
		{"ns01/app00-0", "ns01/app01-1", "9090/TCP", false}, // not on metrics: ns01 is team t1
		{"ns02/app00-0", "ns01/app01-1", "8080/TCP", false}, // the previous app, but not this namespace
		{"ns00/app00-1", "ns01/app01-0", "9090/TCP", true},  // monitoring: team t0, tier t0
		{"ns03/app02-0", "ns05/app07-0", "7010/UDP", true},  // team t0 (ns03), tier t0 (app02)
		{"ns03/app01-0", "ns05/app07-0", "9090/TCP", false}, // tier t1 is excluded
		{"ns00/app00-1", "ns01/app00-0", "9090/TCP", false}, // app00 has no NetworkPolicy: Baseline denies
		{"ns01/app05-0", "ns01/app00-0", "80/TCP", false},
	}
	for _, e := range expect {
		got, ok := verdict[e.src+" "+e.dst+" "+e.port]
		if !ok || got != e.allowed {
			t.Errorf("%s → %s on %s: allowed=%v (probed %v), want %v", e.src, e.dst, e.port, got, ok, e.allowed)
		}
	}

	var out strings.Builder
	if err := WriteTable(&out, res, opts); err != nil {
		t.Fatal(err)
	}
	table := out.String()
	if strings.Contains(table, "Rows are source pods") || !strings.Contains(table, "\n  ns01/app00-0 → ns01/app01-0, ns01/app01-1\n") {
		t.Errorf("above %d pods the table lists allowed connections per source; got:\n%.3000s", DefaultMatrixMaxPods, table)
	}
}
