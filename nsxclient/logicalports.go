package nsxclient

import (
	"context"
	"net/http"
	"strconv"
)

const (
	logicalPortsPath = "/logical-ports"
	logicalPortPath  = "/logical-ports/{id}"
)

// ListLogicalPortsOptions filters ListLogicalPorts. The zero value lists all ports. NSX has no tag
// filter on this endpoint; filter by tags on the client side.
type ListLogicalPortsOptions struct {
	LogicalSwitchID string
	// AttachmentType is e.g. "VIF".
	AttachmentType string
	AttachmentID   string
	ParentVIFID    string
	// ContainerPortsOnly keeps only container (CHILD VIF) ports, i.e. pod ports.
	ContainerPortsOnly bool
	// PageSize is the page size requested from NSX (0: NSX's default of 1000).
	PageSize int
}

// ListLogicalPorts returns all logical ports matching opts, following every page.
func (c *Client) ListLogicalPorts(ctx context.Context, opts ListLogicalPortsOptions) ([]LogicalPort, error) {
	r, err := newRequest(http.MethodGet, logicalPortsPath)
	if err != nil {
		return nil, err
	}
	setIfNotEmpty(r, "logical_switch_id", opts.LogicalSwitchID)
	setIfNotEmpty(r, "attachment_type", opts.AttachmentType)
	setIfNotEmpty(r, "attachment_id", opts.AttachmentID)
	setIfNotEmpty(r, "parent_vif_id", opts.ParentVIFID)
	if opts.ContainerPortsOnly {
		r.query.Set("container_ports_only", "true")
	}
	setPageSize(r, opts.PageSize)
	return listAll[LogicalPort](ctx, c, r)
}

// GetLogicalPort returns one logical port.
func (c *Client) GetLogicalPort(ctx context.Context, id string) (*LogicalPort, error) {
	r, err := newRequest(http.MethodGet, logicalPortPath, id)
	if err != nil {
		return nil, err
	}
	return fetch[LogicalPort](ctx, c, r)
}

// CreateLogicalPort creates a logical port; NSX assigns the id. The request is not retried once
// it may have reached NSX (see retry.go).
func (c *Client) CreateLogicalPort(ctx context.Context, p LogicalPort) (*LogicalPort, error) {
	r, err := newRequest(http.MethodPost, logicalPortsPath)
	if err != nil {
		return nil, err
	}
	return send[LogicalPort](ctx, c, r, p)
}

// UpdateLogicalPort replaces logical port p.ID (PUT), e.g. to change its tags. p must carry the
// _revision last read; a stale one fails with ErrStaleRevision.
func (c *Client) UpdateLogicalPort(ctx context.Context, p LogicalPort) (*LogicalPort, error) {
	r, err := newRequest(http.MethodPut, logicalPortPath, p.ID)
	if err != nil {
		return nil, err
	}
	return send[LogicalPort](ctx, c, r, p)
}

// DeleteLogicalPort deletes a logical port; detach=true deletes it even if it is attached or
// referenced by a group.
func (c *Client) DeleteLogicalPort(ctx context.Context, id string, detach bool) error {
	r, err := newRequest(http.MethodDelete, logicalPortPath, id)
	if err != nil {
		return err
	}
	r.query.Set("detach", strconv.FormatBool(detach))
	return c.doJSON(ctx, r, nil)
}

func setIfNotEmpty(r *request, name, value string) {
	if value != "" {
		r.query.Set(name, value)
	}
}
