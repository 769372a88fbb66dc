// Package report writes the picture of a run as one self-contained HTML file (no network, no
// external script, style or font): the tier ladder (Security → NetworkPolicy → Baseline, each
// policy a block with its rules) and the reachability heat map, one table per port, whose cells
// explain the deciding rule on hover and, for a diff, mark the connections that flip.
//
// The page carries its cells as JSON and draws the heat map with a small inline script, so that a
// browser test (make browser-test) proves the page renders as the JSON says.
package report

import (
	_ "embed"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/describe"
)

// Page is one report.
type Page struct {
	// Title and Summary head the page; Kind is simulate, matrix or diff.
	Title, Summary, Kind string
	Tiers                []Tier
	Heat                 Heat
	// Notes are shown under the heat map (what was left out, warnings).
	Notes []string
}

// Tier is one rung of the ladder.
type Tier struct {
	Name, Explanation string
	Policies          []Policy
}

// Policy is one block of the ladder.
type Policy struct {
	// Object is "ClusterSecurityPolicy/<name>" or "NetworkPolicy/<ns>/<name>", as cells name the
	// deciding object (hovering a cell highlights its block).
	Object, Name, Detail string
	Staged               bool
	Rules                []describe.Rule
}

// Heat is the reachability heat map: one table per port.
type Heat struct {
	// Rows are sources, Columns destinations (pods or groups).
	Rows, Columns, Ports []string
	Cells                []Cell
}

// Cell is one source, destination and port.
type Cell struct {
	Port, Row, Column int
	// Verdict is allowed, denied or mixed.
	Verdict string
	// Tip explains the verdict (the deciding rules); Objects are the deciding objects.
	Tip     string
	Objects []string
	// Flipped marks a connection whose verdict a diff changes.
	Flipped bool
}

// Ladder builds the tier ladder of a cluster's policies.
func Ladder(csps []securityv1alpha1.ClusterSecurityPolicy, nps []networkingv1.NetworkPolicy) []Tier {
	byPriority := slices.Clone(csps)
	slices.SortFunc(byPriority, func(a, b securityv1alpha1.ClusterSecurityPolicy) int {
		if a.Spec.Priority != b.Spec.Priority {
			return int(a.Spec.Priority - b.Spec.Priority)
		}
		return strings.Compare(a.Name, b.Name)
	})
	security := Tier{Name: "Security tier", Explanation: "ClusterSecurityPolicies with tier Security, by priority: the first rule that matches decides; Pass hands the connection to the NetworkPolicies."}
	baseline := Tier{Name: "Baseline tier", Explanation: "ClusterSecurityPolicies with tier Baseline, where no NetworkPolicy decided; Pass hands the connection to NSX below microseg."}
	for i := range byPriority {
		p := &byPriority[i]
		block := Policy{Object: "ClusterSecurityPolicy/" + p.Name, Name: p.Name, Staged: p.Spec.Enforcement == securityv1alpha1.EnforcementStaged,
			Detail: "priority " + strconv.Itoa(int(p.Spec.Priority)) + " · subject: " + describe.Subject(p.Spec.Subject), Rules: describe.CSPRules(p)}
		if p.Spec.Tier == securityv1alpha1.TierBaseline {
			baseline.Policies = append(baseline.Policies, block)
		} else {
			security.Policies = append(security.Policies, block)
		}
	}
	developer := Tier{Name: "NetworkPolicy tier", Explanation: "The developers' NetworkPolicies, with Kubernetes' semantics: a pod a policy selects for a direction accepts only what one of the policies allows."}
	sortedNPs := slices.Clone(nps)
	slices.SortFunc(sortedNPs, func(a, b networkingv1.NetworkPolicy) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	for i := range sortedNPs {
		np := &sortedNPs[i]
		developer.Policies = append(developer.Policies, Policy{Object: "NetworkPolicy/" + np.Namespace + "/" + np.Name, Name: np.Namespace + "/" + np.Name,
			Detail: "selects pods " + describe.Selector(&np.Spec.PodSelector, "(all)") + " of namespace " + np.Namespace, Rules: describe.NPRules(np)})
	}
	below := Tier{Name: "NSX below microseg", Explanation: "Nothing matched: the NSX sections below microseg's decide (NSX's default section allows)."}
	return []Tier{security, developer, baseline, below}
}

//go:embed report.html.tmpl
var pageTemplate string

var tmpl = template.Must(template.New("report").Parse(pageTemplate))

// heatData is the heat map as the page's script reads it: cells as compact arrays
// [port, row, column, verdict, tip, flipped, objects].
type heatData struct {
	Rows    []string `json:"rows"`
	Columns []string `json:"columns"`
	Ports   []string `json:"ports"`
	Cells   [][]any  `json:"cells"`
	Kind    string   `json:"kind"`
}

// Write renders the page.
func Write(w io.Writer, p Page) error {
	data := heatData{Rows: p.Heat.Rows, Columns: p.Heat.Columns, Ports: p.Heat.Ports, Kind: p.Kind, Cells: make([][]any, len(p.Heat.Cells))}
	for i, c := range p.Heat.Cells {
		flipped := 0
		if c.Flipped {
			flipped = 1
		}
		objects := c.Objects
		if objects == nil {
			objects = []string{}
		}
		data.Cells[i] = []any{c.Port, c.Row, c.Column, c.Verdict, c.Tip, flipped, objects}
	}
	return tmpl.Execute(w, struct {
		Page
		Data heatData
	}{p, data})
}
