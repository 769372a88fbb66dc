package ir

import (
	"encoding/json"
	"strings"
	"testing"
)

// validModel is a small model that passes Check: one section with an IN rule applied to a tag
// group, sourced from an IPSet, a nested group and a literal, with an inline TCP service.
func validModel() *Model {
	return &Model{
		ClusterID: "c1",
		Sections: []Section{{Key: "csp/p", DisplayName: "microseg c1 csp p", Tier: TierSecurity, Hash: "h", Rules: []Rule{{
			Key: "csp/p/ingress/r/0", DisplayName: "csp p ingress r", Action: ActionAllow, Direction: DirectionIn,
			IPProtocol: IPv4IPv6, AppliedTo: []Ref{{Group: "tag-a"}},
			Sources:  []Ref{{Group: "ips4-b"}, {Group: "nest-c"}, {CIDR: "192.0.2.0/24"}, {NSXGroup: "vms"}},
			Services: []Service{{Kind: ServiceL4PortSet, L4Protocol: "TCP", DestinationPorts: []string{"80", "8000-8080"}}},
			Hash:     "h", Origin: Origin{Object: ObjectRef{Kind: KindClusterSecurityPolicy, Name: "p"}, Rule: "ingress/r"},
		}}}},
		Groups: []Group{
			{Key: "ips4-b", DisplayName: "b", Kind: KindIPSet, Family: FamilyIPv4, IPs: []string{"10.0.0.1", "10.0.1.0/24", "10.0.2.1-10.0.2.9"}, Hash: "h"},
			{Key: "nest-c", DisplayName: "c", Kind: KindNestedGroup, Members: []string{"tag-d"}, ExternalMembers: []string{"vms"}, Hash: "h"},
			{Key: "tag-a", DisplayName: "a", Kind: KindTagGroup, Hash: "h", Criteria: []Criterion{{Tags: []TagMatch{{Scope: "ncp/cluster", Tag: "c1"}, {Scope: "ncp/project", Tag: "x"}}}}},
			{Key: "tag-d", DisplayName: "d", Kind: KindTagGroup, Hash: "h", Criteria: []Criterion{{Tags: []TagMatch{{Scope: "ncp/cluster", Tag: "c1"}, {Scope: "app"}}}}},
		},
	}
}

func TestCheckAcceptsValidModel(t *testing.T) {
	if errs := Check(validModel(), Limits{}); len(errs) > 0 {
		t.Fatalf("valid model rejected: %v", errs)
	}
}

