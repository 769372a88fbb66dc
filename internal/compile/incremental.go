package compile

import (
	"maps"
	"reflect"
	"slices"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/microseg/microseg/internal/ir"
)

// Incremental compiles a world that changes a little at a time, giving the model Compile gives
// for the same input, byte for byte, while recompiling only the parts a change can reach.
//
// Compile's work splits into parts whose outputs are independent but for the groups they share:
// the ClusterSecurityPolicies (they select across namespaces: recompiled when a policy, a pod or a
// namespace changes), and each namespace's NetworkPolicies (compiled with the namespace's own
// rules: merged, pruned, isolation). A namespace's part is recompiled when one of its policies,
// pods or its Namespace object changes; a namespace whose policies can see other namespaces
// (a namespaceSelector or an ipBlock: ipBlocks are matched against every pod's address for
// named ports) is recompiled when any pod or namespace changes. Everything is recompiled when
// some pod carries a forged identity label (then every group depends on that pod), when the
// cluster id or the settings change, and when the caller says so (Changes.All).
//
// Each part is compiled against a group registry of its own, and its changes to it are logged
// (grouplog.go); the model is assembled by replaying the logs in Compile's order and running
// Compile's last step (finish) over the parts' rules. Each call still indexes every namespace and
// pod (the snapshot) and runs finish over the whole model: those are the part of the cost that
// is proportional to the world, not to the change (the figures are in the notes of the
// benchmark, internal/perf).
//
// The caller must name every change since the previous call (Changes); when in doubt it passes
// Changes{All: true}, which is a full compile. An Incremental is not safe for concurrent use. The
// models it returns share their slices (lists of refs, criteria, addresses) with what it keeps
// for the next call: like every user of a compiled model, treat them as read-only.
type Incremental struct {
	clusterID string
	settings  Settings
	forgers   bool // the last snapshot had pods with forged identity labels
	csp       *part
	parts     map[string]*part // by namespace; namespaces with NetworkPolicies only
	// last is the last call's compiler: its snapshot and selector caches serve the next call when
	// no pod or namespace changed.
	last  *compiler
	stats IncrementalStats
}

// IncrementalStats say how much of the last compile was reused.
type IncrementalStats struct {
	// Full: every part was compiled.
	Full bool
	// Compiled and Reused count the namespaces whose NetworkPolicies were compiled, and reused.
	Compiled, Reused int
	// ClusterPolicies: the ClusterSecurityPolicies were compiled.
	ClusterPolicies bool
}

// Stats describes the last call of Compile.
func (x *Incremental) Stats() IncrementalStats { return x.stats }

// Changes says what changed in the input since the previous call of Incremental.Compile.
type Changes struct {
	// All: anything may have changed (the first call, after an error, a resync).
	All bool
	// NetworkPolicies are the namespaces in which a NetworkPolicy was added, changed or removed.
	NetworkPolicies []string
	// Pods are the namespaces in which a pod was added, changed or removed, or whose Namespace
	// object was.
	Pods []string
	// ClusterSecurityPolicies: a ClusterSecurityPolicy was added, changed or removed.
	ClusterSecurityPolicies bool
}

// part is the compiled output of the ClusterSecurityPolicies or of one namespace's
// NetworkPolicies.
type part struct {
	// local: a namespace's policies see its own pods only.
	local bool
	// logs are the part's changes to its registry, by phase: for the ClusterSecurityPolicies the
	// compile, the Security tier's emission and the Baseline tier's; for a namespace its
	// policies' compile and its rules' merge and isolation.
	logs     [3][]groupOp
	sections [2][]ir.Section // ClusterSecurityPolicies: the Security and Baseline tiers
	rules    []ir.Rule       // a namespace's rules, hashed
	// load counts, for each pod of the namespace (in order), the part's rules applied to it;
	// loadOK is false when a rule applies to a pod elsewhere (forged labels), then finish counts.
	load     []int32
	loadOK   bool
	objects  []ir.ObjectResult
	warnings []ir.Warning
	forgery  map[int32]map[string]bool
}

// NewIncremental returns an incremental compiler with nothing compiled yet.
func NewIncremental() *Incremental { return &Incremental{} }

