package nsxclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// API base paths under Config.Host. One manager serves both APIs over one HTTP service (same
// authentication, sessions and rate limits), so one Client talks to both; each request names its
// base.
const (
	apiPrefix    = "/api/v1"        // the Manager API
	policyPrefix = "/policy/api/v1" // the Policy API
)

// request is one logical API call; do turns it into one or more HTTP attempts.
type request struct {
	method string
	// base is the API base path the template and path are relative to: apiPrefix, policyPrefix,
	// or "" for the session endpoints, which are given relative to the host.
	base string
	// template is the path relative to base with placeholders, e.g. "/firewall/sections/{id}".
	// It names the endpoint in metrics and errors without the unbounded cardinality of ids.
	template string
	// path is template with the placeholders replaced by escaped ids.
	path   string
	action string
	query  url.Values
	body   []byte
	// contentType of body; JSON unless set.
	contentType string
	// waitedUntil is when this request's last retry wait ended: a Retry-After pause that ends no
	// later was already honoured by that wait and is not waited for twice.
	waitedUntil time.Time

	// replaySafe marks requests that may be sent again even though NSX may already have applied
	// them, because applying them twice has the same effect as once or fails harmlessly:
	//   - GET, PUT and DELETE, and POST actions that read (list_with_rules);
	//   - POST actions that set state rather than add to it: update_with_rules, revise,
	//     revise_with_rules, ADD_MEMBERS/REMOVE_MEMBERS, add_ip/remove_ip. Revision-checked
	//     ones (PUT, revise, update_with_rules) come back with ErrStaleRevision if the first copy
	//     was applied, which the caller already handles by re-reading.
	// Creates (POST to a collection, create_with_rules, create_multiple) are not replay-safe:
	// NSX assigns the id, so a replay would create a duplicate.
	replaySafe bool
	// noRetry limits the call to a single attempt (besides a session re-login); for health
	// checks, which must answer quickly rather than eventually.
	noRetry bool
	// noAuth skips the authenticator (session create and destroy authenticate themselves).
	noAuth bool
	// session, if set, is sent instead of asking the authenticator (logout).
	session *session
	// conflictMeansInUse: see APIError.
	conflictMeansInUse bool
	// redact lists strings (the password at login) to scrub from error messages.
	redact []string
}

// newRequest builds a request for template, substituting args for its {placeholders} in order.
// An empty id is refused: "PUT /ns-groups/" or "POST /firewall/sections/" would hit a different
// endpoint (the latter creates a section) instead of failing.
func newRequest(method, template string, args ...string) (*request, error) {
	return newRequestAt(apiPrefix, method, template, args...)
}

// newPolicyRequest is newRequest for the Policy API (/policy/api/v1).
func newPolicyRequest(method, template string, args ...string) (*request, error) {
	return newRequestAt(policyPrefix, method, template, args...)
}

func newRequestAt(base, method, template string, args ...string) (*request, error) {
	r := &request{base: base, method: method, template: template, query: url.Values{}}
	var b strings.Builder
	rest := template
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			b.WriteString(rest)
			break
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("nsxclient: bad path template %q", template)
		}
		name := rest[open : open+end+1]
		if len(args) == 0 {
			return nil, fmt.Errorf("nsxclient: %s %s: missing value for %s", method, template, name)
		}
		if strings.TrimSpace(args[0]) == "" {
			return nil, fmt.Errorf("nsxclient: %s %s: %s is empty: pass the id NSX returned when the object was created", method, template, name)
		}
		b.WriteString(rest[:open])
		b.WriteString(url.PathEscape(args[0]))
		args = args[1:]
		rest = rest[open+end+1:]
	}
	if len(args) != 0 {
		return nil, fmt.Errorf("nsxclient: %s %s: too many path values", method, template)
	}
	r.path = b.String()
	// PATCH (Policy API) creates or updates an object at a path the client chose, so sending it
	// twice has the effect of once, like PUT.
	r.replaySafe = method == http.MethodGet || method == http.MethodPut || method == http.MethodDelete || method == http.MethodPatch
	return r, nil
}

// withAction sets ?action=; it is part of the endpoint name because actions are different
// operations on the same path.
func (r *request) withAction(action string, replaySafe bool) {
	r.action = action
	r.query.Set("action", action)
	r.replaySafe = replaySafe
}

// withJSON sets the JSON body.
func (r *request) withJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("nsxclient: %s: encoding the request body: %w", r.endpoint(), err)
	}
	r.body = b
	return nil
}

// endpoint is the low-cardinality name of the call, e.g.
// "POST /firewall/sections/{id}?action=update_with_rules". Manager API endpoints are named
// relative to /api/v1 (as they always were); Policy API ones in full, from /policy/api/v1, so
// that the two never collide in metrics.
func (r *request) endpoint() string {
	e := r.method + " " + r.shown(r.template)
	if r.action != "" {
		e += "?action=" + r.action
	}
	return e
}

// shown returns p (the template or the path) as errors and metrics show it: relative to /api/v1
// for the Manager API, from the host for everything else.
func (r *request) shown(p string) string {
	if r.base == apiPrefix {
		return p
	}
	return r.base + p
}

// shownPath is the concrete path for messages (see shown).
func (r *request) shownPath() string { return r.shown(r.path) }

// url returns the absolute URL for r.
func (c *Client) url(r *request) string {
	u := c.baseURL.String() + r.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	return u
}

func bodyReader(b []byte) io.Reader {
	if b == nil {
		return nil
	}
	return bytes.NewReader(b)
}

// unwrapURLError drops *url.Error's "Post \"https://...\":" prefix: TransportError already names
// the method and path.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
