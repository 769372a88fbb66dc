package simulate

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/microseg/microseg/internal/ir"
)

// Command runs "kubectl-microseg simulate" with the arguments after the subcommand and returns
// the exit code. Results go to stdout; warnings, notes and errors to stderr, so that stdout is
// only the table or only JSON.
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, err := ParseArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, Usage)
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "kubectl-microseg simulate: %v\nRun 'kubectl-microseg simulate --help' for usage.\n", err)
		return ExitCode(err)
	}
	res, err := Simulate(ctx, opts)
	if err != nil && ctx.Err() != nil {
		fmt.Fprintln(stderr, "kubectl-microseg simulate: interrupted")
		return ExitInterrupted
	}
	if err != nil {
		fmt.Fprintf(stderr, "kubectl-microseg simulate: %v\n", err)
		if ExitCode(err) == ExitInternal {
			fmt.Fprintln(stderr, "This is a microseg bug; please report it with the manifests that caused it.")
		}
		return ExitCode(err)
	}
	WriteDiagnostics(stderr, res)
	if opts.Budget {
		return writeBudget(stdout, stderr, res, opts)
	}
	if err := Write(stdout, res, opts, "kubectl microseg simulate -f "+strings.Join(opts.Paths, " -f ")); err != nil {
		fmt.Fprintf(stderr, "kubectl-microseg simulate: writing the output: %v\n", err)
		return ExitCode(err)
	}
	return ExitOK
}

// Write prints a result in the format opts.Output names: the table, JSON Lines or the HTML page,
// of pods, or of groups with opts.GroupBy. title heads the HTML page.
func Write(w io.Writer, res *Result, opts Options, title string) error {
	switch {
	case opts.Output == OutputHTML:
		return WriteHTML(w, res, title)
	case opts.Output == OutputJSON && res.Groups != nil:
		return WriteGroupJSON(w, res)
	case opts.Output == OutputJSON:
		return WriteJSON(w, res)
	case res.Groups != nil:
		return WriteGroupTable(w, res, opts)
	}
	return WriteTable(w, res, opts)
}

// WriteDiagnostics prints the compiler's warnings and the run's notes, one per line, with a
// prefix that grep can select.
func WriteDiagnostics(w io.Writer, res *Result) {
	for _, warn := range res.Warnings {
		fmt.Fprintf(w, "warning: %s\n", formatWarning(warn))
	}
	for _, n := range res.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

func formatWarning(w ir.Warning) string {
	where := w.Object.String()
	if w.Rule != "" {
		where += " rule " + w.Rule
	}
	return fmt.Sprintf("%s: %s: %s", where, w.Code, w.Message)
}
