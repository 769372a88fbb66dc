package nsxclient

import (
	"context"
	"net/http"
	"strconv"
)

const (
	ipSetsPath = "/ip-sets"
	ipSetPath  = "/ip-sets/{id}"
)

// ListIPSets returns all IPSets.
func (c *Client) ListIPSets(ctx context.Context) ([]IPSet, error) {
	r, err := newRequest(http.MethodGet, ipSetsPath)
	if err != nil {
		return nil, err
	}
	return listAll[IPSet](ctx, c, r)
}

// GetIPSet returns one IPSet.
func (c *Client) GetIPSet(ctx context.Context, id string) (*IPSet, error) {
	r, err := newRequest(http.MethodGet, ipSetPath, id)
	if err != nil {
		return nil, err
	}
	return fetch[IPSet](ctx, c, r)
}

// CreateIPSet creates an IPSet (at most 4000 addresses, ranges or CIDRs, all IPv4 or all IPv6);
// NSX assigns the id. The request is not retried once it may have reached NSX (see retry.go).
func (c *Client) CreateIPSet(ctx context.Context, s IPSet) (*IPSet, error) {
	r, err := newRequest(http.MethodPost, ipSetsPath)
	if err != nil {
		return nil, err
	}
	return send[IPSet](ctx, c, r, s)
}

// UpdateIPSet replaces IPSet s.ID (PUT). s must carry the _revision last read; a stale one fails
// with ErrStaleRevision.
func (c *Client) UpdateIPSet(ctx context.Context, s IPSet) (*IPSet, error) {
	r, err := newRequest(http.MethodPut, ipSetPath, s.ID)
	if err != nil {
		return nil, err
	}
	return send[IPSet](ctx, c, r, s)
}

// DeleteIPSet deletes an IPSet. Without force, NSX refuses to delete an IPSet that is a member of
// an NSGroup (ErrInUse).
func (c *Client) DeleteIPSet(ctx context.Context, id string, force bool) error {
	r, err := newRequest(http.MethodDelete, ipSetPath, id)
	if err != nil {
		return err
	}
	r.query.Set("force", strconv.FormatBool(force))
	r.conflictMeansInUse = true // IPSet deletes carry no revision; NSX documents 409 for in-use
	return c.doJSON(ctx, r, nil)
}

// AddIPSetAddress adds one address, range or CIDR to an IPSet (action=add_ip) without a
// _revision, so concurrent writers cannot make it stale.
func (c *Client) AddIPSetAddress(ctx context.Context, id, address string) error {
	return c.changeIPSetAddress(ctx, id, "add_ip", address)
}

// RemoveIPSetAddress removes one address, range or CIDR from an IPSet (action=remove_ip).
func (c *Client) RemoveIPSetAddress(ctx context.Context, id, address string) error {
	return c.changeIPSetAddress(ctx, id, "remove_ip", address)
}

// changeIPSetAddress sends add_ip or remove_ip; these action values are lower case in NSX's spec,
// unlike the NSGroup ones.
func (c *Client) changeIPSetAddress(ctx context.Context, id, action, address string) error {
	r, err := newRequest(http.MethodPost, ipSetPath, id)
	if err != nil {
		return err
	}
	// An IPSet is a set: adding or removing the same address twice leaves the same set.
	r.withAction(action, true)
	_, err = send[IPAddressElement](ctx, c, r, IPAddressElement{IPAddress: address})
	return err
}
