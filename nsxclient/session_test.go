package nsxclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// sessionNSX is a fake NSX that implements session login: it issues JSESSIONID/XSRF pairs,
// accepts API calls only with a live pair, and can expire all sessions on demand.
type sessionNSX struct {
	*fakeNSX
	password atomic.Value // string: the password NSX accepts

	mu         sync.Mutex
	loginDelay time.Duration
	// staggerRejections delays the n-th rejected API call by n*10ms, so that rejections of an
	// expired session keep arriving after the re-login has finished.
	staggerRejections bool
	rejections        int
	valid             map[string]string // JSESSIONID -> XSRF token
	logins            int
	issued            int
}

func newSessionNSX(t *testing.T) *sessionNSX {
	s := &sessionNSX{valid: map[string]string{}}
	s.password.Store(testPassword)
	s.fakeNSX = newFakeNSX(t, s.handle)
	return s
}

func (s *sessionNSX) handle(w http.ResponseWriter, r *http.Request, body []byte) {
	switch r.URL.Path {
	case sessionCreatePath:
		s.mu.Lock()
		s.logins++
		s.mu.Unlock()
		s.mu.Lock()
		delay := s.loginDelay
		s.mu.Unlock()
		time.Sleep(delay)
		form, _ := url.ParseQuery(string(body))
		if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" ||
			form.Get("j_username") != testUser || form.Get("j_password") != s.password.Load().(string) {
			writeNSXError(w, 403, ErrCodeBadCredentials, "The credentials were incorrect or the account specified has been locked.")
			return
		}
		s.mu.Lock()
		s.issued++
		id, token := fmt.Sprintf("sess-%d-secretcookie", s.issued), fmt.Sprintf("xsrf-%d-secrettoken", s.issued)
		s.valid[id] = token
		s.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: id, Path: "/", Secure: true, HttpOnly: true})
		w.Header().Set("X-XSRF-TOKEN", token)
		w.WriteHeader(200)
	case sessionDestroyPath:
		if !s.authorized(r) {
			writeNSXError(w, 403, ErrCodeBadXSRF, "bad XSRF token")
			return
		}
		ck, _ := r.Cookie("JSESSIONID")
		s.mu.Lock()
		delete(s.valid, ck.Value)
		s.mu.Unlock()
		w.WriteHeader(200)
	default:
		if _, _, ok := r.BasicAuth(); ok {
			writeNSXError(w, 400, 0, "session requests must not carry Basic credentials")
			return
		}
		if !s.authorized(r) {
			s.mu.Lock()
			s.rejections++
			delay := time.Duration(0)
			if s.staggerRejections {
				delay = time.Duration(s.rejections) * 10 * time.Millisecond
			}
			s.mu.Unlock()
			time.Sleep(delay)
			writeNSXError(w, 403, ErrCodeBadXSRF, "Bad XSRF token")
			return
		}
		writeJSON(w, 200, FirewallSection{ManagedResource: ManagedResource{ID: "sec-1"}})
	}
}

func (s *sessionNSX) authorized(r *http.Request) bool {
	ck, err := r.Cookie("JSESSIONID")
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	token, ok := s.valid[ck.Value]
	return ok && token == r.Header.Get("X-XSRF-TOKEN")
}

func (s *sessionNSX) expireAll() {
	s.mu.Lock()
	s.valid = map[string]string{}
	s.mu.Unlock()
}

func (s *sessionNSX) loginCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

func (s *sessionNSX) sessionClient(mutate ...func(*Config)) *Client {
	return s.client(append([]func(*Config){func(c *Config) { c.AuthMode = AuthSession }}, mutate...)...)
}

