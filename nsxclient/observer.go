package nsxclient

import "time"

// CallInfo describes one HTTP attempt, for metrics. Config.Observer receives one per attempt:
// a call that is retried twice produces three, a session login produces its own.
type CallInfo struct {
	// Method is the HTTP method.
	Method string
	// Endpoint is a low-cardinality template, safe as a metric label, e.g.
	// "POST /firewall/sections/{id}?action=update_with_rules". Manager API paths are relative to
	// /api/v1; Policy API paths ("PATCH /policy/api/v1/infra") and the session endpoints
	// ("POST /api/session/create") are given in full.
	Endpoint string
	// StatusCode is the HTTP status, or 0 if there was no response (connection failure).
	StatusCode int
	// ErrorCode is NSX's error_code for error responses, else 0.
	ErrorCode int64
	// Err is the attempt's error (an *APIError, or a network error), nil on success.
	Err error
	// Duration is the time from sending the request to reading the whole response; time spent
	// in the client-side rate limiter is not included.
	Duration time.Duration
	// Attempt is 1 for the first attempt of a call, 2 for its first retry, and so on.
	Attempt int
}
