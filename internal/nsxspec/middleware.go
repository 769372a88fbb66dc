package nsxspec

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// sessionPathPrefix covers NSX's login and logout endpoints (/api/session/create, which takes a
// form-encoded body, and /api/session/destroy). They live outside the spec's basePath and the
// spec does not describe them, so exchanges with them are never checked.
const sessionPathPrefix = "/api/session/"

// DefaultIgnorePrefixes are the path prefixes ValidatingTransport and ValidatingHandler skip
// when the caller names none: the simulator's private control endpoints.
var DefaultIgnorePrefixes = []string{"/sim/"}

// ValidatingTransport wraps base (http.DefaultTransport when nil) so that every request sent
// and response received is validated against spec; report receives one error per
// non-conforming request or response, naming method and path. Paths under ignorePrefixes
// (DefaultIgnorePrefixes when none are given) and under /api/session/ (login, logout) are
// passed through unchecked. Bodies are read fully and replaced, so the caller sees them unchanged.
func ValidatingTransport(spec *Spec, base http.RoundTripper, report func(error), ignorePrefixes ...string) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &validatingTransport{check: newExchangeChecker(spec, report, ignorePrefixes), base: base}
}

// ValidatingHandler wraps next so that every request it serves and every response it writes
// is validated against spec, with the same reporting and skipping as ValidatingTransport.
// Use it around the simulator to prove it answers as NSX would.
func ValidatingHandler(spec *Spec, next http.Handler, report func(error), ignorePrefixes ...string) http.Handler {
	check := newExchangeChecker(spec, report, ignorePrefixes)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if check.ignored(r) {
			next.ServeHTTP(w, r)
			return
		}
		body, err := readAndRestore(&r.Body)
		if err != nil {
			check.report(fmt.Errorf("request %s %s: reading body: %w", r.Method, r.URL.Path, err))
		}
		check.request(r, body)
		rec := &recordingWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		check.response(r, rec.status, rec.body.Bytes())
	})
}

// exchangeChecker holds what the transport and the handler share.
type exchangeChecker struct {
	spec           *Spec
	report         func(error)
	ignorePrefixes []string
}

func newExchangeChecker(spec *Spec, report func(error), ignorePrefixes []string) *exchangeChecker {
	if len(ignorePrefixes) == 0 {
		ignorePrefixes = DefaultIgnorePrefixes
	}
	return &exchangeChecker{spec: spec, report: report, ignorePrefixes: ignorePrefixes}
}

func (c *exchangeChecker) ignored(r *http.Request) bool {
	path := r.URL.Path
	if strings.HasPrefix(path, sessionPathPrefix) {
		return true
	}
	for _, prefix := range c.ignorePrefixes {
		if strings.HasPrefix(path, prefix) {
			return true
		}
	}
	return false
}

func (c *exchangeChecker) request(r *http.Request, body []byte) {
	if err := c.spec.ValidateRequest(r.Method, r.URL.EscapedPath(), r.URL.Query(), body); err != nil {
		c.report(err)
	}
}

func (c *exchangeChecker) response(r *http.Request, status int, body []byte) {
	if err := c.spec.ValidateResponse(r.Method, r.URL.EscapedPath(), r.URL.Query(), status, body); err != nil {
		c.report(err)
	}
}

type validatingTransport struct {
	check *exchangeChecker
	base  http.RoundTripper
}

func (t *validatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.check.ignored(req) {
		return t.base.RoundTrip(req)
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		// RoundTrip must not modify the caller's request, so send a clone with a fresh body.
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			req.Body.Close()
			return nil, err
		}
		req.Body.Close()
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	t.check.request(req, body)
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	respBody, readErr := readAndRestore(&resp.Body)
	if readErr != nil {
		// Hand the caller the same failure it would have met reading the body itself.
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(respBody), errReader{readErr}))
		return resp, nil
	}
	t.check.response(req, resp.StatusCode, respBody)
	return resp, nil
}

// readAndRestore reads a body to the end and puts back a reader over what was read.
func readAndRestore(body *io.ReadCloser) ([]byte, error) {
	if *body == nil || *body == http.NoBody {
		return nil, nil
	}
	data, err := io.ReadAll(*body)
	(*body).Close()
	*body = io.NopCloser(bytes.NewReader(data))
	return data, err
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// recordingWriter passes a response through while keeping its status and a copy of its body.
type recordingWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (w *recordingWriter) WriteHeader(status int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.wroteHeader = true
	w.body.Write(p)
	return w.ResponseWriter.Write(p)
}

// Flush keeps streaming handlers working behind the middleware.
func (w *recordingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer (deadlines and the like).
func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
