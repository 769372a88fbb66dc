package nsxclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Session endpoints live under /api, outside /api/v1.
const (
	sessionCreatePath  = "/api/session/create"
	sessionDestroyPath = "/api/session/destroy"
	xsrfHeader         = "X-XSRF-TOKEN"
	sessionCookieName  = "JSESSIONID"
)

// session is an NSX login: the cookies and XSRF token returned by /api/session/create. It is
// immutable once created; a new login makes a new session.
//
// The tokens live only inside the apply closure: fmt and reflection-based dumpers (spew) print a
// func as an address, so no way of printing a session, the client or a struct holding them can
// reveal the tokens.
type session struct {
	apply func(h http.Header)
}

func newSession(cookieHeader, xsrfToken string) *session {
	return &session{apply: func(h http.Header) {
		h.Set("Cookie", cookieHeader)
		h.Set(xsrfHeader, xsrfToken)
	}}
}

// sessionAuth shares one NSX session between all goroutines of a Client.
//
// Concurrent callers that find no session do not each log in: the first becomes the leader and
// logs in, the others wait for its result (or for their own context). If the leader's context
// ends before the login finishes, waiters with live contexts try again themselves rather than
// inheriting an error that is not theirs. A failed login (bad password) is shared by everyone
// waiting for it and not cached, so the next call tries again with possibly rotated credentials.
type sessionAuth struct {
	login func(ctx context.Context) (*session, error)

	mu       sync.Mutex
	current  *session
	inflight *loginCall
}

type loginCall struct {
	done chan struct{}
	// s and err are written before done is closed and read only after.
	s   *session
	err error
}

func (a *sessionAuth) authorize(ctx context.Context, h http.Header) (authToken, error) {
	s, err := a.get(ctx)
	if err != nil {
		return nil, err
	}
	s.apply(h)
	return s, nil
}

func (a *sessionAuth) get(ctx context.Context) (*session, error) {
	for {
		a.mu.Lock()
		if a.current != nil {
			s := a.current
			a.mu.Unlock()
			return s, nil
		}
		call := a.inflight
		leader := call == nil
		if leader {
			call = &loginCall{done: make(chan struct{})}
			a.inflight = call
		}
		a.mu.Unlock()

		if leader {
			call.s, call.err = a.login(ctx)
			a.mu.Lock()
			if call.err == nil {
				a.current = call.s
			}
			a.inflight = nil
			a.mu.Unlock()
			close(call.done)
			return call.s, call.err
		}

		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-call.done:
		}
		if call.err == nil {
			return call.s, nil
		}
		if isContextError(call.err) && ctx.Err() == nil {
			continue // the leader gave up, NSX did not refuse: log in ourselves
		}
		return nil, call.err
	}
}

// rejected forgets s if it is still the current session, so that the next authorize logs in
// again. When many requests fail with the same expired session, only the first clears it; the
// others find the new session (or the login in flight) and share it.
func (a *sessionAuth) rejected(tok authToken) bool {
	s, ok := tok.(*session)
	if !ok || s == nil {
		return false
	}
	a.mu.Lock()
	if a.current == s {
		a.current = nil
	}
	a.mu.Unlock()
	return true
}

// take removes and returns the current session (for logout).
func (a *sessionAuth) take() *session {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.current
	a.current = nil
	return s
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// login creates an NSX session: POST /api/session/create with form-encoded j_username and
// j_password. NSX answers 200 with a JSESSIONID cookie and an X-XSRF-TOKEN header, both of which
// later requests must carry. Login goes through the same rate limiter and retries (429, 503,
// connection failures) as any request; creating a session twice is harmless.
func (c *Client) login(ctx context.Context) (*session, error) {
	user, pass, err := c.cfg.Credentials.Credentials(ctx)
	if err != nil {
		return nil, credentialsError(err)
	}
	form := url.Values{"j_username": {user}, "j_password": {pass}}
	r := &request{
		method:      http.MethodPost,
		template:    sessionCreatePath,
		path:        sessionCreatePath,
		query:       url.Values{},
		body:        []byte(form.Encode()),
		contentType: "application/x-www-form-urlencoded",
		replaySafe:  true,
		noAuth:      true,
		redact:      []string{pass, url.QueryEscape(pass)},
	}
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	var cookies []string
	hasSessionCookie := false
	for _, ck := range (&http.Response{Header: resp.header}).Cookies() {
		if ck.Name == sessionCookieName {
			hasSessionCookie = true
		}
		// Send back name=value only: the attributes (Path, Secure, ...) are not part of a
		// Cookie request header.
		cookies = append(cookies, (&http.Cookie{Name: ck.Name, Value: ck.Value}).String())
	}
	xsrf := resp.header.Get(xsrfHeader)
	if !hasSessionCookie || xsrf == "" {
		return nil, fmt.Errorf("nsx: POST %s: login answered HTTP %d without a %s cookie and %s header: is Config.Host an NSX Manager?",
			sessionCreatePath, resp.status, sessionCookieName, xsrfHeader)
	}
	c.log.V(1).Info("Logged in to NSX", "host", c.baseURL.Host)
	return newSession(strings.Join(cookies, "; "), xsrf), nil
}

// Logout destroys the current NSX session (POST /api/session/destroy), if there is one. NSX
// allows a limited number of sessions per user, so call it when the client is no longer needed.
// The next request after Logout logs in again. In Basic and ClientCert modes Logout does nothing.
// A session NSX had already expired (401/403) counts as logged out.
func (c *Client) Logout(ctx context.Context) error {
	sa, ok := c.auth.(*sessionAuth)
	if !ok {
		return nil
	}
	s := sa.take()
	if s == nil {
		return nil
	}
	r := &request{
		method:     http.MethodPost,
		template:   sessionDestroyPath,
		path:       sessionDestroyPath,
		query:      url.Values{},
		replaySafe: true,
		noAuth:     true,
		session:    s,
	}
	_, err := c.do(ctx, r)
	var apiErr *APIError
	if errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden) {
		return nil
	}
	return err
}
