package compile

import (
	"fmt"
	"slices"

	"go4.org/netipx"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/microseg/microseg/internal/ir"
)

// The developer tier. NetworkPolicy semantics: a pod selected by some policy for a direction is
// isolated in that direction, and a flow is allowed iff some rule of those policies allows it.
// On the DFW this is every policy rule as an ALLOW (applied to the policy's pods), followed by
// one DROP rule per namespace and direction applied to every pod a policy isolates there: a flow
// that no allow matched is dropped at an isolated pod, and pods no policy selects match neither
// and fall through to the Baseline tier. devtier.go merges, prunes and packs these rules.

func sortNPs(list []networkingv1.NetworkPolicy) []*networkingv1.NetworkPolicy {
	out := make([]*networkingv1.NetworkPolicy, len(list))
	for i := range list {
		out[i] = &list[i]
	}
	return sortNPRefs(out)
}

// sortNPRefs sorts policies by namespace and name, keeping the first of duplicates.
func sortNPRefs(out []*networkingv1.NetworkPolicy) []*networkingv1.NetworkPolicy {
	slices.SortStableFunc(out, func(a, b *networkingv1.NetworkPolicy) int {
		if a.Namespace != b.Namespace {
			if a.Namespace < b.Namespace {
				return -1
			}
			return 1
		}
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return slices.CompactFunc(out, func(a, b *networkingv1.NetworkPolicy) bool {
		return a.Namespace == b.Namespace && a.Name == b.Name
	})
}

// policyTypes returns whether the policy isolates its pods for ingress and for egress. Without
// explicit policyTypes, Ingress always applies and Egress applies iff the policy has egress rules.
func policyTypes(np *networkingv1.NetworkPolicy) (ingress, egress bool, err error) {
	if len(np.Spec.PolicyTypes) == 0 {
		return true, len(np.Spec.Egress) > 0, nil
	}
	for _, t := range np.Spec.PolicyTypes {
		switch t {
		case networkingv1.PolicyTypeIngress:
			ingress = true
		case networkingv1.PolicyTypeEgress:
			egress = true
		default:
			return false, false, fmt.Errorf("unknown policy type %q", t)
		}
	}
	return ingress, egress, nil
}

// compileNP compiles one NetworkPolicy into dev. It validates the whole policy before emitting
// anything, so an invalid policy contributes nothing.
func (c *compiler) compileNP(np *networkingv1.NetworkPolicy, dev *devRules, w *warnings) error {
	obj := ir.ObjectRef{Kind: ir.KindNetworkPolicy, Namespace: np.Namespace, Name: np.Name}
	isoIn, isoOut, err := policyTypes(np)
	if err != nil {
		return err
	}
	self, err := c.selectPods(c.ownNamespace(np.Namespace), &np.Spec.PodSelector)
	if err != nil {
		return fmt.Errorf("podSelector: %w", err)
	}
	type parsed struct {
		dir   string
		index int
		peers []famPeer
		ports portSpec
	}
	var rules []parsed
	if isoIn {
		for i, r := range np.Spec.Ingress {
			peers, err := c.npPeers(np.Namespace, r.From)
			if err != nil {
				return fmt.Errorf("ingress[%d]: %w", i, err)
			}
			ports, err := npPorts(r.Ports)
			if err != nil {
				return fmt.Errorf("ingress[%d]: %w", i, err)
			}
			rules = append(rules, parsed{"ingress", i, peers, ports})
		}
	}
	if isoOut {
		for i, r := range np.Spec.Egress {
			peers, err := c.npPeers(np.Namespace, r.To)
			if err != nil {
				return fmt.Errorf("egress[%d]: %w", i, err)
			}
			ports, err := npPorts(r.Ports)
			if err != nil {
				return fmt.Errorf("egress[%d]: %w", i, err)
			}
			rules = append(rules, parsed{"egress", i, peers, ports})
		}
	}
	key := ir.ObjectRef{Kind: ir.KindNetworkPolicy, Namespace: np.Namespace, Name: np.Name}.Key()
	display := "np " + np.Namespace + "/" + np.Name
	for _, r := range rules {
		rule := fmt.Sprintf("%s/%d", r.dir, r.index)
		ctx := &ruleCtx{w: w, obj: obj, rule: rule}
		spec := ruleSpec{key: key + "/" + rule, display: fmt.Sprintf("%s %s %d", display, r.dir, r.index),
			action: ir.ActionAllow, dir: ir.DirectionIn, origin: ir.Origin{Object: obj, Rule: rule}}
		var products []product
		if r.dir == "ingress" {
			products = c.expandIngress(self, r.peers, r.ports)
		} else {
			spec.dir = ir.DirectionOut
			products = c.expandEgress(self, r.peers, r.ports, ctx)
		}
		dev.allow = append(dev.allow, c.emit(spec, products, ctx)...)
	}
	for d, on := range [2]bool{isoIn, isoOut} {
		if on {
			dev.isolate[d] = append(dev.isolate[d], isolation{obj: obj, self: self})
		}
	}
	return nil
}

// npPeers is the union of a rule's peers; no peers means every address.
func (c *compiler) npPeers(ns string, peers []networkingv1.NetworkPolicyPeer) ([]famPeer, error) {
	if len(peers) == 0 {
		return []famPeer{{peer: anyPeer()}}, nil
	}
	var out peerSet
	var b netipx.IPSetBuilder
	for i, p := range peers {
		if p.IPBlock != nil {
			if p.PodSelector != nil || p.NamespaceSelector != nil {
				return nil, fmt.Errorf("peer %d: ipBlock excludes selectors", i)
			}
			block, err := ipBlockSet(p.IPBlock)
			if err != nil {
				return nil, fmt.Errorf("peer %d: %w", i, err)
			}
			b.AddSet(block)
			continue
		}
		var pods podSet
		var err error
		switch {
		case p.NamespaceSelector != nil:
			var m namespaceMatch
			if m, err = c.matchNamespaces(p.NamespaceSelector); err == nil {
				pods, err = c.selectPods(m, p.PodSelector)
			}
		case p.PodSelector != nil:
			pods, err = c.selectPods(c.ownNamespace(ns), p.PodSelector)
		default:
			return nil, fmt.Errorf("peer %d sets none of podSelector, namespaceSelector, ipBlock", i)
		}
		if err != nil {
			return nil, fmt.Errorf("peer %d: %w", i, err)
		}
		out = unionParts(out, podsOnlyPeer(pods))
	}
	ips, _ := b.IPSet()
	if len(ips.Ranges()) > 0 {
		out.ips = ips
	}
	return splitUniverse(out), nil
}

// ipBlockSet is cidr minus every except.
func ipBlockSet(blk *networkingv1.IPBlock) (*netipx.IPSet, error) {
	cidr, err := parseCIDR(blk.CIDR)
	if err != nil {
		return nil, err
	}
	var b netipx.IPSetBuilder
	b.AddPrefix(cidr)
	for _, e := range blk.Except {
		ex, err := parseCIDR(e)
		if err != nil {
			return nil, fmt.Errorf("except: %w", err)
		}
		b.RemovePrefix(ex)
	}
	return b.IPSet()
}