func TestSessionLoginThenCookieAndXSRFOnEveryCall(t *testing.T) {
	s := newSessionNSX(t)
	var obs observerLog
	c := s.sessionClient(func(c *Config) { c.Observer = obs.observe })
	ctx := context.Background()
	for range 3 {
		if _, err := c.GetSection(ctx, "sec-1"); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.loginCount(); n != 1 {
		t.Errorf("%d logins, want 1", n)
	}
	if calls := obs.all(); len(calls) != 4 || calls[0].Endpoint != "POST /api/session/create" || calls[1].Endpoint != "GET /firewall/sections/{id}" {
		t.Errorf("observed calls = %+v", calls)
	}
	reqs := s.requests()
	if reqs[0].Method != "POST" || reqs[0].EscapedPath != sessionCreatePath {
		t.Fatalf("first request = %s %s, want the login", reqs[0].Method, reqs[0].EscapedPath)
	}
	for _, r := range reqs[1:] {
		if !strings.Contains(r.Header.Get("Cookie"), "JSESSIONID=sess-1-secretcookie") || r.Header.Get("X-XSRF-TOKEN") != "xsrf-1-secrettoken" {
			t.Errorf("request lacks the session: Cookie=%q XSRF=%q", r.Header.Get("Cookie"), r.Header.Get("X-XSRF-TOKEN"))
		}
		if strings.Contains(r.Header.Get("Cookie"), "Path=") || strings.Contains(r.Header.Get("Cookie"), "HttpOnly") {
			t.Errorf("cookie attributes were sent back: %q", r.Header.Get("Cookie"))
		}
	}
}

func TestSessionReloginAfterXSRFRejection(t *testing.T) {
	for _, status := range []int{403, 401} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			s := newSessionNSX(t)
			if status == 401 {
				inner := s.currentHandler()
				s.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
					if r.URL.Path != sessionCreatePath && !s.authorized(r) {
						writeNSXError(w, 401, 0, "session expired")
						return
					}
					inner(w, r, body)
				})
			}
			var sleeps sleepRecorder
			c := s.sessionClient()
			c.sleep = sleeps.sleep
			ctx := context.Background()
			if _, err := c.GetSection(ctx, "sec-1"); err != nil {
				t.Fatal(err)
			}
			s.expireAll() // the manager restarted or the session idled out
			if _, err := c.CreateSection(ctx, FirewallSection{}, Top()); err != nil {
				t.Fatalf("want a transparent re-login, got %v", err)
			}
			if n := s.loginCount(); n != 2 {
				t.Errorf("%d logins, want 2", n)
			}
			reqs := s.apiRequests()
			last := reqs[len(reqs)-1]
			if last.Header.Get("X-XSRF-TOKEN") != "xsrf-2-secrettoken" {
				t.Errorf("retried request used XSRF %q, want the new token", last.Header.Get("X-XSRF-TOKEN"))
			}
			if len(sleeps.recorded()) != 0 {
				t.Errorf("re-login waited %v; it should resend at once", sleeps.recorded())
			}
		})
	}
}

func TestSessionReloginHappensOnlyOnce(t *testing.T) {
	s := newSessionNSX(t)
	inner := s.currentHandler()
	s.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		if r.URL.Path == sessionCreatePath {
			inner(w, r, body)
			return
		}
		writeNSXError(w, 403, ErrCodeBadXSRF, "Bad XSRF token") // never accepts the session
	})
	_, err := s.sessionClient().GetSection(context.Background(), "sec-1")
	if !IsUnauthorized(err) {
		t.Fatalf("want an unauthorized error, got %v", err)
	}
	if n := s.loginCount(); n != 2 {
		t.Errorf("%d logins, want 2 (one re-login)", n)
	}
	if n := len(s.apiRequests()); n != 2 {
		t.Errorf("%d API requests, want 2", n)
	}
}

func TestConcurrentCallersShareOneLogin(t *testing.T) {
	s := newSessionNSX(t)
	s.mu.Lock()
	s.loginDelay = 50 * time.Millisecond // keep the login in flight while everyone arrives
	s.mu.Unlock()
	c := s.sessionClient()
	const callers = 20
	run := func() {
		var wg sync.WaitGroup
		errs := make(chan error, callers)
		for range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := c.GetSection(context.Background(), "sec-1")
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
	}
	run()
	if n := s.loginCount(); n != 1 {
		t.Errorf("%d logins for %d concurrent callers, want 1", n, callers)
	}
	// All of them now hold an expired session: still one re-login, not one per caller, even
	// when some learn that their session expired only after the re-login has finished.
	s.mu.Lock()
	s.staggerRejections = true
	s.mu.Unlock()
	s.expireAll()
	run()
	if n := s.loginCount(); n != 2 {
		t.Errorf("%d logins after expiry, want 2", n)
	}
}

func TestWaiterLogsInItselfWhenTheLeaderGivesUp(t *testing.T) {
	s := newSessionNSX(t)
	entered := make(chan struct{}, 1)
	var first atomic.Bool
	inner := s.currentHandler()
	s.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		if r.URL.Path == sessionCreatePath && first.CompareAndSwap(false, true) {
			entered <- struct{}{}
			<-r.Context().Done() // the leader's login hangs until its caller gives up
			return
		}
		inner(w, r, body)
	})
	c := s.sessionClient()
	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() { _, err := c.GetSection(leaderCtx, "sec-1"); leaderErr <- err }()
	<-entered
	waiterErr := make(chan error, 1)
	go func() { _, err := c.GetSection(context.Background(), "sec-1"); waiterErr <- err }()
	time.Sleep(50 * time.Millisecond) // let the waiter queue behind the leader's login
	cancelLeader()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Errorf("leader: want context.Canceled, got %v", err)
	}
	select {
	case err := <-waiterErr:
		if err != nil {
			t.Errorf("waiter inherited the leader's failure: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiter hung")
	}
}

