package budget

import (
	"errors"
	"flag"
	"slices"
	"strings"
	"testing"

	"github.com/microseg/microseg/internal/ir"
)

func model() *ir.Model {
	np := func(ns, name string) ir.Origin {
		return ir.Origin{Object: ir.ObjectRef{Kind: ir.KindNetworkPolicy, Namespace: ns, Name: name}, Rule: "ingress/0"}
	}
	dev := ir.Section{Key: "np/", Tier: ir.TierDeveloper}
	for i := range 3 {
		dev.Rules = append(dev.Rules, ir.Rule{Key: "a" + string(rune('0'+i)), Origin: np("big", "p")})
	}
	iso := ir.Rule{Key: "iso", Origin: np("small", "q")}
	iso.Origin.Also = []ir.Origin{np("small", "r")}
	dev.Rules = append(dev.Rules, iso)
	csp := ir.Section{Key: "csp/x", Tier: ir.TierSecurity, Rules: []ir.Rule{{Key: "c", Origin: ir.Origin{Object: ir.ObjectRef{Kind: ir.KindClusterSecurityPolicy, Name: "x"}}}}}
	return &ir.Model{Sections: []ir.Section{csp, dev}, PortLoad: &ir.PortLoad{Rules: 4, Pod: "big/p0"},
		Groups: []ir.Group{{Key: "t", Kind: ir.KindTagGroup}, {Key: "n", Kind: ir.KindNestedGroup, Reason: ir.ReasonOverLimit},
			{Key: "i", Kind: ir.KindIPSet, Reason: ir.ReasonNotIn}, {Key: "j", Kind: ir.KindIPSet, Reason: ir.ReasonNotIn}}}
}

func TestUsage(t *testing.T) {
	u := ir.UsageOf(model())
	if u.Rules != 5 || u.Sections != 2 || u.NSGroups != 2 || u.IPSets != 2 || u.RulesPerPort != 4 || u.BusiestPod != "big/p0" {
		t.Fatalf("usage %+v", u)
	}
	if u.NSGroupsByReason[ir.ReasonOverLimit] != 1 || u.IPSetsByReason[ir.ReasonNotIn] != 2 || len(u.NSGroupsByReason) != 1 {
		t.Errorf("by reason: %v %v", u.NSGroupsByReason, u.IPSetsByReason)
	}
	want := []ir.Contributor{{Name: "big", Rules: 3}, {Name: "small", Rules: 1}}
	if !slices.Equal(u.Namespaces, want) {
		t.Errorf("namespaces %v, want %v", u.Namespaces, want)
	}
	// The merged isolation rule counts for both of its policies.
	wantP := []ir.Contributor{{Name: "np/big/p", Rules: 3}, {Name: "csp/x", Rules: 1}, {Name: "np/small/q", Rules: 1}, {Name: "np/small/r", Rules: 1}}
	if !slices.Equal(u.Policies, wantP) {
		t.Errorf("policies %v, want %v", u.Policies, wantP)
	}
}

func TestCheck(t *testing.T) {
	m := model()
	if err := Default().Check(m); err != nil {
		t.Fatalf("default budget: %v", err)
	}
	for _, tc := range []struct {
		b    Budget
		over []string
		says []string
	}{
		{Budget{Rules: 4}, []string{KindRules}, []string{"5 rules > 4, --nsx-max-rules", "namespaces big (3), small (1)", "policies np/big/p (3)"}},
		{Budget{Sections: 1, IPSets: 1}, []string{KindSections, KindIPSets}, []string{"2 sections > 1, --nsx-max-sections", "2 ipsets > 1, --nsx-max-ipsets"}},
		{Budget{RulesPerVNIC: 3}, []string{KindRulesPerVNIC}, []string{"4 rules per vnic > 3, --nsx-max-rules-per-vnic, on pod big/p0"}},
		{Budget{NSGroups: 2}, nil, nil}, // at the limit is within it
	} {
		err := tc.b.Check(m)
		var be *Error
		if (err == nil) != (tc.over == nil) || (err != nil && (!errors.As(err, &be) || !slices.Equal(be.Over, tc.over))) {
			t.Errorf("%+v: %v, want over %v", tc.b, err, tc.over)
			continue
		}
		for _, s := range tc.says {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%+v: %q does not say %q", tc.b, err, s)
			}
		}
	}
}

func TestFlags(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var b Budget
	Bind(fs, &b)
	if b != Default() {
		t.Fatalf("defaults %+v", b)
	}
	if err := fs.Parse([]string{"--nsx-max-rules=500", "--nsx-max-sections=0", "--nsx-max-groups=7", "--nsx-max-ipsets=8", "--nsx-max-rules-per-vnic=9"}); err != nil {
		t.Fatal(err)
	}
	if want := (Budget{Rules: 500, NSGroups: 7, IPSets: 8, RulesPerVNIC: 9}); b != want {
		t.Fatalf("parsed %+v, want %+v", b, want)
	}
	if err := (Budget{Rules: -1}).Validate(); err == nil || !strings.Contains(err.Error(), "--nsx-max-rules") {
		t.Errorf("a negative budget: %v", err)
	}
	if s := Summary(ir.UsageOf(model()), Budget{Rules: 4}); !strings.Contains(s, "rules 5/4") || !strings.Contains(s, "sections 2/no limit") || !strings.Contains(s, "OVER (rules)") {
		t.Errorf("summary %q", s)
	}
}
