package nsxclient

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// ListDomains returns every domain.
func (p *PolicyClient) ListDomains(ctx context.Context, opts PolicyListOptions) ([]PolicyDomain, error) {
	return policyList[PolicyDomain](ctx, p, opts, nil, pDomains)
}

// GetDomain returns one domain.
func (p *PolicyClient) GetDomain(ctx context.Context, id string) (*PolicyDomain, error) {
	return policyGet[PolicyDomain](ctx, p, pDomain, id)
}

// PatchDomain creates domain d.ID or merges d into it.
func (p *PolicyClient) PatchDomain(ctx context.Context, d PolicyDomain) error {
	return p.policyPatch(ctx, d, pDomain, d.ID)
}

// DeleteDomain deletes an empty domain (delete its groups and policies first, or delete the
// whole subtree with PatchInfra: a ChildDomain node with MarkedForDelete).
func (p *PolicyClient) DeleteDomain(ctx context.Context, id string) error {
	return p.policyDelete(ctx, pDomain, id)
}

// PatchInfra applies a hierarchical body in one call (PATCH /infra): every object in it is
// created, updated or (MarkedForDelete) deleted together with its subtree, and NSX orders the
// work inside the tree itself. A body may carry at most MaxHierarchicalObjects objects; larger
// changes must be split by the caller (the client refuses them before sending).
//
// Whether NSX applies a failed call partly is not documented: after an error, re-read the paths
// involved rather than assume nothing changed.
func (p *PolicyClient) PatchInfra(ctx context.Context, body Infra, opts PatchInfraOptions) error {
	if body.ResourceType == "" {
		body.ResourceType = ResourceInfra
	}
	if n := CountHierarchicalObjects(body.Children); n > MaxHierarchicalObjects {
		return fmt.Errorf("nsxclient: PATCH %s%s: the body carries %d objects, more than the %d NSX accepts in one call: split the change into several calls",
			policyPrefix, pInfra, n, MaxHierarchicalObjects)
	}
	r, err := newPolicyRequest(http.MethodPatch, pInfra)
	if err != nil {
		return err
	}
	r.query.Set("enforce_revision_check", strconv.FormatBool(opts.EnforceRevisionCheck))
	if err := r.withJSON(body); err != nil {
		return err
	}
	return p.c.doJSON(ctx, r, nil)
}

// CountHierarchicalObjects counts the objects a hierarchical body creates, updates or deletes:
// every Child<Type> wrapper, at any depth. ChildResourceReference nodes only name an existing
// object and do not count.
func CountHierarchicalObjects(children []ChildNode) int {
	n := 0
	for _, ch := range children {
		if ch.ResourceType != ChildResourceReference {
			n++
		}
		n += CountHierarchicalObjects(ch.Children)
		for _, inner := range ch.innerChildren() {
			n += CountHierarchicalObjects(inner)
		}
	}
	return n
}

// innerChildren returns the children lists of the wrapped object.
func (ch ChildNode) innerChildren() [][]ChildNode {
	var out [][]ChildNode
	if ch.Domain != nil {
		out = append(out, ch.Domain.Children)
	}
	if ch.SecurityPolicy != nil {
		out = append(out, ch.SecurityPolicy.Children)
	}
	if ch.Segment != nil {
		out = append(out, ch.Segment.Children)
	}
	return out
}

// ReadInfra reads a subtree of the Policy tree in one call (GET /infra?filter=Type-...), in the
// same Child<Type> shape PatchInfra takes. Objects of types not listed appear only as
// ChildResourceReference nodes when they are ancestors of listed ones. Use it for bulk reads;
// read single objects with the Get methods when certainty matters.
func (p *PolicyClient) ReadInfra(ctx context.Context, opts ReadInfraOptions) (*Infra, error) {
	if len(opts.Types) == 0 {
		return nil, fmt.Errorf("nsxclient: GET %s%s: ReadInfraOptions.Types is empty: name the resource types to read, e.g. Domain, Group, SecurityPolicy, Rule", policyPrefix, pInfra)
	}
	r, err := newPolicyRequest(http.MethodGet, pInfra)
	if err != nil {
		return nil, err
	}
	r.query.Set("filter", "Type-"+strings.Join(opts.Types, "|"))
	if opts.BasePath != "" {
		r.query.Set("base_path", opts.BasePath)
	}
	return fetch[Infra](ctx, p.c, r)
}
