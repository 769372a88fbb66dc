package simulate

import (
	"strings"
	"testing"
)

// notesWorld has one of everything a run leaves out, and a policy NSX cannot express exactly.
const notesWorld = `
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: ns1}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: ns1}
---
apiVersion: v1
kind: Pod
metadata: {name: host, namespace: ns1}
spec: {hostNetwork: true, containers: [{name: main, image: busybox}]}
---
apiVersion: v1
kind: Pod
metadata: {name: done, namespace: ns1}
status: {phase: Succeeded}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: ns1}
---
apiVersion: security.microseg.io/v1alpha1
kind: ClusterSecurityPolicy
metadata: {name: no-sctp}
spec:
  priority: 5
  subject: {namespaces: {}}
  ingress:
    - name: deny-sctp
      action: Deny
      from: [{namespaces: {}}]
      ports: [{protocol: SCTP, port: 9999}]
`

// TestDiagnosticsOnStderr: warnings and notes go to stderr in both formats, so that stdout
// stays the table or pure JSON Lines; the SCTP port is probed (and the rule applies to it).
func TestDiagnosticsOnStderr(t *testing.T) {
	path := writeWorld(t, notesWorld)
	wantStderr := []string{
		"warning: ClusterSecurityPolicy/no-sctp rule ingress/deny-sctp: SCTPPortsNotExpressible: ",
		"note: skipped ConfigMap settings: not a kind that affects network policy",
		"note: pod ns1/done not probed: it has finished",
		"note: pod ns1/host not probed: it has no logical port (host network)",
	}
	for _, format := range []string{OutputTable, OutputJSON} {
		stdout, stderr, code := runCommand(t, "-f", path, "-o", format)
		if code != ExitOK {
			t.Fatalf("-o %s: exit %d: %s", format, code, stderr)
		}
		for _, w := range wantStderr {
			if !strings.Contains(stderr, w) {
				t.Errorf("-o %s: stderr lacks %q:\n%s", format, w, stderr)
			}
		}
		if strings.Contains(stdout, "warning") || strings.Contains(stdout, "note:") {
			t.Errorf("-o %s: diagnostics on stdout:\n%s", format, stdout)
		}
		if format == OutputJSON {
			recs := decodeRecords(t, stdout)
			if len(recs) != 4 { // a↔b on 80/TCP and 9999/SCTP
				t.Errorf("%d records, want 4", len(recs))
			}
			for _, r := range recs {
				if r.Protocol == "SCTP" && (r.Port != 9999 || r.Allowed || r.Ingress.Object != "ClusterSecurityPolicy/no-sctp") {
					t.Errorf("SCTP probe %+v, want 9999/SCTP denied by no-sctp", r)
				}
			}
		}
	}
}
