package argocd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/microseg/microseg/internal/testenv"
)

func script(t *testing.T) string {
	t.Helper()
	root, err := testenv.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	s, err := ReadScript(root)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestREADMEShowsTheScript: the README's copy of the health check is the file, byte for byte.
func TestREADMEShowsTheScript(t *testing.T) {
	root, err := testenv.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if block := "```lua\n" + script(t) + "```\n"; !strings.Contains(string(readme), block) {
		t.Errorf("README.md does not show %s verbatim in a ```lua block; paste the file's content again", ScriptFile)
	}
}

// condition builds one status condition as the API server returns it.
func condition(typ, status, reason, message string) map[string]any {
	return map[string]any{"type": typ, "status": status, "reason": reason, "message": message, "observedGeneration": int64(3)}
}

func policy(generation int64, status map[string]any) map[string]any {
	obj := map[string]any{
		"apiVersion": "security.microseg.io/v1alpha1", "kind": "ClusterSecurityPolicy",
		"metadata": map[string]any{"name": "p", "generation": generation},
		"spec":     map[string]any{"priority": int64(10)},
	}
	if status != nil {
		obj["status"] = status
	}
	return obj
}

func conditions(cs ...map[string]any) map[string]any {
	list := make([]any, len(cs))
	for i, c := range cs {
		list[i] = c
	}
	return map[string]any{"observedGeneration": int64(3), "conditions": list}
}

// TestHealthScript covers the script's branches on statuses shaped like the operator's (the
// envtest suite in test/operator runs it on the statuses the operator really writes).
func TestHealthScript(t *testing.T) {
	ready := condition("Ready", "True", "Programmed", "The policy is compiled and programmed in NSX.")
	for _, tc := range []struct {
		name, status, message string
		obj                   map[string]any
	}{
		{"no status yet", Progressing, "Waiting for microseg to compile and program the policy", policy(1, nil)},
		{"a status without conditions", Progressing, "Waiting for microseg to compile and program the policy", policy(3, map[string]any{"observedGeneration": int64(3)})},
		{"Ready at the current generation", Healthy, "The policy is compiled and programmed in NSX.", policy(3, conditions(ready))},
		{"Ready for an older generation", Progressing, "Waiting for microseg to observe generation 4", policy(4, conditions(ready))},
		{"pending", Progressing, "waiting for the sync", policy(3, conditions(
			condition("Ready", "False", "Pending", "waiting for the sync"), condition("Reconciling", "True", "Pending", "waiting for the sync")))},
		{"NSX unavailable", Progressing, "NSX answered 503", policy(3, conditions(
			condition("Ready", "False", "NSXUnavailable", "NSX answered 503"), condition("Reconciling", "True", "NSXUnavailable", "NSX answered 503")))},
		{"stalled after Ready in the list", Degraded, "group missing", policy(3, conditions(
			condition("Ready", "False", "InvalidReference", "group missing"), condition("Stalled", "True", "InvalidReference", "group missing")))},
		{"stalled even if a stale Ready were True", Degraded, "rejected", policy(3, conditions(
			ready, condition("Stalled", "True", "NSXRejected", "rejected")))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := Evaluate(script(t), tc.obj)
			if err != nil {
				t.Fatal(err)
			}
			if h.Status != tc.status || h.Message != tc.message {
				t.Errorf("got %s %q, want %s %q", h.Status, h.Message, tc.status, tc.message)
			}
		})
	}
}

// TestEvaluateLikeArgoCD pins the parts of Argo CD's contract the script relies on, so that a
// script that works here works there.
func TestEvaluateLikeArgoCD(t *testing.T) {
	obj := policy(1, nil)
	for _, tc := range []struct {
		name, script, wantErr string
		want                  Health
	}{
		{name: "obj is the object", script: `return {status = "Healthy", message = obj.metadata.name .. "/" .. obj.metadata.generation}`, want: Health{Healthy, "p/1"}},
		{name: "an unknown status code", script: `return {status = "Fine"}`, want: Health{Unknown, InvalidStatusMessage}},
		{name: "no table", script: `return "Healthy"`, wantErr: "expect table output from Lua script, not string"},
		{name: "a message that is not a string", script: `return {status = "Healthy", message = 3}`, wantErr: "want a string"},
		{name: "the string library is not opened", script: `return {status = string.upper("healthy")}`, wantErr: "string"},
		{name: "a script that never ends", script: `while true do end`, wantErr: "context deadline exceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := Evaluate(tc.script, obj)
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %v, want one containing %q", err, tc.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case h != tc.want:
				t.Errorf("got %+v, want %+v", h, tc.want)
			}
		})
	}
}
