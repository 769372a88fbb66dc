package conformance

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/compile"
)

func TestSizes(t *testing.T) {
	first, _ := strconv.Atoi(os.Getenv("FIRST"))
	n, _ := strconv.Atoi(os.Getenv("N"))
	for s := first; s < first+n; s++ {
		gw := Generate(uint64(s))
		norm, _ := Normalize(gw.Raw)
		start := time.Now()
		m, err := compile.Compile(compile.Input{ClusterID: "microseg", ClusterSecurityPolicies: norm.ClusterSecurityPolicies, NetworkPolicies: norm.NetworkPolicies, Namespaces: norm.Namespaces, Pods: norm.Pods, Settings: gw.Settings})
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); m.RuleCount() > 5000 || d > time.Second {
			t.Logf("seed %d: %d sections, %d rules, %d groups, compile %s, tight=%v", s, len(m.Sections), m.RuleCount(), len(m.Groups), d, gw.Tight)
		}
	}
}
