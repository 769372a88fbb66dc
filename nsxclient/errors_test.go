package nsxclient

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestErrorClassification drives real calls against NSX error responses and checks how they are
// classified, so that the mapping is tested end to end (request flags included).
func TestErrorClassification(t *testing.T) {
	updateGroup := func(c *Client) error {
		_, err := c.UpdateNSGroup(context.Background(), NSGroup{ManagedResource: ManagedResource{ID: "g"}})
		return err
	}
	deleteGroup := func(c *Client) error { return c.DeleteNSGroup(context.Background(), "g", false) }
	deleteIPSet := func(c *Client) error { return c.DeleteIPSet(context.Background(), "ips", false) }
	deleteRule := func(c *Client) error { return c.DeleteRule(context.Background(), "s", "r") }
	getSection := func(c *Client) error { _, err := c.GetSection(context.Background(), "s"); return err }
	deleteSection := func(c *Client) error { return c.DeleteSection(context.Background(), "s", false) }
	deletePort := func(c *Client) error { return c.DeleteLogicalPort(context.Background(), "p", false) }

	tests := []struct {
		name                   string
		call                   func(*Client) error
		status                 int
		body                   APIErrorBody
		stale, notFound, inUse bool
		unauthorized           bool
		hint                   string
	}{
		{name: "409 on a section write", call: getSection, status: 409, stale: true, hint: "read it again"},
		{name: "412 on a PUT", call: updateGroup, status: 412, stale: true, hint: "stale _revision"},
		{name: "400/500087", call: updateGroup, status: 400, body: APIErrorBody{ErrorCode: 500087}, stale: true},
		{name: "400/500232", call: updateGroup, status: 400, body: APIErrorBody{ErrorCode: 500232}, stale: true},
		{name: "400 with 100148 in related_errors", call: updateGroup, status: 400,
			body: APIErrorBody{ErrorCode: 1, RelatedErrors: []RelatedAPIError{{ErrorCode: 100148}}}, stale: true},
		{name: "404/500090 is stale, not missing", call: updateGroup, status: 404, body: APIErrorBody{ErrorCode: 500090}, stale: true},
		{name: "404/600", call: getSection, status: 404, body: APIErrorBody{ErrorCode: ErrCodeNotFound}, notFound: true, hint: "does not exist"},
		{name: "400/500030", call: deleteGroup, status: 400, body: APIErrorBody{ErrorCode: ErrCodeResourceInUse}, inUse: true, hint: "delete with force"},
		{name: "400/500030 on a section delete names cascade", call: deleteSection, status: 400, body: APIErrorBody{ErrorCode: ErrCodeResourceInUse}, inUse: true, hint: "with cascade"},
		{name: "400/500030 on a port delete names detach", call: deletePort, status: 400, body: APIErrorBody{ErrorCode: ErrCodeResourceInUse}, inUse: true, hint: "with detach"},
		{name: "409 on an NSGroup delete means in use", call: deleteGroup, status: 409, inUse: true},
		{name: "409 on an IPSet delete means in use", call: deleteIPSet, status: 409, inUse: true},
		{name: "409 on a rule delete is stale", call: deleteRule, status: 409, stale: true},
		{name: "403/403 bad credentials", call: getSection, status: 403, body: APIErrorBody{ErrorCode: ErrCodeBadCredentials}, unauthorized: true, hint: "check the NSX credentials"},
		{name: "401", call: getSection, status: 401, unauthorized: true, hint: "check the NSX credentials"},
		{name: "403 other is a permission problem", call: getSection, status: 403, body: APIErrorBody{ErrorCode: 12}, hint: "lacks permission"},
		{name: "400/289 not owner", call: updateGroup, status: 400, body: APIErrorBody{ErrorCode: ErrCodeNotOwner}, hint: "AllowOverwrite"},
		{name: "400/255 validation", call: updateGroup, status: 400, body: APIErrorBody{ErrorCode: ErrCodeFieldValidation, ErrorMessage: "tags has exceeded maximum size 15"}, hint: "rejected a field"},
		{name: "423 locked", call: getSection, status: 423, hint: "unlock"},
		{name: "plain 400", call: updateGroup, status: 400, body: APIErrorBody{ErrorCode: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.body.ErrorMessage == "" {
				tt.body.ErrorMessage = "nsx says no"
			}
			f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, tt.status, tt.body) })
			err := tt.call(f.client())
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("want *APIError, got %T %v", err, err)
			}
			if apiErr.StatusCode != tt.status || apiErr.ErrorCode != tt.body.ErrorCode || apiErr.Message != tt.body.ErrorMessage {
				t.Errorf("APIError = %+v", apiErr)
			}
			if got := IsStaleRevision(err); got != tt.stale {
				t.Errorf("IsStaleRevision = %v, want %v", got, tt.stale)
			}
			if got := errors.Is(err, ErrStaleRevision); got != tt.stale {
				t.Errorf("errors.Is(ErrStaleRevision) = %v, want %v", got, tt.stale)
			}
			if got := IsNotFound(err); got != tt.notFound {
				t.Errorf("IsNotFound = %v, want %v", got, tt.notFound)
			}
			if got := IsInUse(err); got != tt.inUse {
				t.Errorf("IsInUse = %v, want %v", got, tt.inUse)
			}
			if got := IsUnauthorized(err); got != tt.unauthorized {
				t.Errorf("IsUnauthorized = %v, want %v", got, tt.unauthorized)
			}
			if tt.hint != "" && !strings.Contains(err.Error(), tt.hint) {
				t.Errorf("error %q lacks the hint %q", err, tt.hint)
			}
		})
	}
}

