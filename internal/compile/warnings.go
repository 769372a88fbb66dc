package compile

import (
	"slices"
	"strings"

	"github.com/microseg/microseg/internal/ir"
)

// warnings collects warnings, without duplicates.
type warnings struct {
	seen map[ir.Warning]bool
	list []ir.Warning
}

func (w *warnings) add(x ir.Warning) {
	if w.seen == nil {
		w.seen = map[ir.Warning]bool{}
	}
	if w.seen[x] {
		return
	}
	w.seen[x] = true
	w.list = append(w.list, x)
}

// sorted returns the warnings ordered by object, rule, code, message.
func (w *warnings) sorted() []ir.Warning {
	out := slices.Clone(w.list)
	slices.SortFunc(out, compareWarnings)
	return out
}

func compareWarnings(a, b ir.Warning) int {
	if a.Object != b.Object {
		if a.Object.Less(b.Object) {
			return -1
		}
		return 1
	}
	if c := strings.Compare(a.Rule, b.Rule); c != 0 {
		return c
	}
	if c := strings.Compare(a.Code, b.Code); c != 0 {
		return c
	}
	return strings.Compare(a.Message, b.Message)
}

// ruleCtx is the source rule being compiled, for warnings.
type ruleCtx struct {
	w    *warnings
	obj  ir.ObjectRef
	rule string
}

func (r *ruleCtx) warn(code, msg string) {
	r.w.add(ir.Warning{Object: r.obj, Rule: r.rule, Code: code, Message: msg})
}
