package nsxclient

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Sentinel errors matched by errors.Is against an *APIError. They classify NSX's many status and
// error_code combinations so that callers never compare codes themselves.
var (
	// ErrStaleRevision: the object changed since the caller read it (409, 412, and the
	// stale-revision error codes). Read it again, reapply the change and retry.
	ErrStaleRevision = errors.New("nsx: stale _revision")
	// ErrNotFound: the object does not exist (404, except the stale-revision code 500090).
	ErrNotFound = errors.New("nsx: object not found")
	// ErrInUse: the object cannot be deleted because something still references it.
	ErrInUse = errors.New("nsx: object in use")
	// ErrUnauthorized: NSX rejected the credentials or the session (401, or 403 with error_code
	// 403 or 98). A rejected client certificate fails the TLS handshake instead: a
	// *TransportError.
	ErrUnauthorized = errors.New("nsx: unauthorized")
	// ErrPendingDelete: an object at this Policy path was deleted and NSX has not finished
	// removing it (400 with error_code 500045), so it cannot be created again yet. The client
	// retries this itself with backoff; the error reaches the caller only when the retries ran
	// out.
	ErrPendingDelete = errors.New("nsx: object at this path is still being deleted")
	// ErrValidation: NSX refused the request body or parameters as invalid (400 that is none of
	// the above and not an ownership refusal). Sending it again cannot help; the message names
	// the field.
	ErrValidation = errors.New("nsx: invalid request")
)

// Error codes that NSX and NSX clients treat as stale revisions besides plain 409 and 412.
var (
	staleRevisionCodes400 = []int64{500087, 500232, 100148}
	staleRevisionCode404  = int64(500090)
)

// Further NSX error codes the client explains.
const (
	errCodeInvalidLicense  = 505
	errCodeCertNotTrusted  = 99
	errCodeNotOwnerVariant = 8327
)

// IsStaleRevision reports whether err means the object changed since it was read.
func IsStaleRevision(err error) bool { return errors.Is(err, ErrStaleRevision) }

// IsNotFound reports whether err means the object does not exist.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsInUse reports whether err means the object is still referenced and cannot be deleted.
func IsInUse(err error) bool { return errors.Is(err, ErrInUse) }

// IsUnauthorized reports whether NSX rejected the client's credentials or session.
func IsUnauthorized(err error) bool { return errors.Is(err, ErrUnauthorized) }

// IsPendingDelete reports whether err means a Policy object at the path is still being deleted.
func IsPendingDelete(err error) bool { return errors.Is(err, ErrPendingDelete) }

// IsValidation reports whether NSX refused the request as invalid.
func IsValidation(err error) bool { return errors.Is(err, ErrValidation) }

// APIError is an HTTP error response from NSX.
type APIError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Method is the HTTP method.
	Method string
	// Endpoint is the low-cardinality endpoint template, e.g.
	// "POST /firewall/sections/{id}?action=update_with_rules".
	Endpoint string
	// Path is the concrete request path (with ids), for humans: relative to /api/v1 for the
	// Manager API, in full ("/policy/api/v1/infra/...") for the Policy API.
	Path string
	// ErrorCode, Message, ModuleName, Details and RelatedErrors come from NSX's error body.
	ErrorCode     int64
	Message       string
	ModuleName    string
	Details       string
	RelatedErrors []RelatedAPIError
	// Attempts is how many HTTP attempts the call made before giving up.
	Attempts int

	// conflictMeansInUse is set for deletes of objects that carry no revision (NSGroups,
	// IPSets), where a 409 can only mean "still referenced", never "stale".
	conflictMeansInUse bool
}

// Error describes the failure and, where NSX's answer allows it, what to do about it.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "nsx: %s %s: HTTP %d", e.Method, e.Path, e.StatusCode)
	if e.ErrorCode != 0 {
		fmt.Fprintf(&b, " error_code %d", e.ErrorCode)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	for _, r := range e.RelatedErrors {
		if r.ErrorMessage != "" || r.ErrorCode != 0 {
			fmt.Fprintf(&b, "; related error_code %d: %s", r.ErrorCode, r.ErrorMessage)
		}
	}
	if h := e.hint(); h != "" {
		b.WriteString(" (")
		b.WriteString(h)
		b.WriteString(")")
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " [after %d attempts]", e.Attempts)
	}
	return b.String()
}

// Is lets errors.Is match the package's sentinel errors.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrStaleRevision:
		return e.isStaleRevision()
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound && !e.isStaleRevision()
	case ErrInUse:
		return e.isInUse()
	case ErrUnauthorized:
		return e.isUnauthorized()
	case ErrPendingDelete:
		return e.isPendingDelete()
	case ErrValidation:
		return e.isValidation()
	}
	return false
}

func (e *APIError) isPendingDelete() bool {
	return e.StatusCode == http.StatusBadRequest && e.hasCode(ErrCodePendingDelete)
}

