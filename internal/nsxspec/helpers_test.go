package nsxspec

import (
	"errors"
	"strings"
	"testing"
)

// wantValid fails the test with every problem when err is not nil.
func wantValid(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("want conforming, got:\n%v", err)
	}
}

// wantProblems fails the test unless err reports each of the wanted messages.
func wantProblems(t *testing.T, err error, wanted ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("want problems %q, got none", wanted)
		return
	}
	for _, w := range wanted {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("want problem %q, got:\n%v", w, err)
		}
	}
}

// jsonList renders n copies of item as a JSON array, for maxItems tests.
func jsonList(item string, n int) string {
	return "[" + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + "]"
}

func asValidationError(err error, target **ValidationError) bool {
	return errors.As(err, target)
}