// Compile compiles in, in which ch names everything that changed since the previous call.
func (x *Incremental) Compile(in Input, ch Changes) (*ir.Model, error) {
	same := x.last
	if ch.All || len(ch.Pods) > 0 || in.ClusterID != x.clusterID || !reflect.DeepEqual(in.Settings, x.settings) {
		same = nil
	}
	x.last = nil
	c, err := newCompiler(in, same)
	if err != nil {
		x.parts, x.csp = nil, nil
		return nil, err
	}
	forgers := len(c.snap.forgers) > 0
	x.stats = IncrementalStats{}
	if ch.All || x.parts == nil || forgers || x.forgers || in.ClusterID != x.clusterID || !reflect.DeepEqual(in.Settings, x.settings) {
		x.parts, x.csp = map[string]*part{}, nil
		x.stats.Full = true
	}
	x.clusterID, x.settings, x.forgers = in.ClusterID, in.Settings, forgers
	if ch.ClusterSecurityPolicies || len(ch.Pods) > 0 {
		x.csp = nil
	}
	if len(ch.Pods) > 0 {
		for ns, p := range x.parts {
			if !p.local {
				delete(x.parts, ns)
			}
		}
	}
	dirty := map[string]bool{}
	for _, ns := range slices.Concat(ch.Pods, ch.NetworkPolicies) {
		dirty[ns] = true
		delete(x.parts, ns)
	}
	// The policies of the namespaces to compile (those changed, and those without a part), sorted
	// as Compile sorts them.
	var todo []*networkingv1.NetworkPolicy
	for i := range in.NetworkPolicies {
		np := &in.NetworkPolicies[i]
		if dirty[np.Namespace] || x.parts[np.Namespace] == nil {
			todo = append(todo, np)
		}
	}
	x.stats.Reused = len(x.parts)
	if x.csp == nil {
		x.csp = c.compileCSPPart(in)
		x.stats.ClusterPolicies = true
	}
	for _, list := range splitByNamespace(sortNPRefs(todo)) {
		x.parts[list[0].Namespace] = c.compileNamespacePart(list)
		x.stats.Compiled++
	}
	m := c.assemble(x.csp, x.parts)
	c.resetOutputs() // the model holds copies; keep only the snapshot and the caches
	x.last = c
	return m, nil
}

// splitByNamespace cuts a sorted list into runs of one namespace.
func splitByNamespace(list []*networkingv1.NetworkPolicy) [][]*networkingv1.NetworkPolicy {
	var out [][]*networkingv1.NetworkPolicy
	for i := 0; i < len(list); {
		j := i + 1
		for j < len(list) && list[j].Namespace == list[i].Namespace {
			j++
		}
		out = append(out, list[i:j])
		i = j
	}
	return out
}

// startPart empties the compiler's outputs and starts logging into the first phase.
func (c *compiler) startPart(p *part) {
	c.resetOutputs()
	c.groupLog = &p.logs[0]
}

// endPart keeps the compiler's results in p.
func (c *compiler) endPart(p *part) {
	c.groupLog = nil
	for _, o := range c.objects {
		p.objects = append(p.objects, *o)
	}
	p.warnings = c.warnings.list
	p.forgery = c.forgeryHits
}

// compileCSPPart compiles the ClusterSecurityPolicies, as Compile does.
func (c *compiler) compileCSPPart(in Input) *part {
	p := &part{}
	c.startPart(p)
	security, baseline := c.compileCSPs(in.ClusterSecurityPolicies)
	c.groupLog = &p.logs[1]
	p.sections[0] = c.tierWithStaged(ir.TierSecurity, security)
	c.groupLog = &p.logs[2]
	p.sections[1] = c.tierWithStaged(ir.TierBaseline, baseline)
	c.endPart(p)
	return p
}

// compileNamespacePart compiles one namespace's NetworkPolicies (sorted by name).
func (c *compiler) compileNamespacePart(nps []*networkingv1.NetworkPolicy) *part {
	p := &part{local: true}
	c.startPart(p)
	d := &devRules{}
	for _, np := range nps {
		p.local = p.local && seesOwnNamespaceOnly(np)
		c.compileOneNP(np, d)
	}
	c.groupLog = &p.logs[1]
	ns := nps[0].Namespace
	p.rules = c.namespaceRules(ns, d)
	for i := range p.rules {
		p.rules[i].Hash = contentHash(mustJSON(&p.rules[i]))
	}
	c.endPart(p)
	p.load, p.loadOK = c.namespaceLoad(ns, p.rules)
	return p
}