// isValidation is a 400 that no other classification claims: NSX reports malformed bodies,
// unknown enum values, broken references and limit violations this way, with varying codes.
func (e *APIError) isValidation() bool {
	return e.StatusCode == http.StatusBadRequest && !e.isStaleRevision() && !e.isInUse() &&
		!e.isPendingDelete() && !e.hasCode(ErrCodeNotOwner, errCodeNotOwnerVariant)
}

// hasCode reports whether the error or one of its related errors carries one of codes; NSX often
// puts the meaningful code only in related_errors.
func (e *APIError) hasCode(codes ...int64) bool {
	if slices.Contains(codes, e.ErrorCode) {
		return true
	}
	for _, r := range e.RelatedErrors {
		if slices.Contains(codes, r.ErrorCode) {
			return true
		}
	}
	return false
}

func (e *APIError) isStaleRevision() bool {
	switch e.StatusCode {
	case http.StatusConflict:
		return !e.conflictMeansInUse
	case http.StatusPreconditionFailed:
		return true
	case http.StatusBadRequest:
		return e.hasCode(staleRevisionCodes400...)
	case http.StatusNotFound:
		return e.hasCode(staleRevisionCode404)
	}
	return false
}

func (e *APIError) isInUse() bool {
	if e.StatusCode == http.StatusConflict && e.conflictMeansInUse {
		return true
	}
	return e.StatusCode == http.StatusBadRequest && e.hasCode(ErrCodeResourceInUse)
}

func (e *APIError) isUnauthorized() bool {
	switch e.StatusCode {
	case http.StatusUnauthorized:
		return true
	case http.StatusForbidden:
		return e.ErrorCode == ErrCodeBadCredentials || e.ErrorCode == ErrCodeBadXSRF
	}
	return false
}

// isSessionRejected reports whether a session-authenticated request failed because the session
// expired or its XSRF token is no longer valid, so that logging in again may help.
func (e *APIError) isSessionRejected() bool {
	return e.StatusCode == http.StatusUnauthorized ||
		(e.StatusCode == http.StatusForbidden && e.ErrorCode == ErrCodeBadXSRF)
}

// hint tells the user what to do about the error, when the status says enough to know.
func (e *APIError) hint() string {
	switch {
	case e.isStaleRevision():
		return "the object was changed since it was read (stale _revision): read it again, reapply the change and retry"
	case e.isInUse():
		return e.inUseHint()
	case e.isPendingDelete():
		return "NSX is still deleting an object at this path (deletion completes once it is removed from the hosts): wait and retry, or use another id"
	case e.StatusCode == http.StatusNotFound:
		return "the object does not exist; it may have been deleted"
	case e.StatusCode == http.StatusUnauthorized:
		return "NSX rejected the credentials or the session: check the NSX credentials"
	case e.StatusCode == http.StatusForbidden && e.ErrorCode == ErrCodeBadCredentials:
		return "the credentials are wrong or the account is locked: check the NSX credentials"
	case e.StatusCode == http.StatusForbidden && e.ErrorCode == ErrCodeBadXSRF:
		return "NSX rejected the session even after logging in again: check the NSX credentials, or use Basic auth"
	case e.StatusCode == http.StatusForbidden && e.ErrorCode == errCodeInvalidLicense:
		return "the NSX licence is invalid or does not cover this feature"
	case e.StatusCode == http.StatusForbidden:
		return "the NSX user lacks permission for this operation: give it a role that may manage firewall objects"
	case e.StatusCode == http.StatusBadRequest && e.hasCode(ErrCodeNotOwner, errCodeNotOwnerVariant):
		return "the object is owned by another principal identity (for example NCP): it can only be changed with Config.AllowOverwrite"
	case e.StatusCode == http.StatusBadRequest && e.hasCode(ErrCodeFieldValidation):
		return "NSX rejected a field of the request body: see the message for which one"
	case e.isValidation() && strings.HasPrefix(e.Endpoint, e.Method+" "+policyPrefix):
		return "NSX rejected the request as invalid: see the message for the field or path it names"
	case e.StatusCode == http.StatusLocked:
		return "the firewall section is locked: unlock it in NSX first"
	case e.StatusCode == http.StatusTooManyRequests:
		return "NSX is rate-limiting this client: lower Config.RateLimit or raise client_api_rate_limit on the manager"
	case e.StatusCode == http.StatusServiceUnavailable:
		return "NSX is overloaded or unavailable: retry later"
	case e.StatusCode == http.StatusInternalServerError && e.ErrorCode == ErrCodeReconfiguring:
		return "the NSX Manager cluster is reconfiguring: retry later"
	case e.StatusCode == http.StatusInternalServerError && e.ErrorCode == errCodeCertNotTrusted:
		return "NSX does not trust the client certificate: register it as a principal identity"
	case e.StatusCode >= 300 && e.StatusCode < 400:
		return "NSX answered with a redirect the client does not follow: set Config.Host to the manager address it points to"
	case e.StatusCode >= 500:
		return "NSX Manager failed internally: check the manager's logs"
	}
	return ""
}

