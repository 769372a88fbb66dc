// Command kubectl-microseg is microseg's command-line tool, also usable as the kubectl plugin
// "kubectl microseg" when it is on PATH (make build puts it in bin/).
//
//	kubectl-microseg simulate -f config/samples/
//	kubectl-microseg version
//	kubectl-microseg help
//
// The subcommands live in internal packages (simulate: internal/simulate); this file only
// dispatches, with the standard flag package, so the tool adds no dependency.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/microseg/microseg/internal/simulate"
)

const usage = `kubectl-microseg: microseg's command-line tool (also "kubectl microseg" with it on PATH).

Usage:
  kubectl-microseg simulate -f FILE_OR_DIR... [flags]   what-if: reachability of every pod pair, offline
  kubectl-microseg version                               print the version
  kubectl-microseg help [simulate]                       this help, or a subcommand's

Run 'kubectl-microseg simulate --help' for the simulate flags and examples.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return simulate.ExitInput
	}
	switch args[0] {
	case "simulate":
		return simulate.Command(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, versionString())
		return simulate.ExitOK
	case "help", "-h", "--help":
		if len(args) > 1 && args[1] == "simulate" {
			fmt.Fprint(stdout, simulate.Usage)
		} else {
			fmt.Fprint(stdout, usage)
		}
		return simulate.ExitOK
	default:
		fmt.Fprintf(stderr, "kubectl-microseg: unknown command %q; the commands are simulate, version and help\n", args[0])
		return simulate.ExitInput
	}
}
