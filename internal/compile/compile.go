package compile

import (
	"errors"
	"fmt"

	"go4.org/netipx"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/ncptags"
)

// Input is everything the compiler looks at: the policies of both tiers and the namespaces and
// pods they select. Order does not matter; Compile sorts.
type Input struct {
	// ClusterID is the cluster name NCP writes into the ncp/cluster tag of every pod port.
	ClusterID               string
	ClusterSecurityPolicies []securityv1alpha1.ClusterSecurityPolicy
	NetworkPolicies         []networkingv1.NetworkPolicy
	Namespaces              []corev1.Namespace
	Pods                    []corev1.Pod
	Settings                Settings
}

// Settings tune the compiler; zero fields take defaults. Tests shrink the limits to exercise
// every split.
type Settings struct {
	// Limits are the NSX limits the output must respect.
	ir.Limits
	// MaxLiteralAddresses is how many CIDR literals one peer may put into a rule before its
	// addresses go into IPSets instead. Default 16.
	MaxLiteralAddresses int
	// MaxPassPieces bounds the products one rule may become when earlier Pass rules are
	// subtracted from it; past it the rule is realized fail-closed with a warning. Default 256.
	MaxPassPieces int
	// MaxGroupNesting is how many levels of NestedGroups may hold the TagGroups of one selector.
	// Default 3.
	MaxGroupNesting int
	// MaxSelectorTerms bounds the tag criteria one selector may expand to (namespaces × In
	// alternatives); past it the selector is realized as an IPSet. Default 10,000.
	MaxSelectorTerms int
	// SectionFill is how many rules the developer tier packs into one section before it splits
	// the section's bucket of namespaces in two (devtier.go). Default 800 (80% of a real NSX
	// section, so that rules added one by one between compiles never reach the limit); at most
	// MaxRulesPerSection.
	SectionFill int

	// trustForgeableTags makes the compiler trust tag groups that forged identity labels could
	// fool, as it did before it checked them: only tests set it, to show that the oracles catch
	// the hole.
	trustForgeableTags bool
}

// DefaultSettings are the settings for a real NSX Manager.
func DefaultSettings() Settings { return Settings{}.withDefaults() }

func (s Settings) withDefaults() Settings {
	s.Limits = s.WithDefaults()
	if s.MaxLiteralAddresses == 0 {
		s.MaxLiteralAddresses = 16
	}
	if s.MaxPassPieces == 0 {
		s.MaxPassPieces = 256
	}
	if s.MaxGroupNesting == 0 {
		s.MaxGroupNesting = 3
	}
	if s.MaxSelectorTerms == 0 {
		s.MaxSelectorTerms = 10000
	}
	if s.SectionFill == 0 {
		s.SectionFill = min(800, s.MaxRulesPerSection)
	}
	return s
}

func (s Settings) validate() error {
	l := s.Limits
	switch {
	case l.MaxRulesPerSection < 1, l.MaxRefsPerField < 2, l.MaxServicesPerRule < 1, l.MaxPortsPerEntry < 1,
		l.MaxIPSetEntries < 1, l.MaxCriteriaPerGroup < 1, l.MaxGroupMembers < 2, l.MaxTagsPerObject < 4,
		l.MaxTagScopeLen < len(ncptags.ScopeCluster), l.MaxTagValueLen < 1, l.MaxDisplayNameLen < 32:
		return fmt.Errorf("compile: settings: a limit is too small to express anything: %+v", l)
	case l.MaxExpressionsPerCriterion < 2:
		return errors.New("compile: settings: a criterion must hold at least the cluster and namespace tags")
	case s.MaxLiteralAddresses < 0, s.MaxPassPieces < 1, s.MaxGroupNesting < 1, s.MaxSelectorTerms < 1:
		return errors.New("compile: settings: MaxLiteralAddresses, MaxPassPieces, MaxGroupNesting and MaxSelectorTerms must be positive")
	case s.SectionFill < 1 || s.SectionFill > l.MaxRulesPerSection:
		return fmt.Errorf("compile: settings: SectionFill %d must be 1..MaxRulesPerSection (%d)", s.SectionFill, l.MaxRulesPerSection)
	}
	return nil
}

// compiler is the state of one Compile call.
type compiler struct {
	clusterID string
	settings  Settings
	limits    ir.Limits
	snap      *snapshot
	groups    *groupRegistry
	warnings  warnings
	nsCache   map[string]namespaceMatch
	podCache  map[string]podSet
	objects   map[ir.ObjectRef]*ir.ObjectResult
	// forgeryCache: canonical terms → forgers whose ports may match them (forgery.go);
	// forgeryHits: forger → the rules ("<object> <rule>") whose groups it would have fooled.
	forgeryCache map[string][]int32
	forgeryHits  map[int32]map[string]bool
	// refAddrCache: the address sets of IPSet and literal refs, for coverage (shadow.go).
	refAddrCache map[ir.Ref]*netipx.IPSet
	// groupLog, when set, records every change to the registry (grouplog.go).
	groupLog *[]groupOp
	// appliedCache: the pods of applied_to groups, by key (portload.go).
	appliedCache map[string][]int32
	// load, when set, is the port load finish reports (the incremental compiler sums it from
	// its parts).
	load *ir.PortLoad
}

