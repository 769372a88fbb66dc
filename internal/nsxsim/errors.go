package nsxsim

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/microseg/microseg/nsxclient"
)

// apiError is an NSX ApiError together with the HTTP status it is sent with.
type apiError struct {
	status int
	body   nsxclient.APIErrorBody
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s (error_code %d)", e.status, e.body.ErrorMessage, e.body.ErrorCode)
}

// httpStatusName renders a status the way NSX's httpStatus field does: "BAD_REQUEST", "NOT_FOUND",
// "PRECONDITION_FAILED" (Spring's HttpStatus enum names, as seen in nsx-operator's test fixtures).
func httpStatusName(status int) string {
	return strings.ToUpper(strings.NewReplacer(" ", "_", "-", "_").Replace(http.StatusText(status)))
}

func newAPIError(status int, code int64, module, format string, args ...any) *apiError {
	return &apiError{status: status, body: nsxclient.APIErrorBody{
		HTTPStatus:   httpStatusName(status),
		ErrorCode:    code,
		ErrorMessage: fmt.Sprintf(format, args...),
		ModuleName:   module,
	}}
}

const (
	moduleCommon   = "common-services"
	moduleFirewall = "NSX Firewall"
	moduleGrouping = "NsxGroupingObjects"
	moduleSwitch   = "switching"
	moduleAuth     = "common-services"
)

// Error codes the simulator emits besides the ones nsxclient already names.
const (
	// errCodeBadRequestURI is NSX's "cannot be processed" code for an unsupported method, path or action
	// (code 269; the HTTP status that goes with it is UNCONFIRMED, we use 400/404).
	errCodeBadRequestURI = 269
	// errCodeDefaultRulePosition is what a real manager returned for a default rule that was not
	// last in update_with_rules (terraform-provider-nsxt issue 153).
	errCodeDefaultRulePosition = 100077
)

func errNotFound(id string) *apiError {
	return newAPIError(http.StatusNotFound, nsxclient.ErrCodeNotFound, moduleCommon,
		"The requested object : %s could not be found. Object identifiers are case sensitive.", id)
}

func errBadRequest(code int64, module, format string, args ...any) *apiError {
	return newAPIError(http.StatusBadRequest, code, module, format, args...)
}

func errUnprocessable(method, path string) *apiError {
	return newAPIError(http.StatusBadRequest, errCodeBadRequestURI, moduleCommon,
		"The requested with given URI, HTTP method and set of parameters cannot be processed. (%s %s)", method, path)
}

// errStaleFirewall is the 409 NSX returns for a stale or missing _revision on firewall sections and
// rules (the vendor spec's firewall operations). The body's error_code is UNCONFIRMED, so none is sent: clients must
// classify on the HTTP status.
func errStaleFirewall(kind, id string, got *int64, want int64) *apiError {
	return newAPIError(http.StatusConflict, 0, moduleFirewall,
		"The object %s/%s was modified by somebody else (revision %s, current %d). Retrieve it again and re-apply.",
		kind, id, revisionText(got), want)
}

// errStalePrecondition is the 412 for a stale or missing _revision on every other PUT (vendor spec; nsxlib).
func errStalePrecondition(kind, id string, got *int64, want int64) *apiError {
	return newAPIError(http.StatusPreconditionFailed, 0, moduleCommon,
		"The object %s/%s was modified by somebody else (revision %s, current %d).",
		kind, id, revisionText(got), want)
}

func revisionText(rev *int64) string {
	if rev == nil {
		return "missing"
	}
	return fmt.Sprint(*rev)
}

func errInUse(kind, id, by string) *apiError {
	return newAPIError(http.StatusBadRequest, nsxclient.ErrCodeResourceInUse, moduleCommon,
		"The object %s/%s cannot be deleted as either it has children or it is being referenced by other objects (%s).",
		kind, id, by)
}

func errBadCredentials() *apiError {
	return newAPIError(http.StatusForbidden, nsxclient.ErrCodeBadCredentials, moduleAuth,
		"The credentials were incorrect or the account specified has been locked.")
}

func errBadXSRF() *apiError {
	return newAPIError(http.StatusForbidden, nsxclient.ErrCodeBadXSRF, moduleAuth,
		"The XSRF token is missing, invalid or its session has expired.")
}
