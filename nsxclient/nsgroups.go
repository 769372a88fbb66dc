package nsxclient

import (
	"context"
	"net/http"
	"strconv"
	"strings"
)

const (
	nsGroupsPath = "/ns-groups"
	nsGroupPath  = "/ns-groups/{id}"
)

// ListNSGroupsOptions filters ListNSGroups. The zero value lists all groups.
type ListNSGroupsOptions struct {
	// MemberTypes keeps only groups with members of these types (e.g. "LogicalPort", "IPSet").
	MemberTypes []string
	// PopulateReferences asks NSX to fill target_resource in simple expressions.
	PopulateReferences bool
}

// ListNSGroups returns all NSGroups. NSX serves them in pages of at most 50 whatever the
// requested page size, so a large deployment costs several requests.
func (c *Client) ListNSGroups(ctx context.Context, opts ListNSGroupsOptions) ([]NSGroup, error) {
	r, err := newRequest(http.MethodGet, nsGroupsPath)
	if err != nil {
		return nil, err
	}
	if len(opts.MemberTypes) > 0 {
		r.query.Set("member_types", strings.Join(opts.MemberTypes, ","))
	}
	r.query.Set("populate_references", strconv.FormatBool(opts.PopulateReferences))
	return listAll[NSGroup](ctx, c, r)
}

// GetNSGroup returns one NSGroup.
func (c *Client) GetNSGroup(ctx context.Context, id string) (*NSGroup, error) {
	r, err := newRequest(http.MethodGet, nsGroupPath, id)
	if err != nil {
		return nil, err
	}
	return fetch[NSGroup](ctx, c, r)
}

// CreateNSGroup creates an NSGroup; NSX assigns the id. The request is not retried once it may
// have reached NSX (see retry.go).
func (c *Client) CreateNSGroup(ctx context.Context, g NSGroup) (*NSGroup, error) {
	r, err := newRequest(http.MethodPost, nsGroupsPath)
	if err != nil {
		return nil, err
	}
	return send[NSGroup](ctx, c, r, g)
}

// UpdateNSGroup replaces NSGroup g.ID (PUT). g must carry the _revision last read; a stale one
// fails with ErrStaleRevision.
func (c *Client) UpdateNSGroup(ctx context.Context, g NSGroup) (*NSGroup, error) {
	r, err := newRequest(http.MethodPut, nsGroupPath, g.ID)
	if err != nil {
		return nil, err
	}
	return send[NSGroup](ctx, c, r, g)
}

// DeleteNSGroup deletes an NSGroup. Without force, NSX refuses to delete a group that is a
// member of another group (ErrInUse); force=true deletes it anyway, and references to it turn
// is_valid=false.
func (c *Client) DeleteNSGroup(ctx context.Context, id string, force bool) error {
	r, err := newRequest(http.MethodDelete, nsGroupPath, id)
	if err != nil {
		return err
	}
	r.query.Set("force", strconv.FormatBool(force))
	r.conflictMeansInUse = true // NSGroup deletes carry no revision
	return c.doJSON(ctx, r, nil)
}

// AddNSGroupMembers adds static members (at most 500 per group; see StaticMember) without
// touching the rest of the group (action=ADD_MEMBERS). It carries no _revision, so it cannot
// fail with ErrStaleRevision.
func (c *Client) AddNSGroupMembers(ctx context.Context, id string, members []NSGroupExpression) (*NSGroup, error) {
	return c.changeNSGroupMembers(ctx, id, "ADD_MEMBERS", members)
}

// RemoveNSGroupMembers removes static members (action=REMOVE_MEMBERS).
func (c *Client) RemoveNSGroupMembers(ctx context.Context, id string, members []NSGroupExpression) (*NSGroup, error) {
	return c.changeNSGroupMembers(ctx, id, "REMOVE_MEMBERS", members)
}

// changeNSGroupMembers sends ADD_MEMBERS or REMOVE_MEMBERS. The action values are upper case in
// NSX's spec, unlike the IPSet ones.
func (c *Client) changeNSGroupMembers(ctx context.Context, id, action string, members []NSGroupExpression) (*NSGroup, error) {
	r, err := newRequest(http.MethodPost, nsGroupPath, id)
	if err != nil {
		return nil, err
	}
	// Membership is a set: adding or removing the same members twice leaves the same group.
	r.withAction(action, true)
	if members == nil {
		members = []NSGroupExpression{}
	}
	return send[NSGroup](ctx, c, r, NSGroupExpressionList{Members: members})
}

// ListNSGroupEffectiveIPAddressMembers returns the IP addresses, ranges and CIDRs the group
// resolves to. NSX computes them only for VM, VIF, logical switch, logical port and IPSet
// members; for other member types the list is empty.
func (c *Client) ListNSGroupEffectiveIPAddressMembers(ctx context.Context, id string) ([]string, error) {
	r, err := newRequest(http.MethodGet, "/ns-groups/{id}/effective-ip-address-members", id)
	if err != nil {
		return nil, err
	}
	return listAll[string](ctx, c, r)
}

// ListNSGroupEffectiveLogicalPortMembers returns references to the logical ports the group
// resolves to.
func (c *Client) ListNSGroupEffectiveLogicalPortMembers(ctx context.Context, id string) ([]ResourceReference, error) {
	r, err := newRequest(http.MethodGet, "/ns-groups/{id}/effective-logical-port-members", id)
	if err != nil {
		return nil, err
	}
	return listAll[ResourceReference](ctx, c, r)
}