// Compile turns Kubernetes objects into the DFW model. It is pure and deterministic: the same
// input (in any order) gives the same model, byte for byte once marshalled. It fails only on an
// unusable input as a whole (no cluster id, impossible settings); an invalid policy is reported in
// its ObjectResult (Accepted=false) and left out.
func Compile(in Input) (*ir.Model, error) {
	c, err := newCompiler(in, nil)
	if err != nil {
		return nil, err
	}
	return c.compileAll(in), nil
}

// newCompiler checks the input as a whole and indexes its namespaces and pods, or takes the index
// and the selector caches of same, a compiler of the same namespaces, pods, cluster id and
// settings.
func newCompiler(in Input, same *compiler) (*compiler, error) {
	settings := in.Settings.withDefaults()
	if err := settings.validate(); err != nil {
		return nil, err
	}
	if in.ClusterID == "" || len(in.ClusterID) > settings.MaxTagValueLen {
		return nil, fmt.Errorf("compile: cluster id %q must be 1..%d characters", in.ClusterID, settings.MaxTagValueLen)
	}
	if same != nil {
		c := *same
		c.groupLog, c.load = nil, nil
		c.resetOutputs()
		return &c, nil
	}
	c := &compiler{
		clusterID: in.ClusterID,
		settings:  settings,
		limits:    settings.Limits,
		snap: newSnapshot(in.Namespaces, in.Pods, in.ClusterID, ncptags.Limits{MaxTags: settings.MaxTagsPerObject,
			MaxScopeLen: settings.MaxTagScopeLen, MaxValueLen: settings.MaxTagValueLen}),
		nsCache:      map[string]namespaceMatch{},
		podCache:     map[string]podSet{},
		forgeryCache: map[string][]int32{},
		refAddrCache: map[ir.Ref]*netipx.IPSet{},
		appliedCache: map[string][]int32{},
	}
	c.resetOutputs()
	return c, nil
}

// resetOutputs gives the compiler an empty registry, warnings and results (the caches of
// selector results, which depend on the snapshot only, stay).
func (c *compiler) resetOutputs() {
	c.groups = newGroupRegistry()
	c.warnings = warnings{}
	c.objects = map[ir.ObjectRef]*ir.ObjectResult{}
	c.forgeryHits = map[int32]map[string]bool{}
}

// compileAll compiles the whole input.
func (c *compiler) compileAll(in Input) *ir.Model {
	security, baseline := c.compileCSPs(in.ClusterSecurityPolicies)
	dev := map[string]*devRules{}
	for _, np := range sortNPs(in.NetworkPolicies) {
		d := dev[np.Namespace]
		if d == nil {
			d = &devRules{}
			dev[np.Namespace] = d
		}
		c.compileOneNP(np, d)
	}

	var sections []ir.Section
	sections = append(sections, c.tierWithStaged(ir.TierSecurity, security)...)
	sections = append(sections, c.devTierSections(dev)...)
	sections = append(sections, c.tierWithStaged(ir.TierBaseline, baseline)...)
	return c.finish(sections)
}

// compileOneNP compiles a NetworkPolicy into its namespace's rules and records its result.
func (c *compiler) compileOneNP(np *networkingv1.NetworkPolicy, d *devRules) {
	obj := ir.ObjectRef{Kind: ir.KindNetworkPolicy, Namespace: np.Namespace, Name: np.Name}
	var w warnings
	mark := d.mark()
	if err := c.compileNP(np, d, &w); err != nil {
		d.reset(mark) // a policy that fails half-way contributes nothing
		c.reject(obj, err)
		return
	}
	c.accept(obj, &w)
}

// compileCSPs compiles every policy into products, split by tier in evaluation order.
func (c *compiler) compileCSPs(list []securityv1alpha1.ClusterSecurityPolicy) (security, baseline []*compiledCSP) {
	for _, p := range sortCSPs(list) {
		obj := ir.ObjectRef{Kind: ir.KindClusterSecurityPolicy, Name: p.Name}
		tier, err := tierOf(p)
		if err != nil {
			c.reject(obj, err)
			continue
		}
		var w warnings
		cp, err := c.compileCSP(p, &w)
		if err != nil {
			c.reject(obj, err)
			continue
		}
		c.accept(obj, &w)
		// From now on (Pass restriction, emission) warnings go straight to the model.
		for _, list := range [][]compiledRule{cp.ingress, cp.egress} {
			for _, r := range list {
				r.ctx.w = &c.warnings
			}
		}
		if tier == ir.TierSecurity {
			security = append(security, cp)
		} else {
			baseline = append(baseline, cp)
		}
	}
	return security, baseline
}

func (c *compiler) accept(obj ir.ObjectRef, w *warnings) {
	c.objects[obj] = &ir.ObjectResult{Object: obj, Accepted: true}
	for _, x := range w.list {
		c.warnings.add(x)
	}
}

func (c *compiler) reject(obj ir.ObjectRef, err error) {
	c.objects[obj] = &ir.ObjectResult{Object: obj, Error: err.Error()}
	c.warnings.add(ir.Warning{Object: obj, Code: ir.WarnInvalid, Message: "not compiled: " + err.Error()})
}
