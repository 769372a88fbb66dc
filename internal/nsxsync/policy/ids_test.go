package policy

import (
	"strings"
	"testing"

	"github.com/microseg/microseg/internal/ir"
)

func TestDerivedIDsAreSafeShortAndDistinct(t *testing.T) {
	long := strings.Repeat("very-long-namespace-name.", 20)
	keys := []string{"np-allow/shop", "np-allow_shop", "np-allow/Shop", "csp/a b?c#d%e|f", "np-allow/" + long, "np-allow/" + long + "x", ""}
	seen := map[string]string{}
	for _, cluster := range []string{"prod", "prod/eu?"} {
		for _, k := range keys {
			id := deriveID(cluster, idPolicy, k)
			if len(id) > maxID {
				t.Errorf("%q: id of %d characters", k, len(id))
			}
			if strings.ContainsAny(id, "/?#%| \t") {
				t.Errorf("%q: id %q holds a character a Policy path cannot carry", k, id)
			}
			if prev, dup := seen[id]; dup {
				t.Errorf("%q and %q share the id %q", prev, cluster+" "+k, id)
			}
			seen[id] = cluster + " " + k
			if again := deriveID(cluster, idPolicy, k); again != id {
				t.Errorf("%q: the id is not stable (%q, %q)", k, id, again)
			}
		}
	}
	if deriveID("c", idPolicy, "k") == deriveID("c", idGroup, "k") {
		t.Error("kinds share ids")
	}
	sec := ir.Section{Key: "csp/x", Tier: ir.TierSecurity}
	base := ir.Section{Key: "csp/x", Tier: ir.TierBaseline}
	if policyID("c", &sec) == policyID("c", &base) {
		t.Error("a section changing tier keeps its policy id; NSX does not change a policy's category in place")
	}
}

func TestAssignNumbersKeepsWhatIsInOrder(t *testing.T) {
	band := Band{Lo: 100, Hi: 199}
	for _, tc := range []struct {
		name    string
		current []int64
		ok      []bool
		taken   map[int64]bool
		keep    []int // indexes whose number must not change
	}{
		{"fresh", []int64{0, 0, 0}, []bool{false, false, false}, nil, nil},
		{"insert in the middle", []int64{120, 0, 160}, []bool{true, false, true}, nil, []int{0, 2}},
		{"one moved to the end", []int64{130, 140, 110}, []bool{true, true, true}, nil, []int{0, 1}},
		{"outside the band", []int64{5, 150}, []bool{true, true}, nil, []int{1}},
		{"taken by others", []int64{0, 0}, []bool{false, false}, map[int64]bool{133: true, 166: true}, nil},
		{"no room between", []int64{120, 0, 121}, []bool{true, false, true}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := assignNumbers(band, tc.current, tc.ok, tc.taken)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if !band.Contains(got[i]) || tc.taken[got[i]] || (i > 0 && got[i] <= got[i-1]) {
					t.Fatalf("numbers %v: not increasing inside %s avoiding %v", got, band, tc.taken)
				}
			}
			for _, i := range tc.keep {
				if got[i] != tc.current[i] {
					t.Errorf("item %d moved from %d to %d (numbers %v)", i, tc.current[i], got[i], got)
				}
			}
		})
	}
	if _, err := assignNumbers(Band{Lo: 1, Hi: 3}, make([]int64, 5), make([]bool, 5), nil); err == nil {
		t.Error("five items fit a band of three numbers")
	}
}
