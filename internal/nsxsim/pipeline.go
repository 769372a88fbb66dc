package nsxsim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/microseg/microseg/nsxclient"
)

// maxBodyBytes bounds request bodies; 1000 rules with 128 references each stay well below it.
const maxBodyBytes = 64 << 20

// ServeHTTP runs one request through the simulated manager: private /sim/v1 controls, then
// injected faults, authentication, per-user rate limit, routing, the handler (under the state
// lock), the concurrent-editor fault, cost accounting and statistics.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, simPrefix) {
		s.serveSim(w, r)
		return
	}
	c := &call{r: r, query: r.URL.Query()}
	rt, params, routeErr := s.match(r.Method, r.URL.Path, c.query.Get("action"))
	c.params = params
	endpoint := "unmatched"
	if rt != nil {
		endpoint = rt.name
	}
	write := rt != nil && rt.write

	decision := s.faults.before(endpoint, r.Method, r.URL.Path)
	if decision.latency > 0 {
		sleepCtx(r, decision.latency)
	}
	if decision.drop {
		s.stats.record(endpoint, write, 0, decision.latency, 0, 0)
		dropConnection(w)
		return
	}

	rep := s.dispatch(c, rt, routeErr, decision)
	simulated := decision.latency + s.opts.Cost.charge(rt, c)
	if s.opts.Cost.RealLatency {
		sleepCtx(r, simulated-decision.latency)
	}
	s.stats.record(endpoint, write, rep.status, simulated, c.rulesWritten, c.policyWritten)
	if s.opts.Logf != nil {
		s.opts.Logf("nsxsim: %s %s -> %d (user %q, simulated %s)", r.Method, r.URL.RequestURI(), rep.status, c.user, simulated)
	}
	writeReply(w, rep)
}

// dispatch decides the reply once faults have been rolled.
func (s *Server) dispatch(c *call, rt *route, routeErr *apiError, decision faultDecision) reply {
	if decision.err != nil {
		return decision.reply()
	}
	if rt == nil || !rt.public {
		user, err := s.authenticate(c.r)
		if err != nil {
			return fail(err)
		}
		c.user = user
	}
	rateKey := c.user
	if rateKey == "" {
		rateKey = c.r.RemoteAddr
	}
	if limited := s.faults.rateLimit(s.now(), rateKey); limited.err != nil {
		return limited.reply()
	}
	if routeErr != nil {
		return fail(routeErr)
	}
	body, err := io.ReadAll(io.LimitReader(c.r.Body, maxBodyBytes))
	if err != nil {
		return fail(errBadRequest(0, moduleCommon, "cannot read request body: %v", err))
	}
	c.body = body

	s.mu.Lock()
	defer s.mu.Unlock()
	rep := rt.handle(c)
	// Encode while the lock is held: reply bodies share slices with the stored objects.
	rep.encode()
	if rep.status < 300 {
		s.applyConcurrentEdits(c.reads)
	}
	return rep
}

// encode renders the reply body to JSON once.
func (rep *reply) encode() {
	if rep.body == nil || rep.encoded != nil {
		return
	}
	body := rep.body
	if e, ok := body.(*apiError); ok {
		body = e.body
	}
	buf, err := json.Marshal(body)
	if err != nil {
		e := newAPIError(http.StatusInternalServerError, 0, moduleCommon, "nsxsim: cannot encode reply: %v", err)
		rep.status, buf = e.status, []byte(fmt.Sprintf(`{"httpStatus":%q,"error_message":%q}`, e.body.HTTPStatus, e.body.ErrorMessage))
	}
	rep.encoded = buf
}

func writeReply(w http.ResponseWriter, rep reply) {
	for k, vs := range rep.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	rep.encode()
	if rep.encoded == nil {
		w.WriteHeader(rep.status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.encoded)
}

// sleepCtx waits d or until the client goes away.
func sleepCtx(r *http.Request, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

// dropConnection closes the client's connection without any response, as a crashed proxy would.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	// HTTP/2 (or a wrapped writer) cannot be hijacked: aborting the handler resets the stream.
	panic(http.ErrAbortHandler)
}

// decodeBody unmarshals a JSON request body; malformed JSON is a 400 like NSX's.
func decodeBody(c *call, v any) *apiError {
	if len(strings.TrimSpace(string(c.body))) == 0 {
		return errBadRequest(nsxclient.ErrCodeFieldValidation, moduleCommon, "%s{request body is required}", fieldValidationIntro)
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		return errBadRequest(nsxclient.ErrCodeFieldValidation, moduleCommon, "%s{request body is not valid JSON: %v}", fieldValidationIntro, err)
	}
	return nil
}

// bodyRevision returns the top-level _revision of the body, or nil when it is absent.
func bodyRevision(body []byte) *int64 {
	var probe struct {
		Revision *int64 `json:"_revision"`
	}
	if json.Unmarshal(body, &probe) != nil {
		return nil
	}
	return probe.Revision
}

// bodyRuleRevisions returns the _revision of each element of the body's "rules" array (nil where
// absent), for the create_multiple revision check.
func bodyRuleRevisions(body []byte) []*int64 {
	var probe struct {
		Rules []struct {
			Revision *int64 `json:"_revision"`
		} `json:"rules"`
	}
	if json.Unmarshal(body, &probe) != nil {
		return nil
	}
	out := make([]*int64, len(probe.Rules))
	for i, r := range probe.Rules {
		out[i] = r.Revision
	}
	return out
}

// bodyKeys returns the top-level keys of a JSON object body, to tell a field sent as false or 0
// from a field not sent (required booleans such as section.stateful).
func bodyKeys(body []byte) map[string]bool {
	var probe map[string]json.RawMessage
	_ = json.Unmarshal(body, &probe)
	keys := make(map[string]bool, len(probe))
	for k := range probe {
		keys[k] = true
	}
	return keys
}