// namespaceLoad counts a namespace's rules on each of its pods; ok is false when a rule applies
// to a pod of another namespace.
func (c *compiler) namespaceLoad(ns string, rules []ir.Rule) (load []int32, ok bool) {
	idx, found := c.snap.nsIndex[ns]
	var pods []int32
	if found {
		pods = c.snap.podsByNS[idx]
	}
	load = make([]int32, len(pods))
	ok = true
	c.forEachRuleLoad([]ir.Section{{Rules: rules}}, c.appliedCache, func(p int32) {
		// A namespace's pods are contiguous in the snapshot's order.
		if len(pods) == 0 {
			ok = false
			return
		}
		if i := int(p) - int(pods[0]); i >= 0 && i < len(pods) && pods[i] == p {
			load[i]++
		} else {
			ok = false
		}
	})
	return load, ok
}

// assembledLoad sums the port load from the ClusterSecurityPolicies' sections and the parts'
// counts, or returns nil when a part could not count its own (finish then counts everything).
func (c *compiler) assembledLoad(csp *part, parts map[string]*part) *ir.PortLoad {
	load := make([]int32, len(c.snap.pods))
	for ns, p := range parts {
		idx, found := c.snap.nsIndex[ns]
		var pods []int32
		if found {
			pods = c.snap.podsByNS[idx]
		}
		if !p.loadOK || len(pods) != len(p.load) {
			return nil
		}
		for i, n := range p.load {
			load[pods[i]] += n
		}
	}
	c.forEachRuleLoad(slices.Concat(csp.sections[0], csp.sections[1]), map[string][]int32{}, func(p int32) { load[p]++ })
	return c.busiest(load)
}

// seesOwnNamespaceOnly reports whether what a policy compiles to depends on its own namespace's
// pods only: no namespace selector and no ipBlock among its peers, and no egress rule to every
// address (an egress peer that is not a pod selector is matched against every pod's addresses
// when the rule has named ports).
func seesOwnNamespaceOnly(np *networkingv1.NetworkPolicy) bool {
	for _, r := range np.Spec.Ingress {
		for _, peer := range r.From {
			if peer.NamespaceSelector != nil || peer.IPBlock != nil {
				return false
			}
		}
	}
	for _, r := range np.Spec.Egress {
		if len(r.To) == 0 {
			return false
		}
		for _, peer := range r.To {
			if peer.NamespaceSelector != nil || peer.IPBlock != nil {
				return false
			}
		}
	}
	return true
}

// assemble builds the model from the parts, in Compile's order.
func (c *compiler) assemble(csp *part, parts map[string]*part) *ir.Model {
	c.resetOutputs()
	names := slices.Sorted(maps.Keys(parts))
	c.replayGroups(csp.logs[0])
	for _, ns := range names {
		c.replayGroups(parts[ns].logs[0])
	}
	c.replayGroups(csp.logs[1])
	for _, ns := range names {
		c.replayGroups(parts[ns].logs[1])
	}
	c.replayGroups(csp.logs[2])

	perNS := make(map[string][]ir.Rule, len(parts))
	for _, p := range append([]*part{csp}, slices.Collect(maps.Values(parts))...) {
		for _, o := range p.objects {
			o := o
			c.objects[o.Object] = &o
		}
		for _, w := range p.warnings {
			c.warnings.add(w)
		}
		for i, hits := range p.forgery {
			if c.forgeryHits[i] == nil {
				c.forgeryHits[i] = map[string]bool{}
			}
			maps.Copy(c.forgeryHits[i], hits)
		}
	}
	for ns, p := range parts {
		if len(p.rules) > 0 {
			perNS[ns] = p.rules
		}
	}
	c.load = c.assembledLoad(csp, parts)
	sections := slices.Concat(csp.sections[0], c.pack(perNS), csp.sections[1])
	for i := range sections {
		if sections[i].Tier != ir.TierDeveloper { // the part keeps its own; pack made new ones
			sections[i].Rules = slices.Clone(sections[i].Rules)
		}
	}
	return c.finish(sections)
}
