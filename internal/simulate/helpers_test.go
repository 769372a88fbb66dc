package simulate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/microseg/microseg/internal/testenv"
)

// samplesDir is config/samples: the reference scenario.
func samplesDir(t testing.TB) string {
	t.Helper()
	root, err := testenv.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "config", "samples")
}

// runCommand runs the simulate subcommand in-process, as the binary would.
func runCommand(t testing.TB, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Command(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// decodeRecords reads -o json output: JSON Lines, unknown fields refused.
func decodeRecords(t testing.TB, out string) []Record {
	t.Helper()
	var recs []Record
	sc := bufio.NewScanner(bytes.NewBufferString(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var r Record
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("line %q is not a Record: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

// portsString is the ports' names, space-separated.
func portsString(ps []Port) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, " ")
}
