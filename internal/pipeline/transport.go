package pipeline

import (
	"net/http"
	"net/http/httptest"
)

// handlerTransport serves requests with an http.Handler in the same process: no socket, no TLS,
// nothing to leak or to collide with.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// A server-side request always has a body; a client-side GET may have none.
	in := req.Clone(req.Context())
	if in.Body == nil {
		in.Body = http.NoBody
	}
	in.RequestURI = req.URL.RequestURI()
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, in)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}
