package simulate

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/microseg/microseg/internal/golden"
)

// TestGoldenTables pins the table output on the samples, so that a change to the pipeline or to
// the rendering shows up as a reviewable diff (go test ./internal/simulate/ -run Golden -update).
func TestGoldenTables(t *testing.T) {
	samples := samplesDir(t)
	cases := map[string]struct {
		args []string
		// matrixMaxPods below 8 shows the samples in the list form of large worlds.
		matrixMaxPods int
	}{
		"samples.golden":            {args: []string{"-f", samples}},
		"samples-ascii-8080.golden": {args: []string{"-f", samples, "--ports", "8080", "--ascii"}},
		"samples-filtered.golden":   {args: []string{"-f", samples, "--from", "app in (service-a,service-b)", "--to", "z1", "--ports", "8080"}},
		"samples-list.golden":       {args: []string{"-f", samples, "--ports", "8080"}, matrixMaxPods: 4},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			golden.Check(t, filepath.Join("testdata", name), tableOutput(t, c.args, c.matrixMaxPods))
		})
	}
}

// tableOutput is the table output of a run, stdout only.
func tableOutput(t *testing.T, args []string, matrixMaxPods int) []byte {
	t.Helper()
	opts, err := ParseArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	opts.MatrixMaxPods = matrixMaxPods
	res, err := Simulate(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := WriteTable(&out, res, opts); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
