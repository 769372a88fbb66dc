package simulate

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/microseg/microseg/internal/reference"
)

// referenceTable is the reference table (internal/reference).
var referenceTable = reference.Table

var referenceNamespace = reference.Namespace

// TestSamplesReproduceReferenceTable is the acceptance criterion: "kubectl-microseg simulate -f
// config/samples/" reproduces the reference table, for every replica pair, on 8080/TCP (the
// container port named http that the policies name), read back from the JSON output.
func TestSamplesReproduceReferenceTable(t *testing.T) {
	stdout, stderr, code := runCommand(t, "-f", samplesDir(t), "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if stderr != "" {
		t.Errorf("the samples compile without warnings or notes, got stderr:\n%s", stderr)
	}
	checkReferenceTable(t, decodeRecords(t, stdout))
}

// checkReferenceTable asserts the design table on 8080/TCP for all 2×2 replica pairs of each row,
// and that the deciding objects are the ones the reference scenario gives each decision to (docs/architecture.md).
func checkReferenceTable(t *testing.T, recs []Record) {
	t.Helper()
	byPair := map[string]Record{}
	for _, r := range recs {
		if r.Protocol == "TCP" && r.Port == 8080 {
			byPair[r.Source+" "+r.Destination] = r
		}
	}
	for _, row := range referenceTable {
		for i := range 2 {
			for j := range 2 {
				src := fmt.Sprintf("%s/%s-%d", referenceNamespace[row.From], row.From, i)
				dst := fmt.Sprintf("%s/%s-%d", referenceNamespace[row.To], row.To, j)
				r, ok := byPair[src+" "+dst]
				if !ok {
					t.Errorf("no 8080/TCP record for %s → %s", src, dst)
					continue
				}
				if r.Allowed != row.Allowed {
					t.Errorf("%s → %s on 8080/TCP: allowed=%v, want %v (egress %+v, ingress %+v)", src, dst, r.Allowed, row.Allowed, r.Egress, r.Ingress)
				}
			}
		}
	}
	// Each decision belongs to the people who own it (the reference
	// scenario: each tier decides what its owners own).
	owners := []struct {
		src, dst, tier, object, rule, action string
	}{
		{"x1/service-a-0", "z1/service-d-1", "Security", "ClusterSecurityPolicy/protect-service-d", "ingress/reject-everyone-else", "REJECT"},
		{"z1/service-c-1", "z1/service-d-0", "Security", "ClusterSecurityPolicy/protect-service-d", "ingress/allow-service-c", "ALLOW"},
		{"x1/service-a-1", "y1/service-b-0", "Developer", "NetworkPolicy/y1/service-b-from-service-a", "ingress/0", "ALLOW"},
		{"y1/service-b-0", "z1/service-c-1", "Developer", "NetworkPolicy/z1/service-c-from-a-and-b", "ingress/0", "ALLOW"},
		{"z1/service-d-0", "z1/service-c-0", "Developer", "NetworkPolicy/z1/service-c-from-a-and-b", "isolate/ingress", "DROP"},
		{"y1/service-b-1", "x1/service-a-0", "Baseline", "ClusterSecurityPolicy/baseline-isolate-app-namespaces", "ingress/deny-from-cluster-pods", "DROP"},
	}
	for _, o := range owners {
		r := byPair[o.src+" "+o.dst]
		if r.Ingress.Tier != o.tier || r.Ingress.Object != o.object || r.Ingress.Rule != o.rule || r.Ingress.Action != o.action {
			t.Errorf("%s → %s ingress decided by %+v, want %s %s %s %s", o.src, o.dst, r.Ingress, o.tier, o.object, o.rule, o.action)
		}
		if r.Egress.Tier != TierDefault || r.Egress.Action != "ALLOW" {
			t.Errorf("%s → %s egress %+v: the samples have no egress policy, want the Default tier allowing", o.src, o.dst, r.Egress)
		}
	}
}

// TestSamplesDefaultPorts: the samples name one port, http, which every pod numbers 8080/TCP
// (the NetworkPolicies' port: http and protect-service-d's namedPort: http); the Baseline rule
// has no ports (every port) and adds none. 80/TCP is always probed: it is the Service port of the
// reference scenario, and on it everything between the pods is denied, because the policies open only
// the container port.
func TestSamplesDefaultPorts(t *testing.T) {
	stdout, stderr, code := runCommand(t, "-f", samplesDir(t), "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	recs := decodeRecords(t, stdout)
	var ports []string
	for _, r := range recs {
		p := fmt.Sprintf("%d/%s", r.Port, r.Protocol)
		if !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
		if r.Port == 80 && r.Allowed {
			t.Errorf("%s → %s allowed on 80/TCP; the policies open only 8080", r.Source, r.Destination)
		}
	}
	if want := []string{"80/TCP", "8080/TCP"}; !slices.Equal(ports, want) {
		t.Errorf("default ports %v, want %v", ports, want)
	}
	// 8 pods: 56 ordered pairs of different pods, on 2 ports.
	if len(recs) != 112 {
		t.Errorf("%d records, want 112 (56 pod pairs × 2 ports)", len(recs))
	}
}

// TestSamplesReproduceReferenceTableOnThePolicyAPI: the same with --nsx-api policy; the deciding
// NSX objects are Policy security policies and rules, named by path.
func TestSamplesReproduceReferenceTableOnThePolicyAPI(t *testing.T) {
	stdout, stderr, code := runCommand(t, "-f", samplesDir(t), "-o", "json", "--nsx-api", "policy")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	recs := decodeRecords(t, stdout)
	checkReferenceTable(t, recs)
	for _, r := range recs {
		if r.Ingress.Tier != TierDefault && !strings.HasPrefix(r.Ingress.SectionID, "/infra/domains/default/security-policies/") {
			t.Fatalf("%s → %s: decided by NSX section %q; want a Policy security policy's path", r.Source, r.Destination, r.Ingress.SectionID)
		}
	}
	if _, _, code := runCommand(t, "-f", samplesDir(t), "--nsx-api", "vpc"); code != ExitInput {
		t.Fatalf("--nsx-api vpc: exit %d; want an input error", code)
	}
}
