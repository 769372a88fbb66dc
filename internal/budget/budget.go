// Package budget is microseg's share of an NSX Manager: how many rules, sections, NSGroups and
// IP sets it may create, and how many rules it may apply to one pod's port (vNIC). A compiled
// model over the budget is never applied — NSX keeps the last configuration that fit — and the
// error names the largest contributors. The defaults are NSX's configuration maximums where they
// are published and strict choices where they are not (docs/architecture.md, "NSX facts"); they
// are the whole manager's, so the NSX administrator should set microseg's share with the flags.
package budget

import (
	"flag"
	"fmt"
	"strings"

	"github.com/microseg/microseg/internal/ir"
)

// Budget is the most of each kind microseg may create in NSX; 0 means no limit.
type Budget struct {
	Rules        int `json:"rules"`
	Sections     int `json:"sections"`
	NSGroups     int `json:"nsGroups"`
	IPSets       int `json:"ipSets"`
	RulesPerVNIC int `json:"rulesPerVNIC"`
}

// Defaults, from NSX's configuration maximums (see the package documentation).
const (
	// DefaultRules: DFW rules per NSX Manager, 100,000 in NSX 4.1's tested maximums.
	DefaultRules = 100000
	// DefaultRulesPerVNIC: DFW rules per vNIC, 4,000 (VMware KB 371437).
	DefaultRulesPerVNIC = 4000
	// DefaultSections, DefaultNSGroups, DefaultIPSets: no published maximum was found for the
	// Manager API; these are strict choices (a tenth of the rule maximum for sections, a fifth
	// for NSGroups, a tenth for IP sets), to be replaced by the NSX administrator's figures.
	DefaultSections = 10000
	DefaultNSGroups = 20000
	DefaultIPSets   = 10000
)

// Default is the budget when no flag is given.
func Default() Budget {
	return Budget{Rules: DefaultRules, Sections: DefaultSections, NSGroups: DefaultNSGroups, IPSets: DefaultIPSets, RulesPerVNIC: DefaultRulesPerVNIC}
}

// Kinds, as the kind label of the budget metrics and in messages.
const (
	KindRules        = "rules"
	KindSections     = "sections"
	KindNSGroups     = "nsgroups"
	KindIPSets       = "ipsets"
	KindRulesPerVNIC = "rules_per_vnic"
)

// Kinds lists every kind in a fixed order.
var Kinds = []string{KindRules, KindSections, KindNSGroups, KindIPSets, KindRulesPerVNIC}

// flagOf names the flag that sets each kind.
var flagOf = map[string]string{
	KindRules: "nsx-max-rules", KindSections: "nsx-max-sections", KindNSGroups: "nsx-max-groups",
	KindIPSets: "nsx-max-ipsets", KindRulesPerVNIC: "nsx-max-rules-per-vnic",
}

// Limit returns the budget of one kind.
func (b Budget) Limit(kind string) int {
	switch kind {
	case KindRules:
		return b.Rules
	case KindSections:
		return b.Sections
	case KindNSGroups:
		return b.NSGroups
	case KindIPSets:
		return b.IPSets
	case KindRulesPerVNIC:
		return b.RulesPerVNIC
	}
	return 0
}

// Used returns what a usage takes of one kind.
func Used(u ir.Usage, kind string) int {
	switch kind {
	case KindRules:
		return u.Rules
	case KindSections:
		return u.Sections
	case KindNSGroups:
		return u.NSGroups
	case KindIPSets:
		return u.IPSets
	case KindRulesPerVNIC:
		return u.RulesPerPort
	}
	return 0
}

