package compile

import (
	"fmt"

	"github.com/microseg/microseg/internal/ir"
)

// passRule is a Pass rule seen earlier in the same tier and direction: its products are the flows
// that must skip every later rule of the tier.
type passRule struct {
	name     string // "<policy>/<rule>" for messages
	products []product
}

// restrict returns the products of r minus every earlier Pass of the tier and direction, so that
// the DFW rules realizing them match exactly the flows the Pass did not claim. See doc.go for the
// algorithm. ok is false when the exact result would need more than Settings.MaxPassPieces
// products.
func (c *compiler) restrict(r []product, passes []passRule, ctx *ruleCtx) ([]product, bool) {
	pieces := r
	for _, p := range passes {
		for _, pp := range p.products {
			var next []product
			for _, x := range pieces {
				next = append(next, c.subtract(x, pp, p.name, ctx)...)
			}
			pieces = mergeProducts(next)
			if len(pieces) > c.settings.MaxPassPieces {
				return nil, false
			}
		}
	}
	return pieces, true
}

// subtract returns x \ p as a union of products. A flow (f, s, a, v) of x that is not in p misses
// p in at least one dimension, so x \ p is the union of
//
//	(x.fam \ p.fam) × x.self × x.peer × x.svc
//	x.fam × (x.self \ p.self) × x.peer × x.svc
//	x.fam × x.self × (x.peer \ p.peer) × x.svc
//	x.fam × x.self × x.peer × (x.svc \ p.svc)
//
// The pieces may overlap, which is harmless: they carry the same action. When x and p are
// disjoint in some dimension, x is returned unchanged (and keeps its groups).
func (c *compiler) subtract(x, p product, passName string, ctx *ruleCtx) []product {
	if (x.fam != 0 && p.fam != 0 && x.fam != p.fam) ||
		!intersectsSorted(x.self.members, p.self.members) || !x.svc.intersects(p.svc) {
		return []product{x}
	}
	overlap, assumed := c.peerOverlap(x.peer, p.peer)
	if assumed {
		ctx.warn(ir.WarnExternalGroup, fmt.Sprintf("the Pass rule %s names NSX groups (or this rule does) whose members the "+
			"compiler cannot see; they are assumed to share no address with the other peers, so flows from their members "+
			"that this rule's peers also match are decided by this rule", passName))
	}
	if !overlap {
		return []product{x}
	}
	var out []product
	if x.fam == 0 && p.fam != 0 {
		rest := x
		rest.fam = 10 - p.fam // the other family
		out = append(out, rest)
	}
	if self := c.diffPods(x.self, p.self); !self.nothing() {
		out = append(out, product{self: self, peer: x.peer, svc: x.svc, fam: x.fam})
	}
	if peer, _ := c.diffPeers(x.peer, p.peer); !peer.nothing() {
		out = append(out, product{self: x.self, peer: peer, svc: x.svc, fam: x.fam})
	}
	if svc := x.svc.minus(p.svc); !svc.empty() {
		out = append(out, product{self: x.self, peer: x.peer, svc: svc, fam: x.fam})
	}
	return out
}

// failClosed is what a rule becomes when its exact Pass restriction is too large: a Deny or
// Reject keeps its whole match (it may also catch flows the Pass should have handed on), an Allow
// is dropped (those flows go on to the later rules and tiers). Either way no flow is allowed that
// the policies deny.
func failClosed(action ir.Action, r []product) []product {
	if action == ir.ActionAllow {
		return nil
	}
	return r
}
