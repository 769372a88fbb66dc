package nsxapi_test

import (
	"fmt"
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

// The reference scenario (internal/reference), built by hand through the client the way the design
// notes describe the hand-made NSX configuration: NCP-style pod ports, one NSGroup per service
// ("LogicalPort tag app=service-x refined with scope ncp/project = namespace"), and one DFW
// section applied to the b/c/d groups with allow rules a→b, a→c, b→c, c→d and a final
// reject-all.

const (
	scenarioCluster = "demo"
	scenarioPort    = 8080 // the pods' container port; service port 80 is DNATed to it
)

// scenarioService is one service of the scenario and the namespace it runs in.
type scenarioService struct {
	name, namespace string
	subnet          string // the pods get subnet+"10" and subnet+"11"
}

var scenarioServices = []scenarioService{
	{"service-a", "x1", "10.1.0."},
	{"service-b", "y1", "10.1.1."},
	{"service-c", "z1", "10.1.2."},
	{"service-d", "z1", "10.1.3."},
}

// scenarioAllows lists the allow rules of the hand-made section, in order.
var scenarioAllows = [][2]string{
	{"service-a", "service-b"},
	{"service-a", "service-c"},
	{"service-b", "service-c"},
	{"service-c", "service-d"},
}

// scenarioPod is one replica's logical port.
type scenarioPod struct {
	service, name, portID, ip string
}

// referenceScenario is what was built: pods, groups and the section's rules by name.
type referenceScenario struct {
	pods      []scenarioPod
	groups    map[string]string // service → NSGroup id
	sectionID string
	rules     map[string]nsxclient.FirewallRule // rule name → rule
}

// allowRuleName names the allow rule from src to dst, e.g. "service-a-to-service-b".
func allowRuleName(src, dst string) string { return src + "-to-" + dst }

const rejectAllName = "reject-all"

// buildReferenceScenario creates the scenario in the simulator through the client, over HTTP.
func buildReferenceScenario(t *testing.T, h *harness) referenceScenario {
	t.Helper()
	ctx := t.Context()
	sc := referenceScenario{groups: map[string]string{}, rules: map[string]nsxclient.FirewallRule{}}
	for _, svc := range scenarioServices {
		for replica := range 2 {
			pod := fmt.Sprintf("%s-7c9d8f-%d", svc.name, replica)
			ip := fmt.Sprintf("%s%d", svc.subnet, 10+replica)
			body := podPort(svc.namespace+"/"+pod, "ls-"+svc.namespace, ip,
				"ncp/cluster="+scenarioCluster, "ncp/project="+svc.namespace, "ncp/pod="+pod,
				"app="+svc.name, "pod-template-hash=7c9d8f")
			p := try(h.c.CreateLogicalPort(ctx, body)).must(t)
			sc.pods = append(sc.pods, scenarioPod{service: svc.name, name: pod, portID: p.ID, ip: ip})
		}
		g := namedGroup("nsg-" + svc.name)
		g.MembershipCriteria = []nsxclient.NSGroupExpression{
			allOf(portTagExpr("app", svc.name), portTagExpr("ncp/project", svc.namespace)),
		}
		sc.groups[svc.name] = try(h.c.CreateNSGroup(ctx, g)).must(t).ID
	}

	section := layer3Section("reference-bcd")
	for _, svc := range []string{"service-b", "service-c", "service-d"} {
		section.AppliedTos = append(section.AppliedTos, groupRef(sc.groups[svc]))
	}
	var rules []nsxclient.FirewallRule
	for _, a := range scenarioAllows {
		r := allowRule(allowRuleName(a[0], a[1]))
		r.Sources = []nsxclient.ResourceReference{groupRef(sc.groups[a[0]])}
		r.Destinations = []nsxclient.ResourceReference{groupRef(sc.groups[a[1]])}
		r.Services = []nsxclient.FirewallService{nsxclient.L4PortSet(nsxclient.L4ProtocolTCP, fmt.Sprint(scenarioPort))}
		rules = append(rules, r)
	}
	rules = append(rules, nsxclient.FirewallRule{DisplayName: rejectAllName, Action: nsxclient.ActionReject})
	created := try(h.c.CreateSectionWithRules(ctx, withRules(section, rules...), nsxclient.Top())).must(t)
	sc.sectionID = created.ID
	for _, r := range created.Rules {
		sc.rules[r.DisplayName] = r
	}

	// The groups must hold exactly their service's two pods: service-c and service-d share z1,
	// and a group that matched on one tag alone would swallow the other.
	for _, svc := range scenarioServices {
		refs := try(h.c.ListNSGroupEffectiveLogicalPortMembers(ctx, sc.groups[svc.name])).must(t)
		var got, want []string
		for _, r := range refs {
			got = append(got, r.TargetID)
		}
		for _, p := range sc.pods {
			if p.service == svc.name {
				want = append(want, p.portID)
			}
		}
		equalStrings(t, "effective ports of nsg-"+svc.name, sortedCopy(got), sortedCopy(want))
	}
	return sc
}