// Bind registers the budget flags on fs (the operator's and kubectl-microseg simulate's).
func Bind(fs *flag.FlagSet, b *Budget) {
	*b = Default()
	share := " microseg's share: set it to what the NSX administrator gives microseg (0: no limit)."
	fs.IntVar(&b.Rules, flagOf[KindRules], b.Rules, "Most DFW rules microseg may create. Default: NSX 4.1's tested maximum for a whole NSX Manager;"+share)
	fs.IntVar(&b.Sections, flagOf[KindSections], b.Sections, "Most firewall sections microseg may create. Default: a strict choice (no maximum is published for the Manager API);"+share)
	fs.IntVar(&b.NSGroups, flagOf[KindNSGroups], b.NSGroups, "Most NSGroups microseg may create. Default: a strict choice (no maximum is published for the Manager API);"+share)
	fs.IntVar(&b.IPSets, flagOf[KindIPSets], b.IPSets, "Most IP sets microseg may create. Default: a strict choice (no maximum is published for the Manager API);"+share)
	fs.IntVar(&b.RulesPerVNIC, flagOf[KindRulesPerVNIC], b.RulesPerVNIC, "Most microseg rules applied to one pod's port (vNIC). Default: NSX's 4,000 rules per vNIC (VMware KB 371437);"+share)
}

// Validate rejects negative limits.
func (b Budget) Validate() error {
	for _, k := range Kinds {
		if b.Limit(k) < 0 {
			return fmt.Errorf("--%s %d: a budget is a number of objects, 0 for no limit", flagOf[k], b.Limit(k))
		}
	}
	return nil
}

// Over returns the kinds a usage exceeds.
func (b Budget) Over(u ir.Usage) []string {
	var out []string
	for _, k := range Kinds {
		if l := b.Limit(k); l > 0 && Used(u, k) > l {
			out = append(out, k)
		}
	}
	return out
}

// Check returns an *Error when the model is over the budget, nil otherwise.
func (b Budget) Check(m *ir.Model) error {
	u := ir.UsageOf(m)
	if over := b.Over(u); len(over) > 0 {
		return &Error{Usage: u, Budget: b, Over: over}
	}
	return nil
}

// Error is a model over the budget.
type Error struct {
	Usage  ir.Usage
	Budget Budget
	// Over are the kinds exceeded, in Kinds order.
	Over []string
}

// TopContributors is how many namespaces and policies an Error names.
const TopContributors = 5

// TopNamespaces returns the namespaces that contribute most rules (at most TopContributors).
func (e *Error) TopNamespaces() []ir.Contributor { return top(e.Usage.Namespaces) }

// TopPolicies returns the policies that contribute most rules (at most TopContributors).
func (e *Error) TopPolicies() []ir.Contributor { return top(e.Usage.Policies) }

func top(list []ir.Contributor) []ir.Contributor { return list[:min(len(list), TopContributors)] }

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("the compiled DFW is over microseg's NSX budget (")
	for i, k := range e.Over {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d %s > %d, --%s", Used(e.Usage, k), strings.ReplaceAll(k, "_", " "), e.Budget.Limit(k), flagOf[k])
		if k == KindRulesPerVNIC && e.Usage.BusiestPod != "" {
			fmt.Fprintf(&b, ", on pod %s", e.Usage.BusiestPod)
		}
	}
	b.WriteString("), so NSX keeps the last configuration that fit")
	if ns := e.TopNamespaces(); len(ns) > 0 {
		b.WriteString("; most rules: namespaces " + describe(ns))
	}
	if ps := e.TopPolicies(); len(ps) > 0 {
		b.WriteString("; policies " + describe(ps))
	}
	b.WriteString(". Remove or narrow policies, or ask the NSX administrator for a larger share and raise the flag")
	return b.String()
}

func describe(list []ir.Contributor) string {
	parts := make([]string, len(list))
	for i, c := range list {
		parts[i] = fmt.Sprintf("%s (%d)", c.Name, c.Rules)
	}
	return strings.Join(parts, ", ")
}

// Summary is one line of usage against the budget, e.g. "NSX budget: rules 12/100000, …".
func Summary(u ir.Usage, b Budget) string {
	parts := make([]string, len(Kinds))
	for i, k := range Kinds {
		limit := "no limit"
		if l := b.Limit(k); l > 0 {
			limit = fmt.Sprint(l)
		}
		parts[i] = fmt.Sprintf("%s %d/%s", strings.ReplaceAll(k, "_", " "), Used(u, k), limit)
	}
	s := "NSX budget: " + strings.Join(parts, ", ")
	if over := b.Over(u); len(over) > 0 {
		s += " — OVER (" + strings.Join(over, ", ") + "): the operator would not apply this"
	}
	return s
}
