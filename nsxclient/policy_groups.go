package nsxclient

import (
	"context"
	"net/url"
	"strings"
)

// ListGroups returns every group of a domain.
func (p *PolicyClient) ListGroups(ctx context.Context, domain string, opts ListGroupsOptions) ([]PolicyGroup, error) {
	var extra url.Values
	if len(opts.MemberTypes) > 0 {
		extra = url.Values{"member_types": {strings.Join(opts.MemberTypes, ",")}}
	}
	return policyList[PolicyGroup](ctx, p, opts.PolicyListOptions, extra, pGroups, domain)
}

// GetGroup returns one group.
func (p *PolicyClient) GetGroup(ctx context.Context, domain, id string) (*PolicyGroup, error) {
	return policyGet[PolicyGroup](ctx, p, pGroup, domain, id)
}

// PatchGroup creates group g.ID or merges g into it: fields g leaves empty keep their value (use
// PutGroup to replace the group as a whole). With g.Revision set, NSX refuses the write with
// ErrStaleRevision if the group changed since that revision.
func (p *PolicyClient) PatchGroup(ctx context.Context, domain string, g PolicyGroup) error {
	return p.policyPatch(ctx, g, pGroup, domain, g.ID)
}

// PutGroup creates group g.ID or replaces it; replacing needs g.Revision to be the current
// _revision (else ErrStaleRevision). It returns the stored group.
func (p *PolicyClient) PutGroup(ctx context.Context, domain string, g PolicyGroup) (*PolicyGroup, error) {
	return policyPut[PolicyGroup](ctx, p, g, pGroup, domain, g.ID)
}

// DeleteGroup deletes a group. A group still referenced by a rule, a policy scope or another
// group fails with ErrInUse; a group that is already gone with ErrNotFound.
func (p *PolicyClient) DeleteGroup(ctx context.Context, domain, id string) error {
	return p.policyDelete(ctx, pGroup, domain, id)
}

// GroupSegmentPortMembers returns the segment ports that are effective members of a group.
func (p *PolicyClient) GroupSegmentPortMembers(ctx context.Context, domain, id string) ([]SegmentPort, error) {
	return policyList[SegmentPort](ctx, p, PolicyListOptions{}, nil, pGroupPortMembers, domain, id)
}

// GroupIPAddressMembers returns the effective IP addresses of a group: the addresses of its
// member ports and of its IP address expressions, as addresses, CIDRs or ranges.
func (p *PolicyClient) GroupIPAddressMembers(ctx context.Context, domain, id string) ([]string, error) {
	return policyList[string](ctx, p, PolicyListOptions{}, nil, pGroupIPMembers, domain, id)
}