func TestAPIErrorCarriesTheWholeNSXError(t *testing.T) {
	body := APIErrorBody{
		HTTPStatus: "BAD_REQUEST", ErrorCode: 500030, ErrorMessage: "cannot be deleted as it is being referenced",
		ModuleName: "firewall", Details: "by rule 1001",
		RelatedErrors: []RelatedAPIError{{ErrorCode: 500031, ErrorMessage: "referenced by section s1"}},
	}
	f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 400, body) })
	err := f.client().DeleteNSGroup(context.Background(), "g-1", false)
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("got %T %v", err, err)
	}
	want := APIError{
		StatusCode: 400, Method: "DELETE", Endpoint: "DELETE /ns-groups/{id}", Path: "/ns-groups/g-1",
		ErrorCode: 500030, Message: body.ErrorMessage, ModuleName: "firewall", Details: "by rule 1001",
		RelatedErrors: body.RelatedErrors, Attempts: 1,
	}
	if apiErr.StatusCode != want.StatusCode || apiErr.Method != want.Method || apiErr.Endpoint != want.Endpoint ||
		apiErr.Path != want.Path || apiErr.ErrorCode != want.ErrorCode || apiErr.Message != want.Message ||
		apiErr.ModuleName != want.ModuleName || apiErr.Details != want.Details || apiErr.Attempts != want.Attempts ||
		len(apiErr.RelatedErrors) != 1 || apiErr.RelatedErrors[0] != want.RelatedErrors[0] {
		t.Errorf("APIError = %+v\nwant       %+v", *apiErr, want)
	}
	msg := err.Error()
	for _, s := range []string{"DELETE /ns-groups/g-1", "HTTP 400", "error_code 500030", "being referenced", "related error_code 500031", "delete with force"} {
		if !strings.Contains(msg, s) {
			t.Errorf("Error() = %q lacks %q", msg, s)
		}
	}
}

func TestNonJSONErrorBodyIsKeptShort(t *testing.T) {
	f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("<html>" + strings.Repeat("x", 5000) + "</html>"))
	})
	_, err := f.client().GetSection(context.Background(), "s")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 403 {
		t.Fatalf("got %v", err)
	}
	if len(apiErr.Message) > 400 || !strings.HasPrefix(apiErr.Message, "<html>") {
		t.Errorf("message = %q (%d bytes)", apiErr.Message[:min(40, len(apiErr.Message))], len(apiErr.Message))
	}
}

func TestCrossHostRedirectIsRefused(t *testing.T) {
	other := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 200, map[string]any{}) })
	f := newFakeNSX(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		http.Redirect(w, r, strings.Replace(other.srv.URL, "127.0.0.1", "localhost", 1)+r.URL.Path, http.StatusTemporaryRedirect)
	})
	_, err := f.client().GetSection(context.Background(), "s")
	if err == nil || !strings.Contains(err.Error(), "redirected to another host") {
		t.Fatalf("want a refused redirect, got %v", err)
	}
	if n := len(other.requests()); n != 0 {
		t.Errorf("the redirect target received %d requests (with our credentials)", n)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("a refused redirect was retried: %d requests", n)
	}
}

func TestEmptySuccessBodyWhereObjectExpected(t *testing.T) {
	f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { w.WriteHeader(200) })
	if _, err := f.client().GetSection(context.Background(), "s"); err == nil || !strings.Contains(err.Error(), "empty body") {
		t.Errorf("want an empty-body error, got %v", err)
	}
	// DELETE answers have no body, which is fine.
	if err := f.client().DeleteSection(context.Background(), "s", false); err != nil {
		t.Errorf("DeleteSection: %v", err)
	}
}
