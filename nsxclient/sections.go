package nsxclient

import (
	"context"
	"net/http"
	"strconv"
	"strings"
)

const (
	sectionsPath = "/firewall/sections"
	sectionPath  = "/firewall/sections/{id}"
)

// ListSectionsOptions filters ListSections. The zero value lists all LAYER3 sections.
type ListSectionsOptions struct {
	// Type is SectionLayer3 (default) or SectionLayer2.
	Type string
	// AppliedTos, Sources, Destinations and Services keep only sections whose rules (or
	// applied-to) reference one of these object ids; useful to check references before a delete.
	AppliedTos   []string
	Sources      []string
	Destinations []string
	Services     []string
	// Locked, if set, keeps only locked (true) or unlocked (false) sections.
	Locked *bool
	// PageSize is the page size requested from NSX (0: NSX's default of 1000).
	PageSize int
}

// ListSections returns all firewall sections of the requested type in evaluation order (the
// order NSX evaluates them in). It does not pass sort_by, which could change that order.
func (c *Client) ListSections(ctx context.Context, opts ListSectionsOptions) ([]FirewallSection, error) {
	r, err := newRequest(http.MethodGet, sectionsPath)
	if err != nil {
		return nil, err
	}
	typ := opts.Type
	if typ == "" {
		typ = SectionLayer3
	}
	r.query.Set("type", typ)
	setIDs(r, "applied_tos", opts.AppliedTos)
	setIDs(r, "sources", opts.Sources)
	setIDs(r, "destinations", opts.Destinations)
	setIDs(r, "services", opts.Services)
	if opts.Locked != nil {
		r.query.Set("locked", strconv.FormatBool(*opts.Locked))
	}
	setPageSize(r, opts.PageSize)
	return listAll[FirewallSection](ctx, c, r)
}

// GetSection returns one firewall section (without its rules).
func (c *Client) GetSection(ctx context.Context, id string) (*FirewallSection, error) {
	r, err := newRequest(http.MethodGet, sectionPath, id)
	if err != nil {
		return nil, err
	}
	return fetch[FirewallSection](ctx, c, r)
}

// CreateSection creates an empty section at pos. NSX assigns the id; the request is not retried
// once it may have reached NSX (see retry.go).
func (c *Client) CreateSection(ctx context.Context, s FirewallSection, pos Position) (*FirewallSection, error) {
	r, err := newRequest(http.MethodPost, sectionsPath)
	if err != nil {
		return nil, err
	}
	if err := pos.addTo(r.query); err != nil {
		return nil, err
	}
	return send[FirewallSection](ctx, c, r, s)
}

// CreateSectionWithRules creates a section and its rules (at most 1000) in one call
// (action=create_with_rules). NSX documents this call as expensive (4-5 per minute); creating an
// empty section and then adding rules is the cheaper alternative.
func (c *Client) CreateSectionWithRules(ctx context.Context, s FirewallSectionRuleList, pos Position) (*FirewallSectionRuleList, error) {
	r, err := newRequest(http.MethodPost, sectionsPath)
	if err != nil {
		return nil, err
	}
	r.withAction("create_with_rules", false)
	if err := pos.addTo(r.query); err != nil {
		return nil, err
	}
	return send[FirewallSectionRuleList](ctx, c, r, s)
}

// UpdateSection replaces the attributes of section s.ID (PUT); its rules are untouched. s must
// carry the _revision last read: a stale one fails with ErrStaleRevision.
func (c *Client) UpdateSection(ctx context.Context, s FirewallSection) (*FirewallSection, error) {
	r, err := newRequest(http.MethodPut, sectionPath, s.ID)
	if err != nil {
		return nil, err
	}
	return send[FirewallSection](ctx, c, r, s)
}

// ReviseSection updates section s.ID and moves it to pos (action=revise). The zero Position
// moves it to the top. A stale _revision fails with ErrStaleRevision.
func (c *Client) ReviseSection(ctx context.Context, s FirewallSection, pos Position) (*FirewallSection, error) {
	r, err := newRequest(http.MethodPost, sectionPath, s.ID)
	if err != nil {
		return nil, err
	}
	r.withAction("revise", true)
	if err := pos.addTo(r.query); err != nil {
		return nil, err
	}
	return send[FirewallSection](ctx, c, r, s)
}

// UpdateSectionWithRules replaces the section's attributes and its whole rule set
// (action=update_with_rules): existing rules keep their id and _revision, rules without an id
// are created, and rules left out are deleted. NSX documents this call as expensive (about 2 per
// minute, ~15s for 1000 rules); prefer per-rule calls for small changes.
func (c *Client) UpdateSectionWithRules(ctx context.Context, s FirewallSectionRuleList) (*FirewallSectionRuleList, error) {
	r, err := newRequest(http.MethodPost, sectionPath, s.ID)
	if err != nil {
		return nil, err
	}
	r.withAction("update_with_rules", true)
	return send[FirewallSectionRuleList](ctx, c, r, s)
}

// ReviseSectionWithRules is UpdateSectionWithRules plus a move to pos (action=revise_with_rules).
// The zero Position moves the section to the top.
func (c *Client) ReviseSectionWithRules(ctx context.Context, s FirewallSectionRuleList, pos Position) (*FirewallSectionRuleList, error) {
	r, err := newRequest(http.MethodPost, sectionPath, s.ID)
	if err != nil {
		return nil, err
	}
	r.withAction("revise_with_rules", true)
	if err := pos.addTo(r.query); err != nil {
		return nil, err
	}
	return send[FirewallSectionRuleList](ctx, c, r, s)
}

// ListSectionWithRules reads a section and all its rules in one call (POST
// action=list_with_rules). NSX rate-limits this call upstream (documented as 4-5 per minute, ~5s
// for 1000 rules): for periodic reads use GetSection plus ListRules, which pages cheaply.
func (c *Client) ListSectionWithRules(ctx context.Context, id string) (*FirewallSectionRuleList, error) {
	r, err := newRequest(http.MethodPost, sectionPath, id)
	if err != nil {
		return nil, err
	}
	r.withAction("list_with_rules", true) // a read: safe to resend
	return fetch[FirewallSectionRuleList](ctx, c, r)
}

// DeleteSection deletes a section. A section that still has rules is only deleted with
// cascade=true. Deleting a section that no longer exists fails with ErrNotFound, which callers
// removing an object usually treat as success.
func (c *Client) DeleteSection(ctx context.Context, id string, cascade bool) error {
	r, err := newRequest(http.MethodDelete, sectionPath, id)
	if err != nil {
		return err
	}
	r.query.Set("cascade", strconv.FormatBool(cascade))
	return c.doJSON(ctx, r, nil)
}

// sendJSON encodes body as the request body, performs r and decodes the response into out.
func (c *Client) sendJSON(ctx context.Context, r *request, body, out any) error {
	if err := r.withJSON(body); err != nil {
		return err
	}
	return c.doJSON(ctx, r, out)
}

// setIDs sets a comma-separated id filter, if any ids are given.
func setIDs(r *request, name string, ids []string) {
	if len(ids) > 0 {
		r.query.Set(name, strings.Join(ids, ","))
	}
}

func setPageSize(r *request, n int) {
	if n > 0 {
		r.query.Set("page_size", strconv.Itoa(n))
	}
}
