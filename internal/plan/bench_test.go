package plan_test

import (
	"fmt"
	"testing"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/nsxsync/memnsx"
	. "github.com/microseg/microseg/internal/plan"
)

// largeModel is a synthetic cluster: 1,000 sections of 5 or 6 rules (5,500 rules), over 2,000
// tag groups and 1,000 IP sets. changed rules (every 100th) get another port.
func largeModel(changed bool) *ir.Model {
	tags := make([]ir.Group, 2000)
	for i := range tags {
		tags[i] = tagGroup(fmt.Sprintf("app=app-%d", i), fmt.Sprintf("ncp/project=ns-%d", i%50))
	}
	sets := make([]ir.Group, 1000)
	for i := range sets {
		sets[i] = ipSetGroup(fmt.Sprintf("10.%d.%d.0/24", i/256, i%256))
	}
	var sections []ir.Section
	n := 0
	for s := range 1000 {
		var rules []ir.Rule
		for j := range 5 + s%2 {
			port := "80"
			if changed && n%100 == 0 {
				port = "8080"
			}
			action := ir.ActionAllow
			if j == 4+s%2 {
				action = ir.ActionDrop
			}
			rules = append(rules, rule(fmt.Sprintf("np-%d/in/%d", s, j), action, ir.DirectionIn, tags[(s*2+j)%2000],
				from(gref(tags[(s*7+j*13)%2000]), gref(sets[(s+j)%1000])), tcp(port)))
			n++
		}
		sections = append(sections, section(fmt.Sprintf("np-allow/ns-%d/%d", s%50, s), rules...))
	}
	return model(sections, append(tags, sets...)...)
}

func BenchmarkPlan(b *testing.B) {
	base := largeModel(false)
	f := memnsx.New(testCluster)
	p, err := Compute(base, f.State(), Options{Guard: naiveGuard})
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Execute(p); err != nil {
		b.Fatal(err)
	}
	st := f.State()
	changed := largeModel(true)
	for _, tc := range []struct {
		name  string
		m     *ir.Model
		steps int
	}{
		{"unchanged", base, 0},
		{"1pct-rules-changed", changed, -1},
	} {
		opts := Options{Guard: naiveGuard}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var p *Plan
			for b.Loop() {
				var err error
				if p, err = Compute(tc.m, st, opts); err != nil {
					b.Fatal(err)
				}
			}
			if tc.steps == 0 && !p.Empty() {
				b.Fatalf("unchanged model planned %d steps", len(p.Steps))
			}
			b.ReportMetric(float64(len(p.Steps)), "steps")
		})
	}
}

func TestLargeModelRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("large model")
	}
	f := memnsx.New(testCluster)
	converge(t, f, largeModel(false), Options{})
	p := converge(t, f, largeModel(true), Options{})
	// 55 port changes in 55 sections: each is neither wider nor narrower, so all but one are
	// split in two writes (plan/monotone.go), which is cheaper than a guard over the model's
	// thousand deny rules.
	c := p.Counts()
	if c[OpUpdateRule] != 2*55-1 || c[OpUpdateSectionRules] != 0 || c[OpUpdateSection] != 0 || p.Guarded {
		t.Fatalf("1%% change: %v guarded=%v", c, p.Guarded)
	}
	t.Logf("1%% change: %d steps %v, estimated %s", len(p.Steps), c, p.EstimatedCost)
}
