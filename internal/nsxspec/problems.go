package nsxspec

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnknownOperation is wrapped by the error ValidateRequest and ValidateResponse return when no
// operation of the spec matches the method and path, so callers can tell "not an NSX API call"
// from "a malformed NSX API call".
var ErrUnknownOperation = errors.New("no operation in the NSX API spec")

// Problem is one violation of the spec, located by a JSON path into the body
// ("rules[3].services[0].service.l4_protocol") or, for parameters, by "?name" / "{name}".
type Problem struct {
	Path    string
	Message string
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// maxListedProblems bounds the error text: a 1000-rule section with one systematic mistake would
// otherwise produce a thousand identical lines.
const maxListedProblems = 50

// ValidationError lists every problem found in one document or exchange.
type ValidationError struct {
	// Subject says what was validated: a definition name, or "request POST /api/v1/..." and
	// "response 200 to GET /api/v1/..." for exchanges.
	Subject  string
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s does not conform to the NSX API spec (%d problem", e.Subject, len(e.Problems))
	if len(e.Problems) != 1 {
		b.WriteString("s")
	}
	b.WriteString("):")
	for i, p := range e.Problems {
		if i == maxListedProblems {
			fmt.Fprintf(&b, "\n\t... and %d more", len(e.Problems)-i)
			break
		}
		b.WriteString("\n\t")
		b.WriteString(p.String())
	}
	return b.String()
}

// problems accumulates Problems during one validation.
type problems []Problem

func (ps *problems) add(path, format string, args ...any) {
	*ps = append(*ps, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// asError turns the accumulated problems into an error, or nil when there are none.
func (ps problems) asError(subject string) error {
	if len(ps) == 0 {
		return nil
	}
	return &ValidationError{Subject: subject, Problems: ps}
}

// joinPath builds "a.b" and "a[3]" paths; the root is the empty string.
func joinPath(parent, property string) string {
	if parent == "" {
		return property
	}
	return parent + "." + property
}

func indexPath(parent string, i int) string {
	return fmt.Sprintf("%s[%d]", parent, i)
}
