package controllers

import (
	"errors"
	"net/http"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/budget"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/nsxclient"
)

// The reasons live with the API types so that clients can match on them.
const (
	ReasonInvalidSpec          = securityv1alpha1.ReasonInvalidSpec
	ReasonInvalidConfiguration = securityv1alpha1.ReasonInvalidConfiguration
)

// failureReason classifies what stopped a sync into a Programmed reason:
//   - InvalidConfiguration for the operator's own configuration;
//   - BudgetExceeded for a compiled DFW over microseg's NSX budget (never applied);
//   - NSXRejected when NSX refused a request as invalid (a 4xx other than authentication, rate
//     limiting and timeouts), which retrying the same request will not fix;
//   - NSXUnavailable for everything that may pass on retry: no connection, TLS, 5xx, 429, expired
//     or wrong credentials (a rotated Secret is picked up on the next attempt), and conflicts
//     with concurrent edits.
func failureReason(err error) string {
	var ce *nsxsync.ConfigError
	if errors.As(err, &ce) {
		return ReasonInvalidConfiguration
	}
	var be *budget.Error
	if errors.As(err, &be) {
		return ReasonBudgetExceeded
	}
	var ae *nsxclient.APIError
	if errors.As(err, &ae) && ae.StatusCode >= 400 && ae.StatusCode < 500 {
		switch {
		case nsxclient.IsUnauthorized(ae), nsxclient.IsStaleRevision(ae),
			ae.StatusCode == http.StatusTooManyRequests, ae.StatusCode == http.StatusRequestTimeout:
			return securityv1alpha1.ReasonNSXUnavailable
		}
		return securityv1alpha1.ReasonNSXRejected
	}
	return securityv1alpha1.ReasonNSXUnavailable
}

// failureMessage tells the user what failed and what happens next. The client's errors already
// say what to check (credentials, certificates, reachability).
func failureMessage(reason string, err error) string {
	switch reason {
	case ReasonInvalidConfiguration:
		return "microseg cannot program NSX: " + err.Error()
	case ReasonBudgetExceeded:
		return "Not programmed: " + err.Error() + "."
	case securityv1alpha1.ReasonNSXRejected:
		return "NSX Manager rejected a change: " + err.Error() + ". microseg retries with backoff; the error says what NSX objected to."
	}
	return "NSX Manager is unavailable or failed: " + err.Error() + ". microseg retries with backoff; check NSX Manager's health, the network path from the operator, and the credentials."
}
