// Command kubectl-microseg is microseg's command-line tool, also usable as the kubectl plugin
// "kubectl microseg" when it is on PATH (make build puts it in bin/).
//
//	kubectl-microseg simulate -f config/samples/
//	kubectl-microseg explain x1/service-a-0 z1/service-d-0 --port 8080
//	kubectl-microseg matrix
//	kubectl-microseg diff --base -f old/ --head -f new/
//	kubectl-microseg version
//	kubectl-microseg help
//
// The subcommands live in internal packages (internal/simulate, internal/explain,
// internal/matrix, internal/diff); this file only dispatches.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/microseg/microseg/internal/diff"
	"github.com/microseg/microseg/internal/explain"
	"github.com/microseg/microseg/internal/matrix"
	"github.com/microseg/microseg/internal/simulate"
)

const usage = `kubectl-microseg: microseg's command-line tool (also "kubectl microseg" with it on PATH).

Usage:
  kubectl-microseg simulate -f FILE_OR_DIR... [flags]   what-if: reachability of every pod pair, offline
  kubectl-microseg explain SRC DST [--port P] [flags]    who decides a connection on the live cluster, and where in NSX
  kubectl-microseg matrix [--by LABEL] [flags]           reachability of the live cluster, grouped by a label
  kubectl-microseg diff --base -f … --head -f …          connections a change flips, and what it does to NSX
  kubectl-microseg version                               print the version
  kubectl-microseg help [COMMAND]                        this help, or a command's

Run 'kubectl-microseg COMMAND --help' for a command's flags and examples.
`

// command is one subcommand: what runs it and its help.
type command struct {
	run   func(ctx context.Context, args []string, stdout, stderr io.Writer) int
	usage string
}

var commands = map[string]command{
	"simulate": {simulate.Command, simulate.Usage},
	"explain":  {explain.Command, explain.Usage},
	"matrix":   {matrix.Command, matrix.Usage},
	"diff":     {diff.Command, diff.Usage},
}

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
	if c, ok := commands[args[0]]; ok {
		return c.run(ctx, args[1:], stdout, stderr)
	}
	switch args[0] {
	case "version", "--version":
		fmt.Fprintln(stdout, versionString())
		return simulate.ExitOK
	case "help", "-h", "--help":
		if c, ok := commands[arg(args, 1)]; ok {
			fmt.Fprint(stdout, c.usage)
		} else {
			fmt.Fprint(stdout, usage)
		}
		return simulate.ExitOK
	default:
		fmt.Fprintf(stderr, "kubectl-microseg: unknown command %q; the commands are simulate, explain, matrix, diff, version and help\n", args[0])
		return simulate.ExitInput
	}
}

func arg(args []string, i int) string {
	if i < len(args) {
		return args[i]
	}
	return ""
}
