package ownership

import (
	"strings"
	"testing"

	"github.com/microseg/microseg/internal/ir"
)

func TestNotesRoundTrip(t *testing.T) {
	for _, key := range []string{"a/b/c", "x hash=y", strings.Repeat("z", 3000)} {
		got, ok := RuleKeyFromNotes(RuleNotes(key, "h"))
		if !ok || got != EncodeRuleKey(key) {
			t.Fatalf("%q: %q %v", key, got, ok)
		}
	}
	if _, ok := RuleKeyFromNotes("hand-written note"); ok {
		t.Fatal("foreign notes parsed")
	}
}

func TestRuleTag(t *testing.T) {
	for _, tc := range []struct {
		obj  ir.ObjectRef
		want string
	}{
		{ir.ObjectRef{Kind: ir.KindClusterSecurityPolicy, Name: "protect"}, "csp/protect"},
		{ir.ObjectRef{Kind: ir.KindNetworkPolicy, Namespace: "x1", Name: "allow"}, "np/x1/allow"},
		{ir.ObjectRef{}, "microseg"},
	} {
		if got := RuleTag(ir.Origin{Object: tc.obj}); got != tc.want {
			t.Errorf("RuleTag(%v) = %q, want %q", tc.obj, got, tc.want)
		}
	}
	long := ir.ObjectRef{Kind: ir.KindNetworkPolicy, Namespace: strings.Repeat("n", 40), Name: "a"}
	other := ir.ObjectRef{Kind: ir.KindNetworkPolicy, Namespace: strings.Repeat("n", 40), Name: "b"}
	if a, b := RuleTag(ir.Origin{Object: long}), RuleTag(ir.Origin{Object: other}); len(a) != MaxRuleTag || a == b {
		t.Errorf("long origins: %q and %q (at most %d characters, and distinct)", a, b, MaxRuleTag)
	}
}
