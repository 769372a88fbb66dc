package compile

import (
	"fmt"
	"slices"

	"go4.org/netipx"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/ir"
)

// compiledRule is a source rule turned into products, before the Pass restriction.
type compiledRule struct {
	spec     ruleSpec
	pass     bool
	name     string // for messages: "ClusterSecurityPolicy/x rule y"
	products []product
	ctx      *ruleCtx
}

// compiledCSP is a ClusterSecurityPolicy turned into products, per direction, in rule order.
type compiledCSP struct {
	obj             ir.ObjectRef
	name            string
	ingress, egress []compiledRule
	staged          bool // spec.enforcement: Staged (staged.go)
}

// sortCSPs orders policies as the tier evaluates them: priority, then name.
func sortCSPs(list []securityv1alpha1.ClusterSecurityPolicy) []*securityv1alpha1.ClusterSecurityPolicy {
	out := make([]*securityv1alpha1.ClusterSecurityPolicy, len(list))
	for i := range list {
		out[i] = &list[i]
	}
	slices.SortStableFunc(out, func(a, b *securityv1alpha1.ClusterSecurityPolicy) int {
		if a.Spec.Priority != b.Spec.Priority {
			return int(a.Spec.Priority) - int(b.Spec.Priority)
		}
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return slices.CompactFunc(out, func(a, b *securityv1alpha1.ClusterSecurityPolicy) bool { return a.Name == b.Name })
}

func tierOf(p *securityv1alpha1.ClusterSecurityPolicy) (ir.Tier, error) {
	switch p.Spec.Tier {
	case "", securityv1alpha1.TierSecurity:
		return ir.TierSecurity, nil
	case securityv1alpha1.TierBaseline:
		return ir.TierBaseline, nil
	}
	return "", fmt.Errorf("unknown tier %q", p.Spec.Tier)
}

// compileCSP turns a policy into products. Warnings raised while doing so go to w, which the
// caller keeps only if the policy compiles.
func (c *compiler) compileCSP(p *securityv1alpha1.ClusterSecurityPolicy, w *warnings) (*compiledCSP, error) {
	obj := ir.ObjectRef{Kind: ir.KindClusterSecurityPolicy, Name: p.Name}
	if p.Spec.Priority < 0 || p.Spec.Priority > 1000 {
		return nil, fmt.Errorf("priority %d is outside 0..1000", p.Spec.Priority)
	}
	self, err := c.subjectPods(p.Spec.Subject)
	if err != nil {
		return nil, fmt.Errorf("subject: %w", err)
	}
	out := &compiledCSP{obj: obj, name: p.Name, staged: isStaged(p)}
	key := c.limitKey(cspKey(p.Name))
	for _, r := range p.Spec.Ingress {
		cr, err := c.cspRule(obj, key, "ingress", r.Name, r.Action, r.Logged, r.From, r.Ports, w)
		if err != nil {
			return nil, err
		}
		cr.products = c.expandIngress(self, cr.peers, cr.ports)
		out.ingress = append(out.ingress, cr.compiledRule)
	}
	for _, r := range p.Spec.Egress {
		cr, err := c.cspRule(obj, key, "egress", r.Name, r.Action, r.Logged, r.To, r.Ports, w)
		if err != nil {
			return nil, err
		}
		cr.products = c.expandEgress(self, cr.peers, cr.ports, cr.ctx)
		out.egress = append(out.egress, cr.compiledRule)
	}
	return out, nil
}

// pendingRule is a parsed rule whose products are not built yet.
type pendingRule struct {
	compiledRule
	peers []famPeer
	ports portSpec
}

func (c *compiler) cspRule(obj ir.ObjectRef, key, dir, name string, action securityv1alpha1.RuleAction, logged bool,
	peers []securityv1alpha1.Peer, ports []securityv1alpha1.Port, w *warnings) (*pendingRule, error) {
	where := fmt.Sprintf("%s rule %q", dir, name)
	if len(peers) == 0 {
		return nil, fmt.Errorf("%s: no peers", where)
	}
	ps, err := cspPorts(ports)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	peer, err := c.cspPeers(peers)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	pr := &pendingRule{peers: splitUniverse(peer), ports: ps}
	pr.name = fmt.Sprintf("%s rule %s/%s", obj, dir, name)
	pr.ctx = &ruleCtx{w: w, obj: obj, rule: dir + "/" + name}
	dirIR := ir.DirectionIn
	if dir == "egress" {
		dirIR = ir.DirectionOut
	}
	pr.spec = ruleSpec{key: key + "/" + dir + "/" + name, display: fmt.Sprintf("csp %s %s %s", obj.Name, dir, name),
		dir: dirIR, logged: logged, origin: ir.Origin{Object: obj, Rule: dir + "/" + name}}
	switch action {
	case securityv1alpha1.ActionAllow:
		pr.spec.action = ir.ActionAllow
	case securityv1alpha1.ActionDeny:
		pr.spec.action = ir.ActionDrop
	case securityv1alpha1.ActionReject:
		pr.spec.action = ir.ActionReject
	case securityv1alpha1.ActionPass:
		pr.pass = true
	default:
		return nil, fmt.Errorf("%s: unknown action %q", where, action)
	}
	return pr, nil
}

// subjectPods resolves a policy's subject.
func (c *compiler) subjectPods(s securityv1alpha1.Subject) (podSet, error) {
	switch {
	case (s.Namespaces == nil) == (s.Pods == nil):
		return podSet{}, fmt.Errorf("exactly one of namespaces or pods must be set")
	case s.Namespaces != nil:
		ns, err := c.matchNamespaces(s.Namespaces)
		if err != nil {
			return podSet{}, err
		}
		return c.selectPods(ns, nil)
	default:
		ns, err := c.matchNamespaces(&s.Pods.NamespaceSelector)
		if err != nil {
			return podSet{}, err
		}
		return c.selectPods(ns, &s.Pods.PodSelector)
	}
}

// cspPeers is the union of a rule's peers.
func (c *compiler) cspPeers(peers []securityv1alpha1.Peer) (peerSet, error) {
	var out peerSet
	var b netipx.IPSetBuilder
	for i, p := range peers {
		n := 0
		for _, set := range []bool{p.Namespaces != nil, p.Pods != nil, len(p.Networks) > 0, len(p.NSXGroups) > 0} {
			if set {
				n++
			}
		}
		if n != 1 {
			return out, fmt.Errorf("peer %d must set exactly one of namespaces, pods, networks or nsxGroups", i)
		}
		var pods podSet
		var err error
		switch {
		case p.Namespaces != nil:
			var ns namespaceMatch
			if ns, err = c.matchNamespaces(p.Namespaces); err == nil {
				pods, err = c.selectPods(ns, nil)
			}
		case p.Pods != nil:
			var ns namespaceMatch
			if ns, err = c.matchNamespaces(&p.Pods.NamespaceSelector); err == nil {
				pods, err = c.selectPods(ns, &p.Pods.PodSelector)
			}
		case len(p.Networks) > 0:
			for _, cidr := range p.Networks {
				prefix, perr := parseCIDR(string(cidr))
				if perr != nil {
					return out, fmt.Errorf("peer %d: %w", i, perr)
				}
				b.AddPrefix(prefix)
			}
			continue
		default:
			for _, g := range p.NSXGroups {
				if g == "" {
					return out, fmt.Errorf("peer %d: empty NSX group name", i)
				}
				out.external = append(out.external, string(g))
			}
			continue
		}
		if err != nil {
			return out, fmt.Errorf("peer %d: %w", i, err)
		}
		out = unionParts(out, podsOnlyPeer(pods))
	}
	ips, _ := b.IPSet()
	if len(ips.Ranges()) > 0 {
		out.ips = ips
	}
	slices.Sort(out.external)
	out.external = slices.Compact(out.external)
	return out, nil
}

// compileTier compiles the policies of one tier (already in evaluation order) into one section
// per policy (more past the rules-per-section limit), ingress rules then egress rules. Pass rules
// produce no DFW rule: each later rule of the tier and direction is restricted to flows outside
// the Pass rules before it (pass.go). A rule an earlier rule of the tier covers is left out
// (shadow.go).
func (c *compiler) compileTier(tier ir.Tier, csps []*compiledCSP) []ir.Section {
	rules := make([][]ir.Rule, len(csps))
	for dir := range 2 {
		var passes []passRule
		for i, p := range csps {
			list := p.ingress
			if dir == 1 {
				list = p.egress
			}
			for _, r := range list {
				if r.pass {
					passes = append(passes, passRule{name: r.name, products: r.products})
					continue
				}
				pieces, ok := c.restrict(r.products, passes, r.ctx)
				if !ok {
					r.ctx.warn(ir.WarnPassTooComplex, fmt.Sprintf("restricting this rule to flows outside the earlier Pass rules "+
						"needs more than %d pieces; it is realized fail-closed (a Deny/Reject keeps its whole match, an Allow is dropped)",
						c.settings.MaxPassPieces))
					pieces = failClosed(r.spec.action, r.products)
				}
				rules[i] = append(rules[i], c.emit(r.spec, pieces, r.ctx)...)
			}
		}
	}
	rules = c.dropShadowedInTier(rules)
	var out []ir.Section
	for i, p := range csps {
		out = append(out, c.sections(c.limitKey(cspKey(p.name)), "csp "+p.name, tier, rules[i], true)...)
	}
	return out
}

// cspKey is the IR key of a ClusterSecurityPolicy's section (ir.ObjectRef.Key).
func cspKey(name string) string {
	return ir.ObjectRef{Kind: ir.KindClusterSecurityPolicy, Name: name}.Key()
}
