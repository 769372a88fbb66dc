package simulate

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/microseg/microseg/internal/budget"
)

// TestBudgetReport: --budget prints the usage against the budget instead of probing, names the
// largest contributors, and exits 3 when over; the JSON form carries the same figures.
func TestBudgetReport(t *testing.T) {
	samples := samplesDir(t)
	stdout, _, code := runCommand(t, "-f", samples, "--budget")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
	for _, want := range []string{"rules     7  100000", "rules per vnic     3    4000", "on y1/service-b-0",
		"Most rules, namespaces: y1 (2), z1 (2)", "csp/protect-service-d (2)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the report lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "probes") {
		t.Errorf("--budget probes nothing:\n%s", stdout)
	}

	stdout, _, code = runCommand(t, "-f", samples, "--budget", "--nsx-max-rules", "6", "--nsx-max-sections", "0", "-o", "json")
	if code != ExitOverBudget {
		t.Fatalf("over the budget: exit %d, want %d\n%s", code, ExitOverBudget, stdout)
	}
	var rep budgetReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if rep.Usage.Rules != 7 || rep.Budget.Rules != 6 || rep.Budget.Sections != 0 || len(rep.Over) != 1 || rep.Over[0] != budget.KindRules {
		t.Errorf("report %+v", rep)
	}

	// The table output ends with the one-line summary, with the flags' limits.
	stdout, _, _ = runCommand(t, "-f", samples, "--ports", "8080", "--nsx-max-rules", "6")
	if !strings.Contains(stdout, "NSX budget: rules 7/6,") || !strings.Contains(stdout, "OVER (rules)") {
		t.Errorf("no budget summary in the table output:\n%s", stdout)
	}

	if _, stderr, code := runCommand(t, "-f", samples, "--nsx-max-rules", "-1"); code != ExitInput || !strings.Contains(stderr, "--nsx-max-rules") {
		t.Errorf("a negative budget: exit %d, %s", code, stderr)
	}
}
