package nsxclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

const (
	rulesPath = "/firewall/sections/{id}/rules"
	rulePath  = "/firewall/sections/{id}/rules/{rule}"
)

// ListRules returns all rules of a section in evaluation order (paged GET).
func (c *Client) ListRules(ctx context.Context, sectionID string) ([]FirewallRule, error) {
	r, err := newRequest(http.MethodGet, rulesPath, sectionID)
	if err != nil {
		return nil, err
	}
	return listAll[FirewallRule](ctx, c, r)
}

// GetRule returns one rule of a section.
func (c *Client) GetRule(ctx context.Context, sectionID, ruleID string) (*FirewallRule, error) {
	r, err := newRequest(http.MethodGet, rulePath, sectionID, ruleID)
	if err != nil {
		return nil, err
	}
	return fetch[FirewallRule](ctx, c, r)
}

// CreateRule adds rule to a section at pos (for rules, Before/After take a rule id of the same
// section).
//
// Since NSX 2.4 the rule's _revision must equal the parent section's current _revision; set
// rule.Revision from a recent GetSection. If the section changed in between, CreateRule fails
// with ErrStaleRevision and nothing was created; the caller decides whether to re-read and try
// again. CreateRuleAtLatestRevision does exactly that.
func (c *Client) CreateRule(ctx context.Context, sectionID string, rule FirewallRule, pos Position) (*FirewallRule, error) {
	r, err := newRequest(http.MethodPost, rulesPath, sectionID)
	if err != nil {
		return nil, err
	}
	if err := pos.addTo(r.query); err != nil {
		return nil, err
	}
	return send[FirewallRule](ctx, c, r, rule)
}

// CreateRuleAtLatestRevision reads the section's current _revision, sets it on rule and creates
// the rule; if another writer changes the section in between (ErrStaleRevision), it reads the
// revision again and retries, at most Config.MaxStaleRevisionRetries times. A stale-revision
// rejection means NSX created nothing, so retrying cannot duplicate the rule.
//
// Use it when the caller does not care which revision it builds on, i.e. when the rule's content
// does not depend on the rest of the section.
func (c *Client) CreateRuleAtLatestRevision(ctx context.Context, sectionID string, rule FirewallRule, pos Position) (*FirewallRule, error) {
	var out *FirewallRule
	err := c.atLatestSectionRevision(ctx, sectionID, func(rev int64) error {
		rule.Revision = rev
		var err error
		out, err = c.CreateRule(ctx, sectionID, rule, pos)
		return err
	})
	return out, err
}

// CreateRules adds several rules (at most 1000) in one call (action=create_multiple), in the
// given order, at pos. As with CreateRule, each rule's _revision must equal the section's
// current _revision (CreateRulesAtLatestRevision sets it).
func (c *Client) CreateRules(ctx context.Context, sectionID string, rules []FirewallRule, pos Position) ([]FirewallRule, error) {
	r, err := newRequest(http.MethodPost, rulesPath, sectionID)
	if err != nil {
		return nil, err
	}
	r.withAction("create_multiple", false)
	if err := pos.addTo(r.query); err != nil {
		return nil, err
	}
	var out FirewallRuleList
	if err := c.sendJSON(ctx, r, FirewallRuleList{Rules: rules}, &out); err != nil {
		return nil, err
	}
	return out.Rules, nil
}

// CreateRulesAtLatestRevision is CreateRules with the read-revision-and-retry loop of
// CreateRuleAtLatestRevision. The caller's slice is not modified.
func (c *Client) CreateRulesAtLatestRevision(ctx context.Context, sectionID string, rules []FirewallRule, pos Position) ([]FirewallRule, error) {
	var out []FirewallRule
	err := c.atLatestSectionRevision(ctx, sectionID, func(rev int64) error {
		withRev := make([]FirewallRule, len(rules))
		for i, rule := range rules {
			rule.Revision = rev
			withRev[i] = rule
		}
		var err error
		out, err = c.CreateRules(ctx, sectionID, withRev, pos)
		return err
	})
	return out, err
}

// atLatestSectionRevision runs write with the section's current revision, re-reading it and
// running write again while write fails with ErrStaleRevision, up to MaxStaleRevisionRetries.
func (c *Client) atLatestSectionRevision(ctx context.Context, sectionID string, write func(rev int64) error) error {
	var err error
	for try := 0; try <= c.cfg.MaxStaleRevisionRetries; try++ {
		var s *FirewallSection
		s, err = c.GetSection(ctx, sectionID)
		if err != nil {
			return err
		}
		err = write(s.Revision)
		if !errors.Is(err, ErrStaleRevision) {
			return err
		}
		c.log.V(1).Info("Section changed while adding rules; re-reading its revision", "section", sectionID, "try", try+1)
	}
	return fmt.Errorf("nsx: section %s kept changing while adding rules; gave up after %d tries: %w",
		sectionID, c.cfg.MaxStaleRevisionRetries+1, err)
}

// UpdateRule replaces rule rule.ID in a section (PUT). rule must carry the _revision last read;
// a stale one fails with ErrStaleRevision.
func (c *Client) UpdateRule(ctx context.Context, sectionID string, rule FirewallRule) (*FirewallRule, error) {
	r, err := newRequest(http.MethodPut, rulePath, sectionID, rule.ID)
	if err != nil {
		return nil, err
	}
	return send[FirewallRule](ctx, c, r, rule)
}

// ReviseRule updates rule rule.ID and moves it to pos within its section (action=revise). The
// zero Position moves it to the top of the section.
func (c *Client) ReviseRule(ctx context.Context, sectionID string, rule FirewallRule, pos Position) (*FirewallRule, error) {
	r, err := newRequest(http.MethodPost, rulePath, sectionID, rule.ID)
	if err != nil {
		return nil, err
	}
	r.withAction("revise", true)
	if err := pos.addTo(r.query); err != nil {
		return nil, err
	}
	return send[FirewallRule](ctx, c, r, rule)
}

// DeleteRule deletes a rule from a section. A rule that no longer exists fails with ErrNotFound.
func (c *Client) DeleteRule(ctx context.Context, sectionID, ruleID string) error {
	r, err := newRequest(http.MethodDelete, rulePath, sectionID, ruleID)
	if err != nil {
		return err
	}
	return c.doJSON(ctx, r, nil)
}
