package nsxclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"
)

// This file turns a request into HTTP attempts: authentication, rate limiting, retries,
// re-login, and reporting to the Observer.

// maxErrorBody bounds how much of an error response is read: error bodies are small, and a
// misbehaving proxy must not make the client buffer megabytes of HTML.
const maxErrorBody = 1 << 20

// response is a successful (2xx) HTTP response, read completely.
type response struct {
	status int
	header http.Header
	body   []byte
}

// outcome is the result of one HTTP attempt.
type outcome struct {
	resp         *response
	apiErr       *APIError
	transportErr error
	// final errors end the call at once: context cancellation, credential or login failures,
	// client-side problems.
	finalErr error
	final    bool
	// sent is true once the request was completely written to the connection.
	sent       bool
	retryAfter time.Duration
	// auth identifies the credentials used, so that a rejection invalidates exactly them.
	auth authToken
}

func (o *outcome) err() error {
	switch {
	case o.finalErr != nil:
		return o.finalErr
	case o.apiErr != nil:
		return o.apiErr
	default:
		return o.transportErr
	}
}

// doJSON performs r and decodes a successful response body into out (if out is not nil).
func (c *Client) doJSON(ctx context.Context, r *request, out any) error {
	resp, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if len(bytes.TrimSpace(resp.body)) == 0 {
		return fmt.Errorf("nsx: %s %s: HTTP %d with an empty body where an object was expected", r.method, r.shownPath(), resp.status)
	}
	if err := jsonUnmarshal(resp.body, out); err != nil {
		return fmt.Errorf("nsx: %s %s: decoding the response: %w", r.method, r.shownPath(), err)
	}
	return nil
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// do performs r, retrying as described in retry.go and logging in again once if NSX rejects the
// session. It returns the final 2xx response, or an *APIError, a *TransportError or a
// context/credentials error.
func (c *Client) do(ctx context.Context, r *request) (*response, error) {
	maxRetries := c.cfg.MaxRetries
	if r.noRetry {
		maxRetries = 0
	}
	retries, attempts := 0, 0
	reloggedIn := false
	for {
		attempts++
		o := c.attempt(ctx, r, attempts)
		if o.resp != nil {
			return o.resp, nil
		}
		if o.final {
			return nil, o.finalErr
		}
		if ctx.Err() != nil {
			return nil, c.stopped(ctx, r, o.err())
		}
		if o.apiErr != nil && o.apiErr.isSessionRejected() && !reloggedIn && o.auth != nil && c.auth.rejected(o.auth) {
			// The session expired or its XSRF token went stale. NSX did not run the request,
			// so log in again and resend it once, without spending a retry or waiting.
			reloggedIn = true
			c.log.V(1).Info("NSX rejected the session; logging in again", "endpoint", r.endpoint(), "status", o.apiErr.StatusCode, "errorCode", o.apiErr.ErrorCode)
			continue
		}
		decision := c.decideRetry(r, &o)
		if !decision.retry || retries >= maxRetries {
			return nil, c.finalError(r, &o, attempts)
		}
		wait := c.waitBeforeRetry(retries, decision)
		retries++
		c.log.V(1).Info("Retrying NSX request", "endpoint", r.endpoint(), "reason", decision.reason,
			"attempt", attempts, "wait", wait.String(), "error", o.err().Error())
		r.waitedUntil = time.Now().Add(wait)
		if err := c.sleep(ctx, wait); err != nil {
			return nil, c.stopped(ctx, r, o.err())
		}
	}
}

// finalError returns the error the call ends with. An *APIError already carries its attempt
// number (set in attempt, before the Observer sees it, so that it is never mutated afterwards).
func (c *Client) finalError(r *request, o *outcome, attempts int) error {
	if o.apiErr != nil {
		return o.apiErr
	}
	return &TransportError{
		Method:             r.method,
		Endpoint:           r.endpoint(),
		Path:               r.shownPath(),
		Attempts:           attempts,
		MayHaveBeenApplied: o.sent && !r.replaySafe,
		Err:                o.transportErr,
	}
}

// stopped reports that the caller's context ended the call, keeping the last NSX error for
// context. Both are wrapped: errors.Is(err, context.Canceled) and IsXxx(err) both work.
func (c *Client) stopped(ctx context.Context, r *request, last error) error {
	if last == nil {
		return fmt.Errorf("nsx: %s %s: %w", r.method, r.shownPath(), ctx.Err())
	}
	return fmt.Errorf("nsx: %s %s: %w (last attempt: %w)", r.method, r.shownPath(), ctx.Err(), last)
}

// attempt sends r once and reports the outcome to the Observer.
func (c *Client) attempt(ctx context.Context, r *request, n int) (o outcome) {
	start := time.Now()
	status := 0
	onWire := false // whether an HTTP request was attempted at all
	defer func() {
		if c.cfg.Observer == nil || !onWire {
			return
		}
		info := CallInfo{Method: r.method, Endpoint: r.endpoint(), StatusCode: status, Err: o.err(),
			Duration: time.Since(start), Attempt: n}
		if o.apiErr != nil {
			info.ErrorCode = o.apiErr.ErrorCode
		}
		c.cfg.Observer(info)
	}()

	header := http.Header{}
	header.Set("Accept", "application/json")
	header.Set("User-Agent", c.cfg.UserAgent)
	if r.body != nil {
		ct := r.contentType
		if ct == "" {
			ct = "application/json"
		}
		header.Set("Content-Type", ct)
	}
	if c.cfg.AllowOverwrite {
		header.Set("X-Allow-Overwrite", "true")
	}
	switch {
	case r.session != nil:
		r.session.apply(header)
	case !r.noAuth:
		tok, err := c.auth.authorize(ctx, header)
		if err != nil {
			return outcome{final: true, finalErr: err}
		}
		o.auth = tok
	}

	if err := c.throttle.acquire(ctx, c.sleep, r.waitedUntil); err != nil {
		if ctx.Err() != nil {
			return outcome{final: true, finalErr: fmt.Errorf("nsx: %s %s: %w", r.method, r.shownPath(), ctx.Err())}
		}
		return outcome{final: true, finalErr: fmt.Errorf("nsx: %s %s: waiting for the client-side rate limiter: %w", r.method, r.shownPath(), err)}
	}
	defer c.throttle.release()
	start = time.Now() // measure NSX, not our own rate limiter

	attemptCtx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var sent atomic.Bool
	attemptCtx = httptrace.WithClientTrace(attemptCtx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				sent.Store(true)
			}
		},
	})
	req, err := http.NewRequestWithContext(attemptCtx, r.method, c.url(r), bodyReader(r.body))
	if err != nil {
		return outcome{final: true, finalErr: fmt.Errorf("nsxclient: %s: building the request: %w", r.endpoint(), err)}
	}
	req.Header = header

	onWire = true
	resp, err := c.http.Do(req)
	if err == nil {
		var body []byte
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			body, err = io.ReadAll(resp.Body)
		} else {
			body, err = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		}
		_ = resp.Body.Close()
		if err == nil {
			status = resp.StatusCode
			if status >= 200 && status < 300 {
				c.throttle.succeeded()
				o.resp = &response{status: status, header: resp.Header, body: body}
				return o
			}
			o.apiErr = parseAPIError(r, status, resp.Header, body)
			o.apiErr.Attempts = n
			if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
				o.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
				c.throttle.throttled(min(o.retryAfter, max(c.cfg.MaxRetryAfter, c.cfg.RetryMaxDelay)))
			} else {
				c.throttle.succeeded()
			}
			return o
		}
		// The body broke off: treat it like a dropped connection after the request was sent.
	}
	o.sent = sent.Load()
	o.transportErr = unwrapURLError(err)
	if errors.Is(attemptCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		o.transportErr = errAttemptTimeout{timeout: c.cfg.Timeout.String()}
	}
	return o
}

// fetch performs r and decodes the response into a new T.
func fetch[T any](ctx context.Context, c *Client, r *request) (*T, error) {
	var out T
	if err := c.doJSON(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// send performs r with body encoded as JSON and decodes the response into a new T.
func send[T any](ctx context.Context, c *Client, r *request, body any) (*T, error) {
	if err := r.withJSON(body); err != nil {
		return nil, err
	}
	return fetch[T](ctx, c, r)
}
