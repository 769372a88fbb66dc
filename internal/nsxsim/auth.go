package nsxsim

import (
	"crypto/subtle"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Session cookie and header names (NSX docs; nsxlib, nsx-operator).
const (
	sessionCookie = "JSESSIONID"
	xsrfHeader    = "X-XSRF-TOKEN"
)

// session is one /api/session/create login.
type session struct {
	user     string
	xsrf     string
	lastUsed time.Time
}

// sessionStore keeps the cookie sessions; it has its own lock so that auth never waits on state.
type sessionStore struct {
	mu       sync.Mutex
	rng      *rand.Rand
	timeout  time.Duration
	sessions map[string]*session
}

func newSessionStore(seed uint64, timeout time.Duration) *sessionStore {
	return &sessionStore{
		rng:      rand.New(rand.NewPCG(seed^0x5e55, seed)),
		timeout:  timeout,
		sessions: map[string]*session{},
	}
}

func (ss *sessionStore) token() string {
	return fmt.Sprintf("%016x%016x", ss.rng.Uint64(), ss.rng.Uint64())
}

func (ss *sessionStore) create(user string, now time.Time) (id, xsrf string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	id, xsrf = ss.token(), ss.token()
	ss.sessions[id] = &session{user: user, xsrf: xsrf, lastUsed: now}
	return id, xsrf
}

// use validates a session id and XSRF token and refreshes the idle timer. A missing, unknown or
// expired session and a wrong token all give 403 with error_code 98, as NSX does (nsxlib, nsx-operator).
func (ss *sessionStore) use(id, xsrf string, now time.Time) (string, *apiError) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	sess, ok := ss.sessions[id]
	if !ok {
		return "", errBadXSRF()
	}
	if now.Sub(sess.lastUsed) > ss.timeout {
		delete(ss.sessions, id)
		return "", errBadXSRF()
	}
	if subtle.ConstantTimeCompare([]byte(sess.xsrf), []byte(xsrf)) != 1 {
		return "", errBadXSRF()
	}
	sess.lastUsed = now
	return sess.user, nil
}

func (ss *sessionStore) destroy(id string) {
	ss.mu.Lock()
	delete(ss.sessions, id)
	ss.mu.Unlock()
}

// authenticate returns the user a request runs as. Credentials take precedence over a session
// cookie, and both over a client certificate (nsxlib: "If a username and password are also sent
// they take precedence").
func (s *Server) authenticate(r *http.Request) (string, *apiError) {
	if h := r.Header.Get("Authorization"); h != "" {
		user, pass, ok := r.BasicAuth()
		if !ok {
			// go-vmware-nsxt's vIDM "Remote" scheme carries base64(user:pass) too.
			if rest, found := strings.CutPrefix(h, "Remote "); found {
				r2 := &http.Request{Header: http.Header{"Authorization": {"Basic " + rest}}}
				user, pass, ok = r2.BasicAuth()
			}
		}
		if !ok || !s.checkPassword(user, pass) {
			return "", errBadCredentials()
		}
		return user, nil
	}
	if ck, err := r.Cookie(sessionCookie); err == nil {
		return s.sessions.use(ck.Value, r.Header.Get(xsrfHeader), s.now())
	}
	if user, ok := s.certificateUser(r); ok {
		return user, nil
	}
	return "", errBadCredentials()
}

func (s *Server) checkPassword(user, pass string) bool {
	want, ok := s.opts.Users[user]
	return ok && subtle.ConstantTimeCompare([]byte(want), []byte(pass)) == 1
}

// certificateUser accepts a TLS client certificate that the TLS layer verified and whose subject
// CN is allowed by Options.ClientCertCNs (principal-identity auth).
func (s *Server) certificateUser(r *http.Request) (string, bool) {
	if s.opts.ClientCertCNs == nil || r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		return "", false
	}
	cn := r.TLS.VerifiedChains[0][0].Subject.CommonName
	if len(s.opts.ClientCertCNs) > 0 && !slices.Contains(s.opts.ClientCertCNs, cn) {
		return "", false
	}
	return cn, true
}

// handleSessionCreate is POST /api/session/create with a form-encoded j_username / j_password.
// It answers 200 with Set-Cookie JSESSIONID and an X-XSRF-TOKEN header, and no body.
func (s *Server) handleSessionCreate(c *call) reply {
	form, err := url.ParseQuery(string(c.body))
	if err != nil {
		return fail(errBadCredentials())
	}
	user, pass := form.Get("j_username"), form.Get("j_password")
	if !s.checkPassword(user, pass) {
		return fail(errBadCredentials())
	}
	c.user = user
	id, xsrf := s.sessions.create(user, s.now())
	cookie := &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: c.r.TLS != nil}
	h := http.Header{}
	h.Add("Set-Cookie", cookie.String())
	h.Set(xsrfHeader, xsrf)
	return reply{status: http.StatusOK, header: h}
}

// handleSessionDestroy is POST /api/session/destroy: it ends the caller's cookie session.
func (s *Server) handleSessionDestroy(c *call) reply {
	if ck, err := c.r.Cookie(sessionCookie); err == nil {
		s.sessions.destroy(ck.Value)
	}
	return reply{status: http.StatusOK}
}
