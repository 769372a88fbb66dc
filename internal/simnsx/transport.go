package simnsx

import (
	"bytes"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"sync"
)

// tlsConfig is the server's TLS configuration (crypto/tls.Config).
type tlsConfig = tls.Config

func newTLSConfig() *tls.Config { return &tls.Config{MinVersion: tls.VersionTLS12} }

// HandlerTransport serves requests with an http.Handler in the same process.
type HandlerTransport struct{ Handler http.Handler }

// RoundTrip serves req with the handler and returns its response.
func (t HandlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// A server-side request always has a body; a client-side GET may have none.
	in := req.Clone(req.Context())
	if in.Body == nil {
		in.Body = http.NoBody
	}
	in.RequestURI = req.URL.RequestURI()
	rec := httptest.NewRecorder()
	t.Handler.ServeHTTP(rec, in)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers and readers: a server's error log,
// a process's output read while it runs.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
