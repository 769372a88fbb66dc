package simulate

import (
	"errors"
	"fmt"
)

// Exit codes of kubectl-microseg simulate.
const (
	// ExitOK: the simulation ran and its result was printed.
	ExitOK = 0
	// ExitInput: something the user gives needs fixing (a flag, a path, a manifest); the message
	// says what.
	ExitInput = 1
	// ExitInternal: the manifests were read but the pipeline failed on them. That is a microseg
	// bug; the message is worth a bug report.
	ExitInternal = 2
	// ExitOverBudget: with --budget, the manifests need more of NSX than the budget allows (the
	// report was printed).
	ExitOverBudget = 3
	// ExitInterrupted: stopped by SIGINT or SIGTERM before the output was written (128 + SIGINT,
	// as shells report it).
	ExitInterrupted = 130
)

// inputError marks an error the user fixes, as opposed to a failure of the pipeline.
type inputError struct{ err error }

func (e inputError) Error() string { return e.err.Error() }
func (e inputError) Unwrap() error { return e.err }

func inputErrorf(format string, args ...any) error {
	return inputError{fmt.Errorf(format, args...)}
}

// ExitCode maps an error of ParseArgs or Simulate to the process exit code.
func ExitCode(err error) int {
	var in inputError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &in):
		return ExitInput
	default:
		return ExitInternal
	}
}

// InputErrorf is an error the user fixes (ExitCode maps it to ExitInput): the other
// kubectl-microseg commands share simulate's exit codes.
func InputErrorf(format string, args ...any) error { return inputErrorf(format, args...) }

// ExitMismatch is the exit code of a check that found what it was asked to look for: a diff with
// --fail-on-flip that found flips, an explain whose Traceflow disagrees with the policies.
const ExitMismatch = 3
