package nsxapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

// TestEndpointsTheClientDoesNotCall sends raw requests for what nsxclient has no method for:
// the simulator's three extra read endpoints (their answers must conform to the spec too) and
// requests no NSX operation matches (NSX's error 269, which the validators must flag).
func TestEndpointsTheClientDoesNotCall(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	sec := try(h.c.CreateSectionWithRules(ctx, withRules(layer3Section("s"), allowRule("r")), nsxclient.Top())).must(t)
	set := try(h.c.CreateIPSet(ctx, namedIPSet("i", "10.0.0.1", "10.0.0.3"))).must(t)
	g := try(h.c.CreateNSGroup(ctx, namedGroup("g"))).must(t)

	var version struct {
		ProductVersion string `json:"product_version"`
	}
	raw(t, h, http.MethodGet, "/api/v1/node/version", http.StatusOK, &version)
	if !strings.HasPrefix(version.ProductVersion, "2.5.1") {
		t.Errorf("product_version %q", version.ProductVersion)
	}
	var rule nsxclient.FirewallRule
	raw(t, h, http.MethodGet, "/api/v1/firewall/rules/"+sec.Rules[0].ID, http.StatusOK, &rule)
	if rule.SectionID != sec.ID {
		t.Errorf("GET /firewall/rules/{id}: section_id %q, want %s", rule.SectionID, sec.ID)
	}
	raw(t, h, http.MethodGet, "/api/v1/firewall/rules/999999", http.StatusNotFound, nil)
	var members nsxclient.ListResult[nsxclient.IPAddressElement]
	raw(t, h, http.MethodGet, "/api/v1/ip-sets/"+set.ID+"/members", http.StatusOK, &members)
	if len(members.Results) != 2 || members.Results[1].IPAddress != "10.0.0.3" {
		t.Errorf("IP set members %+v", members.Results)
	}

	h.expectSpecViolation("GET /api/v1/no-such-collection: no operation in the NSX API spec")
	var e nsxclient.APIErrorBody
	raw(t, h, http.MethodGet, "/api/v1/no-such-collection", http.StatusNotFound, &e)
	if e.ErrorCode != 269 {
		t.Errorf("unknown path: error_code %d, want 269", e.ErrorCode)
	}
	h.expectSpecViolation(`?action: value "BOGUS" not in enum`)
	raw(t, h, http.MethodPost, "/api/v1/ns-groups/"+g.ID+"?action=BOGUS", http.StatusBadRequest, &e)
	if e.ErrorCode != 269 {
		t.Errorf("unknown action: error_code %d, want 269", e.ErrorCode)
	}
}

// raw sends one Basic-authenticated request through the harness's validating server, requires
// the status and decodes the body into out (if not nil).
func raw(t *testing.T, h *harness, method, path string, want int, out any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, h.srv.URL+path, nil)
	mustOK(t, err)
	req.SetBasicAuth(testUser, testPassword)
	resp, err := h.srv.Client().Do(req)
	mustOK(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	mustOK(t, err)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, body)
	}
	if out != nil {
		mustOK(t, json.Unmarshal(body, out))
	}
}
