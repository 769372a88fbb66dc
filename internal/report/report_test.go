package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
)

// TestPageIsSelfContained: the page loads nothing from anywhere (no external script, style,
// font, image or link), escapes what policies contain, and carries the cells as JSON.
func TestPageIsSelfContained(t *testing.T) {
	csp := securityv1alpha1.ClusterSecurityPolicy{ObjectMeta: metav1.ObjectMeta{Name: `evil"><script>alert(1)</script>`},
		Spec: securityv1alpha1.ClusterSecurityPolicySpec{Tier: securityv1alpha1.TierBaseline, Enforcement: securityv1alpha1.EnforcementStaged}}
	np := networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "x1", Name: "np"}}
	p := Page{Title: "t </script>", Kind: "diff", Tiers: Ladder([]securityv1alpha1.ClusterSecurityPolicy{csp}, []networkingv1.NetworkPolicy{np}),
		Heat: Heat{Rows: []string{"a"}, Columns: []string{"b"}, Ports: []string{"80/TCP"},
			Cells: []Cell{{Verdict: "denied", Tip: "</script><b>x", Flipped: true, Objects: []string{"ClusterSecurityPolicy/x"}}}}}
	var b bytes.Buffer
	if err := Write(&b, p); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if m := regexp.MustCompile(`(?i)(src|href)\s*=|@import|url\(|https?://`).FindString(page); m != "" {
		t.Errorf("the page references something outside itself: %q", m)
	}
	if strings.Contains(page, "<script>alert(1)") || strings.Count(page, "</script>") != 2 {
		t.Errorf("policy names and tips are not escaped")
	}
	for _, want := range []string{`class="badge staged"`, "Baseline tier", `id="heat-data"`, `"kind":"diff"`, "NSX below microseg"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}
