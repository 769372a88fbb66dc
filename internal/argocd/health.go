// Package argocd runs an Argo CD resource health check (a Lua script) the way Argo CD runs it,
// with the interpreter Argo CD embeds (github.com/yuin/gopher-lua), so that tests can prove
// config/argocd/health.lua against the statuses the operator really writes. Only tests import it.
//
// What Argo CD does, and this package repeats: a fresh Lua state without the standard libraries
// except base, package and table (so string.*, io.* and most of os.* do not exist for the script);
// a one-second deadline; the live object, decoded from JSON, as the global table obj (integers
// become Lua numbers); the script's return value must be a table whose status is one of Argo CD's
// health codes (anything else becomes Unknown) and whose message is a string.
package argocd

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// ScriptFile is the ClusterSecurityPolicy health check, relative to the project root. The README
// shows it verbatim (a test compares the two).
const ScriptFile = "config/argocd/health.lua"

// Argo CD's health codes.
const (
	Healthy     = "Healthy"
	Progressing = "Progressing"
	Degraded    = "Degraded"
	Suspended   = "Suspended"
	Missing     = "Missing"
	Unknown     = "Unknown"
)

// InvalidStatusMessage is Argo CD's message when a script returns a status that is not a health code.
const InvalidStatusMessage = "Lua returned an invalid health status"

// Health is what a health script returns.
type Health struct {
	Status  string
	Message string
}

// ReadScript reads ScriptFile under the project root.
func ReadScript(projectRoot string) (string, error) {
	b, err := os.ReadFile(filepath.Join(projectRoot, ScriptFile))
	return string(b), err
}

// Evaluate runs script against obj (an unstructured object as the API server returns it).
func Evaluate(script string, obj map[string]any) (Health, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for name, open := range map[string]lua.LGFunction{lua.LoadLibName: lua.OpenPackage, lua.BaseLibName: lua.OpenBase, lua.TabLibName: lua.OpenTable} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(open), Protect: true}, lua.LString(name)); err != nil {
			return Health{}, fmt.Errorf("opening the Lua %q library: %w", name, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return Health{}, err
	}
	ret, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return Health{}, fmt.Errorf("expect table output from Lua script, not %s", l.Get(-1).Type())
	}
	var h Health
	for field, into := range map[string]*string{"status": &h.Status, "message": &h.Message} {
		switch v := ret.RawGetString(field).(type) {
		case lua.LString:
			*into = string(v)
		case *lua.LNilType:
		default:
			// Argo CD decodes the table through JSON into strings: anything else fails there.
			return Health{}, fmt.Errorf("the health script returned %s = %s (a %s), want a string", field, v.String(), v.Type())
		}
	}
	if !slices.Contains([]string{Healthy, Progressing, Degraded, Suspended, Missing, Unknown}, h.Status) {
		return Health{Status: Unknown, Message: InvalidStatusMessage}, nil
	}
	return h, nil
}

// toLua converts a decoded JSON value into Lua values as Argo CD does (json.Number becomes a
// string there, and so here).
func toLua(l *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case json.Number:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case int32:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case []any:
		t := l.CreateTable(len(v), 0)
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]any:
		t := l.CreateTable(0, len(v))
		for k, item := range v {
			t.RawSetString(k, toLua(l, item))
		}
		return t
	default:
		return lua.LNil
	}
}
