package nsxsim

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/microseg/microseg/nsxclient"
)

// Errors of the Policy API. The HTTP statuses and the in-use and pending-delete codes follow
// what NSX answers (docs/nsx-policy-api.md, "Errors"); where NSX's code is not known, the
// choice is the simulator's and documented in doc.go.

const modulePolicy = "Policy"

func errPolicyNotFound(path string) *apiError {
	return newAPIError(http.StatusNotFound, nsxclient.ErrCodeNotFound, modulePolicy,
		"The path=[%s] is invalid or the object does not exist.", path)
}

// errPolicyStale is the answer to a write whose _revision is not the object's current one: 412,
// without an error_code (NSX's body code for it is not known, so clients must classify on the
// status).
func errPolicyStale(path string, got *int64, want int64) *apiError {
	return newAPIError(http.StatusPreconditionFailed, 0, modulePolicy,
		"The object path=[%s] was modified by somebody else (revision %s, current %d). Read it again and re-apply the change.",
		path, revisionText(got), want)
}

func errPendingDelete(path string) *apiError {
	return newAPIError(http.StatusBadRequest, nsxclient.ErrCodePendingDelete, modulePolicy,
		"The object path=[%s] is marked for deletion and cannot be created again until its deletion is realized.", path)
}

func errPolicyInUse(path string, by []string) *apiError {
	return newAPIError(http.StatusBadRequest, nsxclient.ErrCodeResourceInUse, modulePolicy,
		"The object path=[%s] cannot be deleted as either it has children or it is being referenced by other objects: %s.",
		path, joinFew(by))
}

// errPolicyInvalid is a validation failure: 400 with the field-validation code, the message
// naming the object and the problem.
func errPolicyInvalid(path, format string, args ...any) *apiError {
	return newAPIError(http.StatusBadRequest, nsxclient.ErrCodeFieldValidation, modulePolicy,
		"%s{%s: %s}", fieldValidationIntro, path, fmt.Sprintf(format, args...))
}

// errPolicyInvalidAll reports every problem of one object at once, as NSX does.
func errPolicyInvalidAll(path string, problems []string) *apiError {
	if len(problems) == 0 {
		return nil
	}
	return errPolicyInvalid(path, "%s", strings.Join(problems, "; "))
}

func errNotOwner(user, kind, path, owner string) *apiError {
	return newAPIError(http.StatusBadRequest, nsxclient.ErrCodeNotOwner, modulePolicy,
		"Principal '%s' attempts to delete or modify an object of type %s it doesn't own (path=[%s], owner %s). Send X-Allow-Overwrite: true as an administrator to override.",
		user, kind, path, owner)
}