func TestSessionLoginWithWrongPassword(t *testing.T) {
	s := newSessionNSX(t)
	s.password.Store("something-else")
	_, err := s.sessionClient().GetSection(context.Background(), "sec-1")
	if !IsUnauthorized(err) {
		t.Fatalf("want unauthorized, got %v", err)
	}
	if !strings.Contains(err.Error(), "check the NSX credentials") || !strings.Contains(err.Error(), sessionCreatePath) {
		t.Errorf("error does not say what to do: %v", err)
	}
	if strings.Contains(err.Error(), testPassword) {
		t.Errorf("password in error: %v", err)
	}
	if n := len(s.apiRequests()); n != 0 {
		t.Errorf("%d API requests sent without a session", n)
	}
}

func TestRotatedCredentialsAreUsedWithoutNewClient(t *testing.T) {
	var current atomic.Value
	current.Store("old-password")
	provider := CredentialsFunc(func(context.Context) (string, string, error) {
		return testUser, current.Load().(string), nil
	})

	t.Run("session", func(t *testing.T) {
		s := newSessionNSX(t)
		s.password.Store("new-password")
		c := s.sessionClient(func(c *Config) { c.Credentials = provider })
		current.Store("old-password")
		if _, err := c.GetSection(context.Background(), "s"); !IsUnauthorized(err) {
			t.Fatalf("old password: want unauthorized, got %v", err)
		}
		current.Store("new-password")
		if _, err := c.GetSection(context.Background(), "s"); err != nil {
			t.Fatalf("rotated password not used: %v", err)
		}
	})
	t.Run("basic", func(t *testing.T) {
		f := newFakeNSX(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
			if _, p, _ := r.BasicAuth(); p != "new-password" {
				writeNSXError(w, 403, ErrCodeBadCredentials, "bad credentials")
				return
			}
			writeJSON(w, 200, map[string]any{})
		})
		c := f.client(func(c *Config) { c.Credentials = provider })
		current.Store("old-password")
		if _, err := c.GetSection(context.Background(), "s"); !IsUnauthorized(err) {
			t.Fatalf("old password: want unauthorized, got %v", err)
		}
		if n := len(f.requests()); n != 1 {
			t.Errorf("rejected Basic credentials were sent %d times, want once", n)
		}
		current.Store("new-password")
		if _, err := c.GetSection(context.Background(), "s"); err != nil {
			t.Fatalf("rotated password not used: %v", err)
		}
	})
}

func TestCredentialsProviderErrorStopsTheCall(t *testing.T) {
	f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 200, map[string]any{}) })
	c := f.client(func(c *Config) {
		c.Credentials = CredentialsFunc(func(context.Context) (string, string, error) {
			return "", "", errors.New("secret nsx-credentials has no key password")
		})
	})
	_, err := c.GetSection(context.Background(), "s")
	if err == nil || !strings.Contains(err.Error(), "nsx-credentials has no key password") {
		t.Fatalf("got %v", err)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests sent without credentials", n)
	}
}

func TestLogout(t *testing.T) {
	s := newSessionNSX(t)
	c := s.sessionClient()
	ctx := context.Background()
	if _, err := c.GetSection(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	if err := c.Logout(ctx); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	var destroy *recorded
	for _, r := range s.requests() {
		if r.EscapedPath == sessionDestroyPath {
			destroy = &r
		}
	}
	if destroy == nil || destroy.Method != "POST" || destroy.Header.Get("X-XSRF-TOKEN") != "xsrf-1-secrettoken" {
		t.Fatalf("no proper POST %s: %+v", sessionDestroyPath, destroy)
	}
	s.mu.Lock()
	live := len(s.valid)
	s.mu.Unlock()
	if live != 0 {
		t.Errorf("%d sessions still live on NSX", live)
	}
	if err := c.Logout(ctx); err != nil {
		t.Errorf("second Logout: %v", err)
	}
	if _, err := c.GetSection(ctx, "s"); err != nil {
		t.Fatalf("call after Logout: %v", err)
	}
	if n := s.loginCount(); n != 2 {
		t.Errorf("%d logins, want 2 (the call after Logout logs in again)", n)
	}
	// Basic mode has no session to destroy.
	if err := s.client().Logout(ctx); err != nil {
		t.Errorf("Basic Logout: %v", err)
	}
}

func TestLoginWithoutSessionCookieIsAClearError(t *testing.T) {
	f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { w.WriteHeader(200) })
	_, err := f.client(func(c *Config) { c.AuthMode = AuthSession }).GetSection(context.Background(), "s")
	if err == nil || !strings.Contains(err.Error(), "JSESSIONID") {
		t.Fatalf("got %v", err)
	}
}
