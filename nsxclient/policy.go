package nsxclient

import (
	"context"
	"net/http"
	"net/url"
)

// PolicyClient is the view of a Client that speaks the NSX Policy API (/policy/api/v1). It shares
// everything with its Client: the connection, the session, the credentials, the rate limiter, the
// retry policy, the Observer and the typed errors. Get one with Client.Policy; it is as cheap as
// a pointer copy and as safe for concurrent use as the Client.
//
// Policy objects are addressed by path, and the caller chooses their ids: PATCH creates or
// updates (so it is safe to resend), PUT replaces and must carry the current _revision, DELETE
// removes (NSX finishes the removal asynchronously; until then the path cannot be reused and
// writes to it fail with ErrPendingDelete, which the client retries with backoff).
type PolicyClient struct {
	c *Client
}

// Policy returns the Policy API view of c.
func (c *Client) Policy() *PolicyClient { return &PolicyClient{c: c} }

// Path templates, relative to /policy/api/v1.
const (
	pInfra            = "/infra"
	pDomains          = "/infra/domains"
	pDomain           = pDomains + "/{domain}"
	pGroups           = pDomain + "/groups"
	pGroup            = pGroups + "/{group}"
	pGroupPortMembers = pGroup + "/members/segment-ports"
	pGroupIPMembers   = pGroup + "/members/ip-addresses"
	pPolicies         = pDomain + "/security-policies"
	pPolicy           = pPolicies + "/{policy}"
	pRules            = pPolicy + "/rules"
	pRule             = pRules + "/{rule}"
	pSegments         = "/infra/segments"
	pSegment          = pSegments + "/{segment}"
	pSegmentPorts     = pSegment + "/ports"
	pSegmentPort      = pSegmentPorts + "/{port}"
	pRealizedEntities = "/infra/realized-state/realized-entities"
	pRealizedStatus   = "/infra/realized-state/status"
)

// Policy paths of objects, as rules, scopes and path expressions reference them.
func DomainPath(domain string) string { return "/infra/domains/" + url.PathEscape(domain) }

// GroupPath is the path of a group.
func GroupPath(domain, id string) string { return DomainPath(domain) + "/groups/" + url.PathEscape(id) }

// SecurityPolicyPath is the path of a security policy.
func SecurityPolicyPath(domain, id string) string {
	return DomainPath(domain) + "/security-policies/" + url.PathEscape(id)
}

// RulePath is the path of a rule of a security policy.
func RulePath(domain, policy, id string) string {
	return SecurityPolicyPath(domain, policy) + "/rules/" + url.PathEscape(id)
}

// SegmentPath is the path of a segment.
func SegmentPath(id string) string { return "/infra/segments/" + url.PathEscape(id) }

// SegmentPortPath is the path of a port of a segment.
func SegmentPortPath(segment, id string) string {
	return SegmentPath(segment) + "/ports/" + url.PathEscape(id)
}

// Ping checks that the Policy API answers and accepts the credentials, by listing at most one
// domain. Like Client.Ping it makes a single attempt and does not retry.
func (p *PolicyClient) Ping(ctx context.Context) error {
	r, err := newPolicyRequest(http.MethodGet, pDomains)
	if err != nil {
		return err
	}
	r.query.Set("page_size", "1")
	r.noRetry = true
	return p.c.doJSON(ctx, r, nil)
}

// policyGet reads one object.
func policyGet[T any](ctx context.Context, p *PolicyClient, template string, args ...string) (*T, error) {
	r, err := newPolicyRequest(http.MethodGet, template, args...)
	if err != nil {
		return nil, err
	}
	return fetch[T](ctx, p.c, r)
}

// policyList reads every page of a list.
func policyList[T any](ctx context.Context, p *PolicyClient, opts PolicyListOptions, extra url.Values, template string, args ...string) ([]T, error) {
	r, err := newPolicyRequest(http.MethodGet, template, args...)
	if err != nil {
		return nil, err
	}
	opts.addTo(r)
	for k, vs := range extra {
		r.query[k] = vs
	}
	return listAll[T](ctx, p.c, r)
}

// policyPatch sends a PATCH; NSX answers 200 or 204 without a body.
func (p *PolicyClient) policyPatch(ctx context.Context, body any, template string, args ...string) error {
	r, err := newPolicyRequest(http.MethodPatch, template, args...)
	if err != nil {
		return err
	}
	if err := r.withJSON(body); err != nil {
		return err
	}
	return p.c.doJSON(ctx, r, nil)
}

// policyPut sends a PUT and decodes the stored object NSX answers with.
func policyPut[T any](ctx context.Context, p *PolicyClient, body any, template string, args ...string) (*T, error) {
	r, err := newPolicyRequest(http.MethodPut, template, args...)
	if err != nil {
		return nil, err
	}
	return send[T](ctx, p.c, r, body)
}

// policyDelete sends a DELETE.
func (p *PolicyClient) policyDelete(ctx context.Context, template string, args ...string) error {
	r, err := newPolicyRequest(http.MethodDelete, template, args...)
	if err != nil {
		return err
	}
	return p.c.doJSON(ctx, r, nil)
}