func TestCheckFindsEachViolation(t *testing.T) {
	rule := func(m *Model) *Rule { return &m.Sections[0].Rules[0] }
	cases := []struct {
		name   string
		limits Limits
		mutate func(m *Model)
		want   string
	}{
		{"too many rules", Limits{MaxRulesPerSection: 1}, func(m *Model) {
			r := *rule(m)
			r.Key += "x"
			m.Sections[0].Rules = append(m.Sections[0].Rules, r)
		}, "2 rules"},
		{"too many refs", Limits{MaxRefsPerField: 3}, func(*Model) {}, "4 refs"},
		{"too many ports", Limits{MaxPortsPerEntry: 1}, func(*Model) {}, "2 ports in one entry"},
		{"too many services", Limits{MaxServicesPerRule: 1}, func(m *Model) { rule(m).Services = append(rule(m).Services, rule(m).Services[0]) }, "2 services"},
		{"IPSet too big", Limits{MaxIPSetEntries: 2}, func(*Model) {}, "3 IPSet entries"},
		{"mixed families", Limits{}, func(m *Model) { m.Groups[0].IPs = append(m.Groups[0].IPs, "fd00::1") }, "is not IPv4"},
		{"too many criteria", Limits{MaxCriteriaPerGroup: 1}, func(m *Model) { m.Groups[2].Criteria = append(m.Groups[2].Criteria, m.Groups[2].Criteria[0]) }, "2 criteria"},
		{"too many expressions", Limits{MaxExpressionsPerCriterion: 1}, func(*Model) {}, "2 tag expressions"},
		{"too many members", Limits{MaxGroupMembers: 1}, func(*Model) {}, "2 static members"},
		{"long scope", Limits{}, func(m *Model) { m.Groups[3].Criteria[0].Tags[1].Scope = strings.Repeat("s", 129) }, "outside scope/tag limits"},
		{"IPSet in applied_to", Limits{}, func(m *Model) { rule(m).AppliedTo = []Ref{{Group: "ips4-b"}} }, "not a group of logical ports"},
		{"NSX group in applied_to", Limits{}, func(m *Model) { rule(m).AppliedTo = []Ref{{Group: "nest-c"}} }, "not a group of logical ports"},
		{"empty applied_to", Limits{}, func(m *Model) { rule(m).AppliedTo = nil }, "empty applied_tos"},
		{"dangling ref", Limits{}, func(m *Model) { rule(m).Sources[0].Group = "nope" }, "does not exist"},
		{"ref with two fields", Limits{}, func(m *Model) { rule(m).Sources[0].CIDR = "10.0.0.0/8" }, "exactly one field"},
		{"excluded empty list", Limits{}, func(m *Model) { rule(m).Destinations, rule(m).DestinationsExcluded = nil, true }, "excluded flag"},
		{"bad port entry", Limits{}, func(m *Model) { rule(m).Services[0].DestinationPorts = []string{"80-80"} }, "port entry"},
		{"bad protocol number", Limits{}, func(m *Model) { rule(m).Services = []Service{{Kind: ServiceIPProtocol}} }, "protocol number 0"},
		{"duplicate rule key", Limits{}, func(m *Model) { m.Sections[0].Rules = append(m.Sections[0].Rules, *rule(m)) }, "duplicate"},
		{"unsorted groups", Limits{}, func(m *Model) { m.Groups[0], m.Groups[1] = m.Groups[1], m.Groups[0] }, "not sorted"},
		{"orphan group", Limits{}, func(m *Model) {
			m.Groups = append(m.Groups, Group{Key: "zz", DisplayName: "z", Kind: KindTagGroup, Hash: "h", Criteria: m.Groups[2].Criteria})
		}, "referenced by no rule"},
		{"cycle", Limits{}, func(m *Model) {
			m.Groups[1].Members = append(m.Groups[1].Members, "nest-c")
		}, "cycle"},
		{"long display name", Limits{}, func(m *Model) { m.Sections[0].DisplayName = strings.Repeat("n", 256) }, "display name"},
		{"malformed CIDR literal", Limits{}, func(m *Model) { rule(m).Sources[2].CIDR = "10.0.0.1/24" }, "malformed address"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := validModel()
			tc.mutate(m)
			errs := Check(m, tc.limits)
			for _, err := range errs {
				if strings.Contains(err.Error(), tc.want) {
					return
				}
			}
			t.Errorf("Check did not report %q; got %v", tc.want, errs)
		})
	}
}

func TestModelLookupsAndJSON(t *testing.T) {
	m := validModel()
	m.Objects = []ObjectResult{{Object: ObjectRef{Kind: KindClusterSecurityPolicy, Name: "p"}, Accepted: true},
		{Object: ObjectRef{Kind: KindNetworkPolicy, Namespace: "ns", Name: "q"}}}
	if g, ok := m.GroupByKey("nest-c"); !ok || g.Kind != KindNestedGroup {
		t.Errorf("GroupByKey: %v %v", g, ok)
	}
	if _, ok := m.GroupByKey("nest-b"); ok {
		t.Error("GroupByKey found a missing key")
	}
	if o, ok := m.Object(ObjectRef{Kind: KindNetworkPolicy, Namespace: "ns", Name: "q"}); !ok || o.Accepted {
		t.Errorf("Object: %v %v", o, ok)
	}
	if got := (ObjectRef{Kind: KindNetworkPolicy, Namespace: "ns", Name: "q"}).String(); got != "NetworkPolicy/ns/q" {
		t.Errorf("String: %s", got)
	}
	if m.RuleCount() != 1 {
		t.Errorf("RuleCount %d", m.RuleCount())
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back Model
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(&back)
	if string(b) != string(b2) {
		t.Errorf("JSON round trip changed the model")
	}
	if !strings.Contains(string(b), `"appliedTo":[{"group":"tag-a"}]`) {
		t.Errorf("unexpected JSON shape: %s", b)
	}
}

func TestLimitsDefaults(t *testing.T) {
	l := Limits{MaxRefsPerField: 7}.WithDefaults()
	if l.MaxRefsPerField != 7 || l.MaxRulesPerSection != 1000 || l.MaxIPSetEntries != 4000 || l.MaxPortsPerEntry != 15 {
		t.Errorf("WithDefaults: %+v", l)
	}
}
