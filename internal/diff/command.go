package diff

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/microseg/microseg/internal/simulate"
)

// Command runs "kubectl-microseg diff" and returns the exit code (0, 1 input, 2 internal, 3 the
// head over the NSX budget, or flips found with --fail-on-flip).
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, err := ParseArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, Usage)
		return simulate.ExitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "kubectl-microseg diff: %v\nRun 'kubectl-microseg diff --help' for usage.\n", err)
		return simulate.ExitCode(err)
	}
	r, err := Run(ctx, opts)
	if err != nil && ctx.Err() != nil {
		fmt.Fprintln(stderr, "kubectl-microseg diff: interrupted")
		return simulate.ExitInterrupted
	}
	if err != nil {
		fmt.Fprintf(stderr, "kubectl-microseg diff: %v\n", err)
		return simulate.ExitCode(err)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(stderr, "note: %s\n", n)
	}
	title := "kubectl microseg diff --base " + strings.Join(opts.Base, ",") + " --head " + strings.Join(opts.Head, ",")
	switch opts.Probe.Output {
	case simulate.OutputJSON:
		err = WriteJSON(stdout, r)
	case OutputMarkdown:
		err = WriteMarkdown(stdout, r)
	case simulate.OutputHTML:
		err = WriteHTML(stdout, r, title)
	default:
		err = WriteText(stdout, r)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kubectl-microseg diff: writing the output: %v\n", err)
		return simulate.ExitCode(err)
	}
	if over := r.Budget.Over(); len(over) > 0 {
		fmt.Fprintf(stderr, "kubectl-microseg diff: the head is over microseg's NSX budget (%s): the operator would refuse it\n", strings.Join(over, ", "))
		return simulate.ExitOverBudget
	}
	if opts.FailOnFlip && len(r.Flips) > 0 {
		fmt.Fprintf(stderr, "kubectl-microseg diff: %d connections flip (--fail-on-flip)\n", len(r.Flips))
		return simulate.ExitMismatch
	}
	return simulate.ExitOK
}
