package nsxsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/nsxspec"
	"github.com/microseg/microseg/internal/nsxspec/policyspec"
	"github.com/microseg/microseg/nsxclient"
)

const (
	testUser     = "admin"
	testPassword = "s3cret-Passw0rd"
)

// env is one simulator behind a real HTTP server. Every /api/v1 response it serves is checked
// against the vendor spec (requests are not: the tests send invalid ones on purpose).
type env struct {
	t     *testing.T
	sim   *Server
	ts    *httptest.Server
	clock *FakeClock
}

func newEnv(t *testing.T, mutate ...func(*Options)) *env {
	t.Helper()
	clock := NewFakeClock(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
	opts := Options{Users: map[string]string{testUser: testPassword}, Clock: clock, Seed: 42}
	for _, m := range mutate {
		m(&opts)
	}
	e := &env{t: t, sim: New(opts), clock: clock}
	e.ts = httptest.NewServer(specChecked(t, e.sim))
	t.Cleanup(e.ts.Close)
	return e
}

// specChecked validates each /api/v1 response against the vendor spec (when it is beside the
// project) and each /policy/api/v1 response against the Policy API table.
func specChecked(t *testing.T, next http.Handler) http.Handler {
	manager := nsxspec.LoadIfPresent(t)
	policy, err := policyspec.Spec()
	if err != nil {
		t.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		spec := policy
		switch {
		case strings.HasPrefix(r.URL.Path, policyPrefix+"/"):
		case strings.HasPrefix(r.URL.Path, apiPrefix+"/") && manager != nil:
			spec = manager
		default:
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		if err := spec.ValidateResponse(r.Method, r.URL.EscapedPath(), r.URL.Query(), rec.Code, rec.Body.Bytes()); err != nil &&
			!errors.Is(err, nsxspec.ErrUnknownOperation) {
			t.Errorf("spec: %v", err)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

// resp is a buffered HTTP response.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// request sends one request; body may be nil, a []byte, a string or a value to encode as JSON.
func (e *env) request(method, path string, body any, edit ...func(*http.Request)) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(testUser, testPassword)
	for _, f := range edit {
		f(req)
	}
	res, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: data}
}

// call sends a request, requires the status and decodes the body into out (if non-nil).
func (e *env) call(method, path string, body any, want int, out any) resp {
	e.t.Helper()
	r := e.request(method, path, body)
	if r.status != want {
		e.t.Fatalf("%s %s: got %s, want status %d", method, path, r, want)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			e.t.Fatalf("%s %s: decoding %s: %v", method, path, r.body, err)
		}
	}
	return r
}

// fails sends a request and requires an NSX error body with this status and (if non-zero) code.
func (e *env) fails(method, path string, body any, status int, code int64) nsxclient.APIErrorBody {
	e.t.Helper()
	r := e.request(method, path, body)
	return expectError(e.t, r, status, code)
}

func expectError(t *testing.T, r resp, status int, code int64) nsxclient.APIErrorBody {
	t.Helper()
	if r.status != status {
		t.Fatalf("got %s, want status %d", r, status)
	}
	var body nsxclient.APIErrorBody
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("error body %s: %v", r.body, err)
	}
	if code != 0 && body.ErrorCode != code {
		t.Fatalf("got error_code %d (%s), want %d", body.ErrorCode, body.ErrorMessage, code)
	}
	if body.HTTPStatus != httpStatusName(status) || body.ErrorMessage == "" {
		t.Fatalf("error body lacks httpStatus/error_message: %s", r.body)
	}
	return body
}

// Object builders.

func (e *env) section(name string, query string) nsxclient.FirewallSection {
	e.t.Helper()
	var sec nsxclient.FirewallSection
	body := map[string]any{"display_name": name, "section_type": "LAYER3", "stateful": true}
	e.call("POST", apiPrefix+"/firewall/sections"+query, body, http.StatusCreated, &sec)
	return sec
}

func (e *env) getSection(id string) nsxclient.FirewallSection {
	e.t.Helper()
	var sec nsxclient.FirewallSection
	e.call("GET", apiPrefix+"/firewall/sections/"+id, nil, http.StatusOK, &sec)
	return sec
}

func (e *env) sectionNames(layer string) []string {
	e.t.Helper()
	var page listPage[nsxclient.FirewallSection]
	q := ""
	if layer != "" {
		q = "?type=" + layer
	}
	e.call("GET", apiPrefix+"/firewall/sections"+q, nil, http.StatusOK, &page)
	var names []string
	for _, s := range page.Results {
		names = append(names, s.DisplayName)
	}
	return names
}

func allowRule(name string) map[string]any {
	return map[string]any{"display_name": name, "action": "ALLOW"}
}

// rule adds a rule to a section, fetching the section revision first as NSX ≥ 2.4 requires.
func (e *env) rule(sectionID string, body map[string]any, query string) nsxclient.FirewallRule {
	e.t.Helper()
	body["_revision"] = e.getSection(sectionID).Revision
	var r nsxclient.FirewallRule
	e.call("POST", apiPrefix+"/firewall/sections/"+sectionID+"/rules"+query, body, http.StatusOK, &r)
	return r
}

func (e *env) ruleNames(sectionID string) []string {
	e.t.Helper()
	var page listPage[nsxclient.FirewallRule]
	e.call("GET", apiPrefix+"/firewall/sections/"+sectionID+"/rules", nil, http.StatusOK, &page)
	var names []string
	for _, r := range page.Results {
		names = append(names, r.DisplayName)
	}
	return names
}

func (e *env) ipset(name string, ips ...string) nsxclient.IPSet {
	e.t.Helper()
	var s nsxclient.IPSet
	e.call("POST", apiPrefix+"/ip-sets", map[string]any{"display_name": name, "ip_addresses": ips}, http.StatusCreated, &s)
	return s
}

func (e *env) group(name string, body map[string]any) nsxclient.NSGroup {
	e.t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	body["display_name"] = name
	var g nsxclient.NSGroup
	e.call("POST", apiPrefix+"/ns-groups", body, http.StatusCreated, &g)
	return g
}

func staticMember(targetType, id string) map[string]any {
	return map[string]any{"resource_type": "NSGroupSimpleExpression", "target_type": targetType,
		"target_property": "id", "op": "EQUALS", "value": id}
}

func tagCriterion(scope, tag string) map[string]any {
	return map[string]any{"resource_type": "NSGroupTagExpression", "target_type": "LogicalPort", "scope": scope, "tag": tag}
}

// port creates a pod-like logical port with tags (scope=tag pairs) and one IP.
func (e *env) port(name, ip string, tags ...string) nsxclient.LogicalPort {
	e.t.Helper()
	var ts []map[string]string
	for _, kv := range tags {
		k, v, _ := strings.Cut(kv, "=")
		ts = append(ts, map[string]string{"scope": k, "tag": v})
	}
	body := map[string]any{
		"display_name": name, "logical_switch_id": "ls-1", "admin_state": "UP", "tags": ts,
		"attachment":       map[string]any{"attachment_type": "VIF", "id": "vif-" + name, "context": map[string]any{"resource_type": "VifAttachmentContext", "vif_type": "CHILD", "parent_vif_id": "parent-1"}},
		"address_bindings": []map[string]any{{"ip_address": ip}},
	}
	var p nsxclient.LogicalPort
	e.call("POST", apiPrefix+"/logical-ports", body, http.StatusCreated, &p)
	return p
}

func ref(targetType, id string) map[string]any {
	return map[string]any{"target_type": targetType, "target_id": id}
}

func repeat[T any](n int, v T) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
