// Package golden compares a test's output with a file kept in the repository (testdata/*.golden),
// so that a change of the output shows up as a reviewable diff. Run the test with -update to
// rewrite the files from the current output.
package golden

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files from the current output")

// Check fails the test when got differs from the file at path; with -update it writes got there.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the output differs from %s (review it, and run the test with -update if the change is intended)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}