// parseAPIError builds an *APIError from a non-2xx response. NSX normally sends an ApiError JSON
// body; anything else (a proxy's HTML page) is kept, shortened, as the message.
func parseAPIError(r *request, status int, header http.Header, body []byte) *APIError {
	e := &APIError{
		StatusCode:         status,
		Method:             r.method,
		Endpoint:           r.endpoint(),
		Path:               r.shownPath(),
		conflictMeansInUse: r.conflictMeansInUse,
	}
	var eb APIErrorBody
	if err := jsonUnmarshal(body, &eb); err == nil && (eb.ErrorCode != 0 || eb.ErrorMessage != "") {
		e.ErrorCode = eb.ErrorCode
		e.Message = eb.ErrorMessage
		e.ModuleName = eb.ModuleName
		e.Details = eb.Details
		e.RelatedErrors = eb.RelatedErrors
	} else {
		e.Message = shorten(strings.TrimSpace(string(body)), 300)
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	if loc := header.Get("Location"); loc != "" && status >= 300 && status < 400 {
		e.Message += " (Location: " + loc + ")"
	}
	for _, s := range r.redact {
		e.Message = redactAll(e.Message, s)
		e.Details = redactAll(e.Details, s)
		for i := range e.RelatedErrors {
			e.RelatedErrors[i].ErrorMessage = redactAll(e.RelatedErrors[i].ErrorMessage, s)
			e.RelatedErrors[i].Details = redactAll(e.RelatedErrors[i].Details, s)
		}
	}
	return e
}

func redactAll(text, s string) string {
	if s == "" {
		return text
	}
	return strings.ReplaceAll(text, s, redacted)
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// TransportError means the call got no HTTP response: the connection could not be made, dropped,
// or timed out.
type TransportError struct {
	Method   string
	Endpoint string
	Path     string
	// Attempts is how many HTTP attempts the call made before giving up.
	Attempts int
	// MayHaveBeenApplied is true when the last attempt's request was fully sent before the
	// connection failed and the request is not safe to send twice (a create): NSX may have
	// applied it, so the client did not retry.
	MayHaveBeenApplied bool
	// Err is the underlying network, TLS or timeout error.
	Err error
}

// Error describes the failure and what to do about it.
func (e *TransportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "nsx: %s %s: no response from NSX: %v", e.Method, e.Path, e.Err)
	if h := e.hint(); h != "" {
		b.WriteString(" (")
		b.WriteString(h)
		b.WriteString(")")
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " [after %d attempts]", e.Attempts)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *TransportError) Unwrap() error { return e.Err }

func (e *TransportError) hint() string {
	if e.MayHaveBeenApplied {
		return "the connection failed after the request was sent, so NSX may have applied it; it was not retried to avoid a duplicate: list the objects before creating them again"
	}
	switch tlsProblem(e.Err) {
	case tlsUnknownAuthority:
		return "the NSX server certificate is not trusted: set Config.CACertPEM to the CA bundle that signed it (InsecureSkipVerify only for labs)"
	case tlsHostnameMismatch:
		return "the NSX server certificate does not match the host in Config.Host: use the name or address the certificate was issued for"
	case tlsOtherVerification:
		return "the NSX server certificate failed verification: check that it is valid and that Config.CACertPEM is its CA"
	case tlsRejectedByServer:
		return "NSX rejected the TLS handshake: with client-certificate auth, check that the certificate is registered as a principal identity"
	}
	if isDNSNotFound(e.Err) {
		return "the NSX host name does not resolve: check Config.Host"
	}
	if isConnRefused(e.Err) {
		return "nothing accepts connections at Config.Host: check the address and that NSX Manager is running"
	}
	return "check that NSX Manager is reachable from this pod"
}

// errAttemptTimeout replaces context.DeadlineExceeded for a single attempt that ran out of
// Config.Timeout, so that callers do not mistake it for their own context's deadline.
type errAttemptTimeout struct{ timeout string }

func (e errAttemptTimeout) Error() string {
	return "no response within " + e.timeout + " (Config.Timeout)"
}

// inUseHint names the override that the refused delete takes: sections with rules need cascade,
// attached ports need detach, groups and IP sets need force.
func (e *APIError) inUseHint() string {
	switch {
	case strings.HasPrefix(e.Endpoint, e.Method+" "+policyPrefix):
		return "the object is still referenced (by a rule, a policy scope or another group's path expression) or still has children: remove those first; the Policy API has no force delete"
	case strings.Contains(e.Endpoint, "/firewall/sections/"):
		return "the section still has rules: delete them first, or delete the section with cascade"
	case strings.Contains(e.Endpoint, "/logical-ports/"):
		return "the logical port is attached or referenced: detach it first, or delete with detach"
	default:
		return "the object is still referenced by a group, rule or section: remove the references first, or delete with force"
	}
}
