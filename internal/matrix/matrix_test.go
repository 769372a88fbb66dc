package matrix

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/microseg/microseg/internal/kinds"
	"github.com/microseg/microseg/internal/live"
	"github.com/microseg/microseg/internal/live/livetest"
	"github.com/microseg/microseg/internal/manifest"
	"github.com/microseg/microseg/internal/pipeline"
	"github.com/microseg/microseg/internal/reference"
	"github.com/microseg/microseg/internal/simulate"
	"github.com/microseg/microseg/internal/testenv"
)

// samplesCluster is an API server (a fake client) holding config/samples as the cluster would:
// namespaces, pods with addresses, NetworkPolicies and ClusterSecurityPolicies.
func samplesCluster(t *testing.T) live.Reader {
	t.Helper()
	root, err := testenv.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.ReadPaths(filepath.Join(root, "config", "samples"))
	if err != nil {
		t.Fatal(err)
	}
	w, _, err := pipeline.FromObjects(objs)
	if err != nil {
		t.Fatal(err)
	}
	return livetest.Reader(fake.NewClientBuilder().WithScheme(kinds.Scheme()).WithObjects(livetest.Objects(w)...).Build())
}

// TestMatrixGroupsTheReferenceTable: grouped by app, every cell of 8080/TCP is the reference
// table's verdict for the two services, for all four replica pairs, and the JSON records say so.
func TestMatrixGroupsTheReferenceTable(t *testing.T) {
	opts := simulate.Options{Output: simulate.OutputJSON, ClusterID: pipeline.DefaultClusterID, GroupBy: "app", Source: "the cluster",
		Ports: []simulate.Port{{Protocol: "TCP", Number: reference.ServedPort}}}
	var stderr bytes.Buffer
	res, err := Run(context.Background(), samplesCluster(t), opts, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := simulate.Write(&out, res, opts, "matrix"); err != nil {
		t.Fatal(err)
	}
	want := map[[2]string]bool{}
	for _, row := range reference.Table {
		want[[2]string{reference.Namespace[row.From] + "/" + row.From, reference.Namespace[row.To] + "/" + row.To}] = row.Allowed
	}
	n := 0
	for sc := bufio.NewScanner(&out); sc.Scan(); n++ {
		var rec simulate.GroupRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		allowed, inTable := want[[2]string{rec.Source, rec.Destination}]
		pairs := 4
		if rec.Source == rec.Destination {
			pairs = 2 // the two replicas of a service reach each other both ways
		}
		if rec.Pairs != pairs || (inTable && (rec.Allowed != allowed || rec.Verdict == "mixed")) {
			t.Errorf("%+v: want %d pairs, allowed %v (in the table: %v)", rec, pairs, allowed, inTable)
		}
	}
	if n != 16 {
		t.Errorf("%d group records, want 4 × 4", n)
	}
	var table bytes.Buffer
	opts.Output = simulate.OutputTable
	if err := simulate.Write(&table, res, opts, "matrix"); err != nil || !strings.Contains(table.String(), "4 groups of 8 pods by namespace and label \"app\"") {
		t.Errorf("table output (%v):\n%s", err, table.String())
	}
	t.Logf("\n%s", table.String())
}
