package nsxspec

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// reports collects what the middleware reports, from server goroutines too.
type reports struct {
	mu   sync.Mutex
	errs []error
}

func (r *reports) add(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

func (r *reports) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, err := range r.errs {
		b.WriteString(err.Error())
		b.WriteString("\n")
	}
	return b.String()
}

func (r *reports) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.errs)
}

// toySimulator stands in for internal/nsxsim: one good and one broken section, an echoing PUT,
// and the login and private endpoints the middleware must leave alone.
func toySimulator() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/firewall/sections/good", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, firewallSectionBody)
	})
	mux.HandleFunc("GET /api/v1/firewall/sections/broken", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"id": "broken", "stateful": true, "sectionKind": "LAYER3"}`)
	})
	mux.HandleFunc("PUT /api/v1/firewall/sections/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(w, r.Body) // echo: proves the middleware handed the body on intact
	})
	mux.HandleFunc("POST /api/session/create", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-XSRF-TOKEN", "token")
	})
	mux.HandleFunc("POST /api/session/destroy", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST /sim/faults", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"not": "nsx"}`)
	})
	return mux
}

// exercise drives every endpoint of the toy simulator and returns the echoed PUT body.
func exercise(t *testing.T, client *http.Client, base string) string {
	t.Helper()
	do := func(method, path, contentType, body string) string {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", contentType)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(got)
	}
	do("POST", "/api/session/create", "application/x-www-form-urlencoded", url.Values{"j_username": {"admin"}}.Encode())
	do("POST", "/api/session/destroy", "application/json", "")
	do("POST", "/sim/faults", "application/json", `{"fail": "everything"}`)
	do("GET", "/api/v1/firewall/sections/good", "application/json", "")
	do("GET", "/api/v1/firewall/sections/broken", "application/json", "")
	return do("PUT", "/api/v1/firewall/sections/s1", "application/json", `{"section_type": "LAYER3", "stateful": "true"}`)
}

func TestValidatingHandlerCatchesABadResponse(t *testing.T) {
	spec := LoadForTest(t)
	var got reports
	srv := httptest.NewServer(ValidatingHandler(spec, toySimulator(), got.add))
	echoed := exercise(t, srv.Client(), srv.URL)
	srv.Close() // waits for the handlers, so every report is in

	if echoed != `{"section_type": "LAYER3", "stateful": "true"}` {
		t.Errorf("handler changed the request body: %q", echoed)
	}
	text := got.text()
	for _, want := range []string{
		"response 200 to GET /api/v1/firewall/sections/broken",
		"section_type: required property is missing",
		"sectionKind: property not declared by FirewallSection",
		"request PUT /api/v1/firewall/sections/s1",
		`stateful: expected boolean, got string "true"`,
		"response 200 to PUT /api/v1/firewall/sections/s1", // the echo is just as wrong
	} {
		if !strings.Contains(text, want) {
			t.Errorf("want a report containing %q, got:\n%s", want, text)
		}
	}
	if got.count() != 3 {
		t.Errorf("want 3 reports (broken GET, bad PUT request, echoed PUT response), got %d:\n%s", got.count(), text)
	}
	for _, skipped := range []string{"/sim/", "/api/session/", "sections/good"} {
		if strings.Contains(text, skipped) {
			t.Errorf("%s should not be reported, got:\n%s", skipped, text)
		}
	}
}

func TestValidatingTransportChecksBothDirections(t *testing.T) {
	spec := LoadForTest(t)
	srv := httptest.NewServer(toySimulator())
	defer srv.Close()
	var got reports
	client := &http.Client{Transport: ValidatingTransport(spec, srv.Client().Transport, got.add)}
	echoed := exercise(t, client, srv.URL)

	if echoed != `{"section_type": "LAYER3", "stateful": "true"}` {
		t.Errorf("transport changed a body: %q", echoed)
	}
	text := got.text()
	for _, want := range []string{
		"response 200 to GET /api/v1/firewall/sections/broken",
		"section_type: required property is missing",
		"request PUT /api/v1/firewall/sections/s1",
		`stateful: expected boolean, got string "true"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("want a report containing %q, got:\n%s", want, text)
		}
	}
	if got.count() != 3 {
		t.Errorf("want 3 reports, got %d:\n%s", got.count(), text)
	}
}

func TestIgnorePrefixesReplaceTheDefault(t *testing.T) {
	spec := LoadForTest(t)
	var got reports
	srv := httptest.NewServer(ValidatingHandler(spec, toySimulator(), got.add, "/api/v1/firewall/sections/broken"))
	exercise(t, srv.Client(), srv.URL)
	srv.Close()
	text := got.text()
	if strings.Contains(text, "sections/broken") || strings.Contains(text, "/api/session/") {
		t.Errorf("ignored paths reported:\n%s", text)
	}
	if !strings.Contains(text, "POST /sim/faults") || !strings.Contains(text, ErrUnknownOperation.Error()) {
		t.Errorf("without the default prefix, /sim/ is not NSX API and should be reported as such, got:\n%s", text)
	}
}
